"""Rich rendering of an RF verification (`cnncalc verify --rf`): formatting only."""
from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from .fit import as_text
from .safe import markup
from .tables import shape


def _axes(values) -> str:
    return "×".join(str(v) for v in values) if len(set(values)) > 1 else str(values[0])


def _region(r: list[int]) -> str:
    return f"[{r[0]}, {r[1]}]" if r else "nothing"


def rf_verification_table(v) -> Table:
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (("", "left"), ("layer", "left"), ("type", "left"), ("r", "right"), ("j", "right"),
                      ("P", "right"), ("seen of r", "right"), ("unit 0 sees (cnncalc)", "left"), ("torch", "left")):
        t.add_column(col, justify=just, no_wrap=col != "layer", overflow="fold")
    for row in v.layers:
        mark = Text("✓", style="green") if row.ok else Text("✗", style="bold red")
        if not row.checked:
            mark = Text("=", style="dim")
        elif row.bound and row.ok:
            mark = Text("⊇", style="green")
        a = row.axes
        seen = _axes(["–" if x.seen is None else x.seen for x in a])
        if any(x.seen is not None and isinstance(x.size, int) and x.seen < x.size for x in a):
            seen += " holes"
        ours = " × ".join(_region(x.region) for x in a)
        theirs = " × ".join(_region(x.torch_region) for x in a)
        t.add_row(mark, as_text(row.name), as_text(row.type), _axes([x.size for x in a]), _axes([x.stride for x in a]),
                  _axes([x.padding for x in a]), seen, ours,
                  Text(theirs, style="bold red" if ours != theirs and not (row.bound and row.ok) else "dim"))
    return t


def print_rf_verification(v, console) -> None:
    src = f", reduced from {shape(v.reduced_from)} to keep the oracle affordable" if v.reduced_from else ""
    console.print(f"[bold]{markup(v.name)}[/bold]  receptive field against autograd, input {shape(v.input)}{src}\n"
                  "[dim]the network made linear and monotone (positive weights, norms and activations as identity, "
                  "max pools as positive averages); a unit's field = the input positions with a non-zero "
                  "gradient. = : the same field as the row above, checked there"
                  + ("; ⊇ : a declared upper bound (after a permute of a multi-axis map), the gradient's support "
                     "inside it" if any(r.bound for r in v.layers) else "") + "[/dim]", highlight=False)
    console.print(rf_verification_table(v))
    whole = sum(1 for r in v.layers if r.checked and not r.bound and all(x.whole for x in r.axes))
    bound = sum(1 for r in v.layers if r.bound)
    if v.ok:
        console.print(Text(f"✓ all {len(v.layers)} spatial layers agree with the gradient's support "
                           f"({v.checked} run backward, {whole} of them with a field clear of the borders, so r, j, P "
                           f"and holes checked whole" + (f"; {bound} inside a declared upper bound" if bound else "")
                           + f") in {v.seconds:.1f} s", style="bold green"))
        return
    console.print(Text(f"✗ {v.mismatches} of {len(v.layers)} spatial layers disagree with the gradient's support",
                       style="bold red"))
    for r in [r for r in v.layers if r.mismatches and r.checked][:20]:
        console.print(Text(f"  {r.name}: {'; '.join(r.mismatches[:3])}", style="red"))
