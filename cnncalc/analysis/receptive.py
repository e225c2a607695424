"""Receptive field through the graph, per axis (Araujo et al., Distill 2019).

State per axis: size r, effective stride j (product of strides), effective padding P
(how far the field of output unit 0 starts before the input). Where paths meet, the
larger field wins; paths whose stride or centre differ are reported as misaligned. A
broadcast 1×1 input (squeeze-and-excitation) adds global context but no spatial field.
"""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple, Union

from . import formulas as f
from .graph import INPUT, Graph
from ..layers.base import AXES

Num = Union[int, Fraction]  # a transposed conv or an upsampling makes the stride (and so r, P) fractional


class Axis(NamedTuple):
    r: Num = 1
    j: Num = 1
    P: Num = 0

    @property
    def centre2(self) -> int:
        """Twice the centre of unit 0's field, (r − 1) − 2P, kept integral."""
        return self.r - 1 - 2 * self.P


START = (Axis(), Axis())


def start_of(graph: Graph) -> tuple[Axis, ...]:
    """One axis per spatial axis of the input (H, W for C×H×W; two for a vector, as before maps)."""
    return (Axis(),) * (len(graph.input) - 1) if len(graph.input) > 1 else START


def num(x: Num) -> Union[int, str]:
    """An int, or a fraction written as text ('1/2') where the stride went below one pixel."""
    return int(x) if not isinstance(x, Fraction) or x.denominator == 1 else str(x)


def receptive_fields(graph: Graph) -> tuple[list[tuple[Axis, ...]], dict[int, str]]:
    """Per node state (one Axis per spatial axis); and a note per merge node whose paths are misaligned."""
    steps_of: dict = {}  # equal layers on equal inputs share their steps
    steps, spatial = [], {}
    for idx, node in enumerate(graph.nodes):
        key = (id(node.layer), *node.in_shapes)  # the graph holds its layers: ids are unique meanwhile
        steps.append(steps_of[key] if key in steps_of else steps_of.setdefault(key, node.layer.rf_steps(node.in_shapes)))
        if len(node.inputs) > 1:
            spatial[idx] = spatial_paths(node.in_shapes, node.out_shape, node.layer)
    states: list[tuple[Axis, ...]] = []
    misaligned: dict[int, str] = {}
    propagate([nd.inputs for nd in graph.nodes], steps, spatial, [nd.name for nd in graph.nodes], states, misaligned,
              first=start_of(graph))
    return states, misaligned


def spatial_paths(in_shapes, out_shape, layer=None) -> tuple:
    """Per input of a node with several, its offsets on each axis if it is a spatial path (zeros, or the units a
    cropping concat drops), or None: a broadcast 1×1 input (squeeze-and-excitation's channel weights) brings
    global context but no position, and an upsample's `size_of` layer gives only its size."""
    offsets = layer.rf_offsets(in_shapes) if layer is not None else None
    if offsets:
        return tuple(offsets)
    used = (layer.rf_inputs if layer is not None else 0) or len(in_shapes)
    zero = (0,) * (len(out_shape) - 1)
    return tuple(zero if i < used and s[1:] == out_shape[1:] or i < used < len(in_shapes) else None
                 for i, s in enumerate(in_shapes))


