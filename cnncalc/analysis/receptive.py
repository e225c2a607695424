"""Receptive field through the graph, per axis (Araujo et al., Distill 2019).

State per axis: size r, effective stride j (product of strides), effective padding P
(how far the field of output unit 0 starts before the input). Where paths meet, the
larger field wins; paths whose stride or centre differ are reported as misaligned. A
broadcast 1×1 input (squeeze-and-excitation) adds global context but no spatial field.
"""
from __future__ import annotations

from typing import NamedTuple

from . import formulas as f
from .graph import INPUT, Graph


class Axis(NamedTuple):
    r: int = 1
    j: int = 1
    P: int = 0

    @property
    def centre2(self) -> int:
        """Twice the centre of unit 0's field, (r − 1) − 2P, kept integral."""
        return self.r - 1 - 2 * self.P


START = (Axis(), Axis())


def receptive_fields(graph: Graph) -> tuple[list[tuple[Axis, Axis]], dict[int, str]]:
    """Per node (H, W) state; and a note per merge node whose paths are misaligned."""
    steps_of: dict = {}  # equal layers on equal inputs share their steps
    steps, spatial = [], {}
    for idx, node in enumerate(graph.nodes):
        key = (id(node.layer), *node.in_shapes)  # the graph holds its layers: ids are unique meanwhile
        steps.append(steps_of[key] if key in steps_of else steps_of.setdefault(key, node.layer.rf_steps(node.in_shapes)))
        if len(node.inputs) > 1:
            spatial[idx] = spatial_paths(node.in_shapes, node.out_shape)
    states: list[tuple[Axis, Axis]] = []
    misaligned: dict[int, str] = {}
    propagate([nd.inputs for nd in graph.nodes], steps, spatial, [nd.name for nd in graph.nodes], states, misaligned)
    return states, misaligned


def spatial_paths(in_shapes, out_shape) -> tuple[bool, ...]:
    """Which inputs of a merge are spatial paths: a broadcast 1×1 input (squeeze-and-excitation's channel
    weights) brings global context but no position."""
    return tuple(s[1:] == out_shape[1:] for s in in_shapes)


def propagate(inputs: list[list[int]], steps: list, spatial: dict[int, tuple], names: list[str], states: list,
              misaligned: dict, start: int = 0, bad_axes: dict | None = None) -> None:
    """Extend `states` (and `misaligned`, and `bad_axes`: merge → the misaligned axes) from node `start`
    on, the states before it kept: per node, its per-axis `steps` (None for layers that act per element)
    and for a merge which inputs are spatial."""
    del states[start:]
    bad_axes = {} if bad_axes is None else bad_axes
    for idx in [i for i in misaligned if i >= start]:
        del misaligned[idx]
        bad_axes.pop(idx, None)
    for idx in range(start, len(steps)):
        ins = [START if i == INPUT else states[i] for i in inputs[idx]]
        if idx in spatial:
            # the field is the spatial paths' (the larger wins), and only they must align
            full = [s for s, sp in zip(ins, spatial[idx]) if sp] or ins
            st = tuple(max((s[a] for s in full), key=lambda x: x.r) for a in (0, 1))
            bad = [a for a in (0, 1) if len({(s[a].j, s[a].centre2) for s in full}) > 1]
            if bad:
                srcs = [names[i] if i != INPUT else "input" for i in inputs[idx]]
                desc = "; ".join(f"{nm}: r={s[0].r} j={s[0].j} P={s[0].P}" for nm, s in zip(srcs, ins))
                misaligned[idx] = f"paths misaligned ({'/'.join('HW'[a] for a in bad)}): {desc}"
                bad_axes[idx] = tuple(bad)
        else:
            st = ins[0]
        step = steps[idx]
        if step is not None:
            st = tuple(Axis(*f.rf_step(a.r, a.j, a.P, s.k, s.s, s.p)) for a, s in zip(st, step))
        states.append(st)


