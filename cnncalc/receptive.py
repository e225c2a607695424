"""Receptive field through the graph, per axis (Araujo et al., Distill 2019).

State per axis: size r, effective stride j (product of strides), effective padding P
(how far the field of output unit 0 starts before the input). Where paths meet, the
larger field wins; paths whose stride or centre differ are reported as misaligned.
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
    states: list[tuple[Axis, Axis]] = []
    misaligned: dict[int, str] = {}
    for idx, node in enumerate(graph.nodes):
        ins = [START if i == INPUT else states[i] for i in node.inputs]
        if len(ins) > 1:
            st = tuple(max((s[a] for s in ins), key=lambda x: x.r) for a in (0, 1))
            bad = [a for a in (0, 1) if len({(s[a].j, s[a].centre2) for s in ins}) > 1]
            if bad:
                names = [graph.nodes[i].name if i != INPUT else "input" for i in node.inputs]
                desc = "; ".join(f"{nm}: r={s[0].r} j={s[0].j} P={s[0].P}" for nm, s in zip(names, ins))
                misaligned[idx] = f"paths misaligned ({'/'.join('HW'[a] for a in bad)}): {desc}"
        else:
            st = ins[0]
        steps = node.layer.rf_steps(node.in_shapes)
        if steps is not None:
            st = tuple(Axis(*f.rf_step(a.r, a.j, a.P, s.k, s.s, s.p)) for a, s in zip(st, steps))
        states.append(st)
    return states, misaligned
