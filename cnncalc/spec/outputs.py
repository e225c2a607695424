"""`outputs: [name, …]`: the layers a network returns, and the rule that every layer reaches one.

Called by the builder once the layers are built: names are resolved against the top-level names
(a layer, a block or repeat — its last layer) or the dotted layer names; then every layer that runs
at inference must reach an output, so that every figure reported is work done for an output.
"""
from __future__ import annotations

from ..analysis.graph import INPUT
from ..errors import quote, suggest
from .yamlio import line_of


def resolve_outputs(b, doc, top) -> None:
    """Set `b.graph.outputs` from `outputs:` (absent: the last layer, which must run at inference),
    then refuse a layer that feeds no output. `b` is the Builder, `top` the top-level Scope."""
    g = b.graph
    if "outputs" not in doc:
        last = g.nodes[-1]
        if last.train_only:
            raise b.err("the network's last layer is train_only: the output must run at inference "
                        "(or name the outputs in `outputs:`)", last.line, last.path)
    else:
        names, line = doc["outputs"], line_of(doc, "outputs")
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or not names:
            raise b.err(f"outputs: expected a list of layer names such as [out, aux], got {quote(names)}", line, "outputs")
        for nm in names:
            idx = output_node(b, nm, top, line)
            if idx in g.outputs:
                raise b.err(f"outputs: {quote(nm)} is listed twice", line, "outputs")
            g.outputs.append(idx)
    check_reach(b)


def output_node(b, nm, top, line: int | None) -> int:
    """The node a name in `outputs:` stands for."""
    if not isinstance(nm, (str, int)) or isinstance(nm, bool):
        raise b.err(f"outputs: expected layer names, got {quote(nm)}", line, "outputs")
    nm = str(nm)
    if nm == "input":
        raise b.err("outputs: 'input' is the network's input, not a layer's output", line, "outputs")
    idx = top.local.get(nm, b.names.get(nm))
    if idx is None and nm in top.local:
        raise b.err(f"outputs: {quote(nm)} is never produced (it has repeat: 0)", line, "outputs")
    if idx is None:
        raise b.err(f"outputs: no layer named {quote(nm)}{suggest(nm, list(top.local) + list(b.names))}", line, "outputs")
    if idx == INPUT:
        raise b.err(f"outputs: {quote(nm)} is never produced (it is the input: its layers have repeat: 0)", line, "outputs")
    if b.graph.nodes[idx].train_only:
        raise b.err(f"outputs: {quote(nm)} is train_only: it is never produced at inference", line, "outputs")
    return idx


def check_reach(b) -> None:
    """A layer that runs at inference and reaches no output is an error naming the first dead end
    (a layer no other dead layer reads: listing it in `outputs:` would fix the layers before it)."""
    g = b.graph
    reach = g.reaching()
    dead = [i for i, nd in enumerate(g.nodes) if not reach[i] and not nd.train_only]
    if not dead:
        return
    read = {j for i in dead for j in g.nodes[i].inputs}
    ends = [i for i in dead if i not in read]
    nd = g.nodes[ends[0]]
    more = ""
    if len(ends) > 1:
        more = f" (so do {', '.join(g.nodes[i].name for i in ends[1:4])}{', …' if len(ends) > 4 else ''})"
    raise b.err(f"{nd.name} feeds no output: list it in `outputs:`, mark it `train_only`, or remove it" + more,
                nd.line, nd.path)