def seen_positions(graph: Graph, states=None) -> list[tuple[int, ...]]:
    """Per node and axis, the positions of the field that are really seen, as a bit mask over the field
    (bit t = position −P + t of the input). Dilated kernels leave holes (the gridding effect): a stack of
    3×3 convs dilated 2 sees every other position of its r. Where paths meet, the union of their fields."""
    states = states or receptive_fields(graph)[0]
    masks: list[tuple[int, ...]] = []
    for node, st in zip(graph.nodes, states):
        ins = [(START, (1, 1)) if i == INPUT else (states[i], masks[i]) for i in node.inputs]
        spatial = [x for x, shape in zip(ins, node.in_shapes) if shape[1:] == node.out_shape[1:]] or ins
        steps = node.layer.rf_steps(list(node.in_shapes))
        before = [max((s[a] for s, _ in spatial), key=lambda x: x.r) for a in (0, 1)]
        mask = []
        for a in (0, 1):
            start = min(-s[a].P for s, _ in spatial)         # the union's first position
            m = 0
            for s, ms in spatial:
                m |= ms[a] << (-s[a].P - start)
            m >>= (-before[a].P - start) if -before[a].P >= start else 0
            if steps is not None:
                m = f.rf_taps(m, before[a].j, steps[a].k, steps[a].d)
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
    regular = layer.rf_taps(ins, axis, 1) == range(st.s - st.p, st.s - st.p + st.k, st.d)
    if not regular:                          # windows of their own (adaptive pooling)
        out, u, clipped = 0, 0, False
        while mask >> u:
            if mask >> u & 1:
                for t in layer.rf_taps(ins, axis, u):
                    out |= 1 << t if 0 <= t < n_in else 0
                    clipped |= not 0 <= t < n_in
            u += 1
        return out, clipped
    if st.s > 1:                             # unit u starts at u·s: spread the bits s apart
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
    need: dict[int, list[int]] = {idx: [1 << u for u in unit]}
    clipped = [False] * len(unit)
    for i in range(idx, -1, -1):
        masks = need.pop(i, None)
        if masks is None:
            continue
        node = graph.nodes[i]
        spatial = [(j, s) for j, s in zip(node.inputs, node.in_shapes) if s[1:] == node.out_shape[1:]]
        for j, shape in spatial or list(zip(node.inputs, node.in_shapes)):
            sizes = shape[1:]
            into = need.setdefault(j, [0] * len(sizes))
            for a, n_in in enumerate(sizes):
                m, c = _spread(node, a, masks[a], n_in)
                into[a] |= m
                clipped[a] |= c
    return tuple(need.get(INPUT, [0] * (len(graph.input) - 1))), tuple(clipped)


# -- the `cnncalc rf` report -------------------------------------------------------------

def region(a: Axis) -> tuple[int, int]:
    """Input positions seen by output unit 0 on one axis: [−P, −P + r − 1] (may reach into padding)."""
    return -a.P, -a.P + a.r - 1


def covers(a: Axis, n_in: int, n_out: int) -> bool:
    """Every output unit sees the whole input: unit 0 reaches the last row, the last unit the first."""
    return a.r - 1 - a.P >= n_in - 1 and (n_out - 1) * a.j - a.P <= 0


def rf_report(graph: Graph):
    from .report import RFReport, RFRow
    states, misaligned = receptive_fields(graph)
    rows, first = [], None
    n_h, n_w = (graph.input[1], graph.input[2]) if len(graph.input) == 3 else (1, 1)
    for idx, (node, (h, w)) in enumerate(zip(graph.nodes, states)):
        out = node.out_shape
        o_h, o_w = (out[1], out[2]) if len(out) == 3 else (1, 1)
        full = covers(h, n_h, o_h) and covers(w, n_w, o_w)
        if full and first is None:
            first = node.name
        rows.append(RFRow(name=node.name, type=node.layer.type, output=list(out),
                          size=h.r, stride=h.j, padding=h.P, size_w=w.r, stride_w=w.j, padding_w=w.P,
                          region_h=list(region(h)), region_w=list(region(w)), covers=full,
                          misaligned=misaligned.get(idx)))
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
        before = START if src == INPUT else states_of(rep.layers[src])
        if states_of(row) != before or row.misaligned or row.name in (rep.first_covering, *rep.outputs):
            keep.append(row)
    return keep, len(rows) - len(keep)


def states_of(row) -> tuple[Axis, Axis]:
    return Axis(row.size, row.stride, row.padding), Axis(row.size_w, row.stride_w, row.padding_w)