def propagate(inputs: list[list[int]], steps: list, spatial: dict[int, tuple], names: list[str], states: list,
              misaligned: dict, start: int = 0, bad_axes: dict | None = None, first: tuple | None = None) -> None:
    """Extend `states` (and `misaligned`, and `bad_axes`: merge → the misaligned axes) from node `start`
    on, the states before it kept: per node, its per-axis `steps` (None for layers that act per element)
    and for a merge its spatial paths (spatial_paths). `first`: the input's state (default: one Axis per
    spatial axis the steps have, two without any)."""
    del states[start:]
    bad_axes = {} if bad_axes is None else bad_axes
    for idx in [i for i in misaligned if i >= start]:
        del misaligned[idx]
        bad_axes.pop(idx, None)
    if first is None:
        first = next(((Axis(),) * len(s) for s in steps if s is not None), START)
    regrid = regridded(inputs, steps)
    for idx in range(start, len(steps)):
        ins = [first if i == INPUT else states[i] for i in inputs[idx]]
        if idx in spatial:
            # the field is the spatial paths' (the larger wins), and only they must align; a cropped input's
            # unit 0 is its unit o: its field starts o·j further on
            full = [tuple(Axis(a.r, a.j, a.P - o * a.j) for a, o in zip(s, off))
                    for s, off in zip(ins, spatial[idx]) if off is not None] or ins
            axes = range(min(len(s) for s in full))
            st = tuple(max((s[a] for s in full), key=lambda x: x.r) for a in axes)
            bad = [a for a in axes if len({(s[a].j, s[a].centre2) for s in full}) > 1]
            if bad:
                srcs = [names[i] if i != INPUT else "input" for i in inputs[idx]]
                desc = "; ".join(f"{nm}: r={s[0].r} j={s[0].j} P={s[0].P}" for nm, s in zip(srcs, ins))
                letters = AXES.get(len(st), "HW")
                misaligned[idx] = (f"paths misaligned ({'/'.join(letters[a] for a in bad)}): {desc}"
                                   + why_misaligned([nm for nm, i in zip(srcs, inputs[idx]) if i != INPUT and regrid[i]]))
                bad_axes[idx] = tuple(bad)
        else:
            st = ins[0]
        step = steps[idx]
        if step is not None:
            st = tuple(Axis(*f.rf_step(a.r, a.j, a.P, s.k, s.s, s.p)) for a, s in zip(st, step))
        states.append(st)


def regridded(inputs: list[list[int]], steps: list) -> list[bool]:
    """Per node: whether its value passed through an upsampling or a transposed conv (a fractional stride),
    which puts its units between the input's, half a stride off an encoder path by design."""
    out: list[bool] = []
    for ins, step in zip(inputs, steps):
        out.append(any(out[i] for i in ins if i != INPUT) or (step is not None and any(s.s < 1 for s in step)))
    return out


UNUSUAL = "unusual"   # the word that marks a misalignment no upsampling explains


def why_misaligned(upsampled: list[str]) -> str:
    """Said after the paths of a misaligned merge: expected where a path was upsampled, else unusual."""
    if upsampled:
        return (f" — by design: {', '.join(upsampled)} passed through an upsampling or transposed conv, which "
                "shifts the grid (usual in U-Net, FPN, DeepLab, YOLO)")
    return (f" — {UNUSUAL}: no path was upsampled, so the units of the paths sit at different input positions "
            "(check each path's padding, stride and kernel size: an even kernel or one-sided padding shifts it)")


def seen_positions(graph: Graph, states=None) -> list[tuple[int | None, ...]]:
    """Per node and axis, the positions of the field that are really seen, as a bit mask over the field
    (bit t = position −P + t of the input). Dilated kernels leave holes (the gridding effect): a stack of
    3×3 convs dilated 2 sees every other position of its r. Where paths meet, the union of their fields.
    None on an axis whose stride went fractional (upsampling, transposed conv): no such regular mask."""
    states = states or receptive_fields(graph)[0]
    first = start_of(graph)
    masks: list[tuple[int | None, ...]] = []
    for node, st in zip(graph.nodes, states):
        ins = [(first, (1,) * len(first)) if i == INPUT else (states[i], masks[i]) for i in node.inputs]
        spatial = [x for x, shape in zip(ins, node.in_shapes) if shape[1:] == node.out_shape[1:]] or ins
        steps = node.layer.rf_steps(list(node.in_shapes))
        mask = []
        for a in range(len(st)):
            before = max((s[a] for s, _ in spatial if a < len(s)), key=lambda x: x.r, default=Axis())
            regular = all(a < len(s) and ms[a] is not None and isinstance(s[a].P, int) for s, ms in spatial)
            if not regular or (steps is not None and not all(isinstance(v, int) for v in steps[a][:3])):
                mask.append(None)
                continue
            start = min(-s[a].P for s, _ in spatial)         # the union's first position
            m = 0
            for s, ms in spatial:
                m |= ms[a] << (-s[a].P - start)
            m >>= (-before.P - start) if -before.P >= start else 0
            if steps is not None:
                m = f.rf_taps(m, before.j, steps[a].k, steps[a].d)
            mask.append(m)
        masks.append(tuple(mask))
    return masks


