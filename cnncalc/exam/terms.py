"""The terms of each layer kind's output-size formula, and the mistakes a student makes on them.

Why here, in exam/, and not in the layer classes: a layer class owns its one true formula (and
layers/ may not import exam/); the ways a student gets a term wrong, and how each mistake is
written back to them, are the exam's vocabulary. The terms are read from the layers' public fields
(kernel, stride, pads(), dilation, ceil_mode, output_padding, sides()) and every term set is checked
against the layer's own output before a mistake is tried, so a kind whose formula changes is never
explained with a stale copy: `terms_of` then returns None and no slip is offered for it.

    window      conv, max/avg pool   ⌊(n + p_before + p_after − d·(k − 1) − 1)/s⌋ + 1 (⌈⌉ for a ceil pool)
    transposed  conv_transpose       (n − 1)·s − p_before − p_after + d·(k − 1) + 1 + output_padding
    pad         pad                  n + p_before + p_after

A `Mistake` changes terms (the stride to 1, the padding to one side, floor for ceil, the other
kind's formula, …); `Axis.text` writes the changed formula with the exercise's numbers and its value,
so the arithmetic shown is the arithmetic done.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

from ..analysis import formulas as f


@dataclass(frozen=True)
class Axis:
    """One spatial axis of one layer's output-size formula, as its terms."""
    form: str                # window | transposed | pad (the formula used: a mistake may swap it)
    n: int
    k: int = 1
    s: int = 1
    d: int = 1
    pb: int = 0
    pa: int = 0
    op: int = 0              # output_padding of a transposed conv
    ceil: bool = False
    drop: bool = False       # PyTorch's ceil pool: a last window that would start in the right padding is dropped
    plus_one: bool = True    # the + 1 of the window formula
    span: str = "dk1"        # the kernel's span: d·(k − 1) + 1 | k (dilation ignored) | dk (taken as d·k)
    pad_sign: int = -1       # a transposed conv removes its padding (+1: added instead)
    n_minus_one: bool = True  # (n − 1)·s of the transposed formula (False: n·s)

    def span_value(self) -> int:
        return {"dk1": f.effective_kernel(self.k, self.d), "k": self.k, "dk": self.d * self.k}[self.span]

    def value(self) -> int:
        if self.form == "pad":
            return self.n + self.pb + self.pa
        if self.form == "transposed":
            return ((self.n - 1) if self.n_minus_one else self.n) * self.s + self.pad_sign * (self.pb + self.pa) \
                + self.span_value() + self.op
        num = self.n + self.pb + self.pa - self.span_value()
        out = (-(-num // self.s) if self.ceil else num // self.s) + (1 if self.plus_one else 0)
        return out - (1 if self._dropped(out) else 0)

    def _dropped(self, out: int) -> bool:
        return self.form == "window" and self.ceil and self.drop and self.plus_one and (out - 1) * self.s >= \
            self.n + self.pb

    def _pads(self, sign: str) -> str:
        if not (self.pb or self.pa):
            return ""
        if self.pb == self.pa:
            return f" {sign} 2·{self.pb}"
        if not self.pa:
            return f" {sign} {self.pb}"
        return f" {sign} {self.pb} {sign} {self.pa}"

    def _span_text(self, sign: str) -> str:
        if self.span == "dk":
            return f" {sign} {self.d}·{self.k}"
        if self.span == "k" or self.d == 1:
            return f" {sign} {self.k}"
        inner = f"{self.d}·({self.k} − 1)"
        return f" − {inner} − 1" if sign == "−" else f" + {inner} + 1"

    def text(self) -> str:
        """The formula with this exercise's numbers, and its value: ⌊(227 − 11)/4⌋ + 1 = 55."""
        if self.form == "pad":
            return f"{self.n}{self._pads('+')} = {self.value()}"
        if self.form == "transposed":
            head = f"({self.n} − 1)·{self.s}" if self.n_minus_one else f"{self.n}·{self.s}"
            body = head + self._pads("+" if self.pad_sign > 0 else "−") + self._span_text("+")
            return body + (f" + {self.op}" if self.op else "") + f" = {self.value()}"
        lo, hi = ("⌈", "⌉") if self.ceil else ("⌊", "⌋")
        body = f"{lo}({self.n}{self._pads('+')}{self._span_text('−')})/{self.s}{hi}"
        num = self.n + self.pb + self.pa - self.span_value()
        out = (-(-num // self.s) if self.ceil else num // self.s) + (1 if self.plus_one else 0)
        body += " + 1" if self.plus_one else ""
        body += " − 1" if self._dropped(out) else ""
        return f"{body} = {self.value()}"


@dataclass(frozen=True)
class Terms:
    """A layer's output shape as terms: the channels and one `Axis` per spatial axis."""
    kind: str                # conv | pool | transposed | pad
    c_in: int
    c_out: int
    axes: tuple[Axis, ...]
    channels: str = "own"    # own (c_out) | input (kept the input's) | window (the channels pooled or padded too)

    def channel_value(self) -> int:
        if self.channels == "input":
            return self.c_in
        if self.channels == "window":
            return replace(self.axes[0], n=self.c_in).value()
        return self.c_out

    def shape(self) -> tuple:
        return (self.channel_value(),) + tuple(a.value() for a in self.axes)

    def text(self) -> str:
        """Each distinct axis's formula (`H = W:` when they agree), the channels where a mistake changed them."""
        parts = _axis_texts(self.axes)
        if self.channels == "window":
            parts.append(f"C: {replace(self.axes[0], n=self.c_in).text()}")
        return "; ".join(parts)


AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _axis_texts(axes: tuple[Axis, ...]) -> list[str]:
    if len(set(axes)) == 1:
        label = " = ".join(AXIS_NAMES[len(axes)]) if len(axes) > 1 else AXIS_NAMES[1][0]
        return [f"{label}: {axes[0].text()}"]
    return [f"{name}: {a.text()}" for name, a in zip(AXIS_NAMES[len(axes)], axes)]


def terms_of(layer, in_shape: tuple) -> Optional[Terms]:
    """The output-size terms of a conv, pool, transposed conv or pad layer on this input; None otherwise
    (or where they do not reproduce the layer's own output)."""
    sizes, c = in_shape[1:], in_shape[0]
    kind = layer.type
    if kind.startswith("conv_transpose"):
        axes = tuple(Axis("transposed", n, k, s, d, p, p, op) for n, k, s, p, op, d in layer.per_axis([in_shape]))
        terms = Terms("transposed", c, layer.filters, axes)
    elif kind.startswith("conv"):
        axes = tuple(Axis("window", n, k, s, d, pb, pa) for n, k, s, d, (pb, pa)
                     in zip(sizes, layer.kernel, layer.stride, layer.dilation, layer.pads()))
        terms = Terms("conv", c, layer.filters, axes)
    elif kind.startswith(("maxpool", "avgpool")):
        axes = tuple(Axis("window", n, k, s, d, p, p, ceil=layer.ceil_mode, drop=layer.ceil_mode)
                     for n, k, s, p, d in zip(sizes, layer.kernel, layer.strides, layer.padding, layer.dilations))
        terms = Terms("pool", c, c, axes)
    elif kind == "pad":
        axes = tuple(Axis("pad", n, pb=b, pa=a) for n, (b, a) in zip(sizes, layer.sides(len(sizes))))
        terms = Terms("pad", c, c, axes)
    else:
        return None
    try:
        ok = terms.shape() == tuple(layer.output_shape([in_shape]))
    except Exception:   # noqa: BLE001 — a layer that refuses this input has no terms to perturb
        return None
    return terms if ok else None


# --------------------------------------------------------------------------------------
# The mistakes: each changes terms where they exist; `why` says what the right term is


@dataclass(frozen=True)
class Mistake:
    name: str
    prior: int                                     # lower = more common; orders the names said together
    axis: Optional[Callable[[Terms, Axis], Optional[Axis]]] = None   # per axis (None: not applicable)
    node: Optional[Callable[[Terms], Optional[Terms]]] = None        # the whole layer (channels, formula)
    why: Callable[[Terms], str] = lambda t: ""

    def apply(self, t: Terms) -> Optional[Terms]:
        if self.node is not None:
            return self.node(t)
        axes = [self.axis(t, a) for a in t.axes]
        if all(a is None for a in axes):
            return None
        new = tuple(b if b is not None else a for a, b in zip(t.axes, axes))
        return replace(t, axes=new) if new != t.axes else None


def _when(cond: Callable[[Terms, Axis], bool], change: Callable[[Axis], Axis]):
    return lambda t, a: change(a) if cond(t, a) else None


def _inexact(a: Axis) -> bool:
    return (a.n + a.pb + a.pa - a.span_value()) % a.s != 0


def _swap_form(t: Terms) -> Optional[Terms]:
    if t.kind not in ("conv", "transposed"):
        return None
    form = "window" if t.kind == "transposed" else "transposed"
    return replace(t, axes=tuple(replace(a, form=form, op=0 if form == "window" else a.op, pad_sign=-1)
                                 for a in t.axes))


def _depth_kept(t: Terms) -> Optional[Terms]:
    return replace(t, channels="input") if t.kind in ("conv", "transposed") and t.c_in != t.c_out else None


def _channels_too(t: Terms) -> Optional[Terms]:
    if t.kind not in ("pool", "pad"):
        return None
    alt = replace(t, channels="window")
    return alt if alt.channel_value() != t.c_out and alt.channel_value() >= 1 else None


def _read_as_wh(fields: tuple[str, ...]):
    """A 2-D layer's (h, w) pairs read as (w, h): these per-axis terms exchanged between H and W."""
    def change(t: Terms) -> Optional[Terms]:
        if len(t.axes) != 2 or t.kind == "pad":
            return None
        h, w = t.axes
        if all(getattr(h, f) == getattr(w, f) for f in fields):
            return None
        return replace(t, axes=(replace(h, **{f: getattr(w, f) for f in fields}),
                                replace(w, **{f: getattr(h, f) for f in fields})))
    return change


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


MISTAKES: tuple[Mistake, ...] = (
    Mistake("padding forgotten", 1, _when(lambda t, a: bool(a.pb or a.pa) and a.form != "pad",
                                          lambda a: replace(a, pb=0, pa=0)),
            why=lambda t: "the padding belongs in the formula" if t.kind != "transposed" else
            "a transposed conv's padding removes p from each side: − 2·p"),
    Mistake("stride forgotten", 1, _when(lambda t, a: a.s > 1 and a.form != "pad", lambda a: replace(a, s=1)),
            why=lambda t: "the stride multiplies n − 1" if t.kind == "transposed" else "the stride divides the span"),
    Mistake("floor vs ceil", 1, _when(lambda t, a: a.form == "window" and _inexact(a),
                                      lambda a: replace(a, ceil=not a.ceil, drop=False)),
            why=lambda t: "conv output sizes use floor" if t.kind == "conv" else
            f"this pool uses {'ceil (ceil_mode: true)' if t.axes[0].ceil else 'floor (PyTorch’s default)'}"),
    Mistake("+1 forgotten", 1, _when(lambda t, a: a.form == "window", lambda a: replace(a, plus_one=False, drop=False)),
            why=lambda t: "the first window counts too: + 1"),
    Mistake("same padding assumed", 2, _when(lambda t, a: t.kind == "conv" and not (a.pb or a.pa) and a.s == 1
                                             and a.span_value() % 2 == 1 and a.span_value() > 1,
                                             lambda a: replace(a, pb=a.span_value() // 2, pa=a.span_value() // 2)),
            why=lambda t: "this conv has no padding (valid): each k-wide window shrinks the map by k − 1"),
    Mistake("padding on one side only", 2, _when(lambda t, a: bool(a.pb and a.pa), lambda a: replace(a, pa=0)),
            why=lambda t: "the padding is added on both sides"),
    Mistake("padding on both sides", 2, _when(lambda t, a: a.pb != a.pa,
                                              lambda a: replace(a, pb=max(a.pb, a.pa), pa=max(a.pb, a.pa))),
            why=lambda t: "this padding is one-sided"),
    Mistake("dilation ignored", 2, _when(lambda t, a: a.d > 1, lambda a: replace(a, span="k")),
            why=lambda t: "a dilated kernel spans d·(k − 1) + 1"),
    Mistake("dilation taken as d·k", 2, _when(lambda t, a: a.d > 1, lambda a: replace(a, span="dk")),
            why=lambda t: "a dilated kernel spans d·(k − 1) + 1"),
    Mistake("padding added instead of removed", 1,
            _when(lambda t, a: a.form == "transposed" and bool(a.pb or a.pa), lambda a: replace(a, pad_sign=1)),
            why=lambda t: "a transposed conv's padding removes p from each side: − 2·p"),
    Mistake("output_padding forgotten", 1, _when(lambda t, a: a.form == "transposed" and a.op > 0,
                                                 lambda a: replace(a, op=0)),
            why=lambda t: "output_padding adds to one side of the output"),
    Mistake("n·s instead of (n − 1)·s", 2, _when(lambda t, a: a.form == "transposed",
                                                 lambda a: replace(a, n_minus_one=False)),
            why=lambda t: "the first input places the kernel at 0: (n − 1)·s + k"),
    Mistake("conv formula for a transposed conv", 1, node=lambda t: _swap_form(t) if t.kind == "transposed" else None,
            why=lambda t: "a transposed conv grows the map: (n − 1)·s − 2·p + k"),
    Mistake("transposed-conv formula for a conv", 3, node=lambda t: _swap_form(t) if t.kind == "conv" else None,
            why=lambda t: "a conv shrinks the map: ⌊(n + 2·p − k)/s⌋ + 1"),
    Mistake("kernel read as (w, h)", 2, node=_read_as_wh(("k", "d")),
            why=lambda t: "a kernel pair is (h, w): the first number spans the height"),
    Mistake("(h, w) pairs read as (w, h)", 2, node=_read_as_wh(("k", "d", "s", "pb", "pa", "op")),
            why=lambda t: "kernel, stride and padding pairs are (h, w): the first number is the height's"),
    Mistake("output depth taken as input depth", 1, node=_depth_kept,
            why=lambda t: f"a conv has one output channel per filter: {_plural(t.c_out, 'filter')}"),
    Mistake("channels treated as a spatial axis", 2, node=_channels_too,
            why=lambda t: ("pooling" if t.kind == "pool" else "padding") + " acts on each channel's map; the "
                          f"channels stay {t.c_in}"),
)