def _spread(node, axis: int, mask: int, n_in: int) -> tuple[int, bool]:
    """The input units (bit mask over 0 … n_in − 1) that the output units in `mask` read along `axis`,
    and whether some of their taps fell outside the input (padding, or rows the layer never reaches)."""
    layer, ins = node.layer, list(node.in_shapes)
    steps = layer.rf_steps(ins)
    full = (1 << n_in) - 1
    if steps is None:
        return mask & full, mask & ~full != 0
    st = steps[axis]
    regular = (all(isinstance(v, int) for v in st[:3])
               and layer.rf_taps(ins, axis, 1) == range(st.s - st.p, st.s - st.p + st.k, st.d))
    if not regular:                          # windows of their own (adaptive pooling)
        out, u, clipped = 0, 0, False
        while mask >> u:
            if mask >> u & 1:
                for t in layer.rf_taps(ins, axis, u):
                    out |= 1 << t if 0 <= t < n_in else 0
                    clipped |= not 0 <= t < n_in
            u += 1
        return out, clipped
    if st.s == 0:                            # every unit reads the same window (the whole axis)
        mask = 1 if mask else 0
    elif st.s > 1:                           # unit u starts at u·s: spread the bits s apart
        spread, u = 0, 0
        while mask >> u:
            if mask >> u & 1:
                spread |= 1 << (u * st.s)
            u += 1
        mask = spread
    out = 0
    for t in range(0, st.k, st.d):
        out |= mask << t
    low = out & ((1 << st.p) - 1) if st.p > 0 else 0          # taps in the padding before
    out = out >> st.p if st.p >= 0 else out << -st.p
    return out & full, bool(low) or out & ~full != 0


def unit_seen(graph: Graph, idx: int, unit: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[bool, ...]]:
    """Exactly the input positions output unit `unit` of node `idx` depends on, per spatial axis, as bit
    masks over the input (bit q = position q): the units each layer reads, clipped to its real input at
    every layer (padding brings nothing), from the node back to the input; where paths meet, all of them.
    A broadcast 1×1 input (squeeze-and-excitation) is global context, not a spatial path: not followed.
    Second: per axis, whether the field was clipped somewhere (else it is the whole Distill field)."""
    # a set of units is a union of boxes (one mask per axis): the union of two paths' boxes is not a box
    # (a path that sees nothing on one axis must not lend its other axes to another path's units)
    need: dict[int, list[tuple[int, ...]]] = {idx: [tuple(1 << u for u in unit)]}
    clipped = [False] * len(unit)
    for i in range(idx, -1, -1):
        boxes = need.pop(i, None)
        if boxes is None:
            continue
        node = graph.nodes[i]
        spatial = [(j, s) for j, s in zip(node.inputs, node.in_shapes) if s[1:] == node.out_shape[1:]]
        for j, shape in spatial or list(zip(node.inputs, node.in_shapes)):
            for masks in boxes:
                spread = [_spread(node, a, masks[a], n_in) for a, n_in in enumerate(shape[1:])]
                for a, (_, c) in enumerate(spread):
                    clipped[a] |= c
                if all(m for m, _ in spread):   # padding on one axis: those units see nothing on any axis
                    need[j] = _union(need.get(j, []), tuple(m for m, _ in spread))
    seen = need.get(INPUT, [])
    per_axis = [0] * (len(graph.input) - 1)
    for box in seen:
        per_axis = [x | m for x, m in zip(per_axis, box)]
    return tuple(per_axis), tuple(clipped)


def _union(boxes: list[tuple[int, ...]], box: tuple[int, ...]) -> list[tuple[int, ...]]:
    """`boxes` with `box` added, kept small and exact: a box inside another is dropped, two boxes equal on
    every axis but one become one box."""
    while True:
        for k, other in enumerate(boxes):
            if all(m | o == o for m, o in zip(box, other)):
                return boxes                               # already covered
            differ = [a for a, (m, o) in enumerate(zip(box, other)) if m != o]
            if len(differ) == 1 or all(m | o == m for m, o in zip(box, other)):
                box = tuple(m | o for m, o in zip(box, other))
                boxes = boxes[:k] + boxes[k + 1:]
                break
        else:
            return boxes + [box]


# -- the `cnncalc rf` report -------------------------------------------------------------

def region(a: Axis) -> list:
    """Input positions seen by output unit 0 on one axis: [−P, −P + r − 1] (may reach into padding)."""
    return [num(-a.P), num(-a.P + a.r - 1)]


def covers(a: Axis, n_in: int, n_out: int) -> bool:
    """Every output unit sees the whole input: unit 0 reaches the last row, the last unit the first."""
    return a.r - 1 - a.P >= n_in - 1 and (n_out - 1) * a.j - a.P <= 0


def rf_fields(st: tuple[Axis, ...]) -> dict:
    """The report's RF: the first axis (H) and the last (W); every axis in `axes` unless the map is 2-D."""
    h, w = st[0], st[-1]
    out = {"size": num(h.r), "stride": num(h.j), "padding": num(h.P),
           "size_w": num(w.r), "stride_w": num(w.j), "padding_w": num(w.P)}
    if len(st) != 2:
        out["axes"] = [{"size": num(a.r), "stride": num(a.j), "padding": num(a.P)} for a in st]
    return out


def rf_report(graph: Graph):
    from .report import RFReport, RFRow
    states, misaligned = receptive_fields(graph)
    rows, first = [], None
    for idx, (node, st) in enumerate(zip(graph.nodes, states)):
        out = node.out_shape
        n_in = graph.input[1:] if len(graph.input) > 1 else (1,) * len(st)
        n_out = out[1:] if len(out) > 1 else (1,) * len(st)
        full = all(covers(a, i, o) for a, i, o in zip(st, n_in, n_out))
        if full and first is None:
            first = node.name
        extra = {"regions": [region(a) for a in st]} if len(st) != 2 else {}
        rows.append(RFRow(name=node.name, type=node.layer.type, output=list(out), **rf_fields(st),
                          region_h=region(st[0]), region_w=region(st[-1]), covers=full,
                          misaligned=misaligned.get(idx), **extra))
    outs = graph.output_nodes
    return RFReport(name=graph.name, input=list(graph.input), layers=rows, first_covering=first,
                    outputs=[graph.nodes[o].name for o in outs] if len(outs) > 1 else [])


def rf_view(graph: Graph, rep, depth: int | None = None, every: bool = False) -> tuple[list, int]:
    """The rows `cnncalc rf` shows, and how many it hides.

    With `depth`, every block at that nesting level is one row (its output's field). Unless `every`,
    a row is shown only where the field changes from its input's (size, stride or padding on either
    axis), where paths are misaligned, and at the first layer that sees the whole input.
    """
    rows, sources = [], []
    seen = set()
    for idx, node in enumerate(graph.nodes):
        owner = next((g for g in node.groups if graph.groups[g].level == depth), None) if depth else None
        if owner is None:
            rows.append(rep.layers[idx])
            sources.append(node.inputs[0])
        elif owner not in seen:
            seen.add(owner)
            g = graph.groups[owner]
            last = rep.layers[g.last]
            rows.append(last.model_copy(update={"name": g.name, "type": f"[{g.type}]", "output": list(g.out_shape)}))
            sources.append(g.input)
    if every:
        return rows, 0
    keep = []
    for row, src in zip(rows, sources):
        before = (Axis(),) * len(states_of(row)) if src == INPUT else states_of(rep.layers[src])
        if states_of(row) != before or row.misaligned or row.name in (rep.first_covering, *rep.outputs):
            keep.append(row)
    return keep, len(rows) - len(keep)


def states_of(row) -> tuple[Axis, ...]:
    if row.axes:
        return tuple(Axis(a.size, a.stride, a.padding) for a in row.axes)
    return Axis(row.size, row.stride, row.padding), Axis(row.size_w, row.stride_w, row.padding_w)
