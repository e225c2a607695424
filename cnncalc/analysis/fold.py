"""The U layout of an encoder–decoder (U-Net, FCN): the decoder rises on the right, skips run across.

Used by cnncalc.analysis.layout for top-to-bottom diagrams whose long skips are nested (each later
skip starts after and ends before the one before it, at least two of them). The ranks after the fold
(the middle of the innermost skip) are mirrored: rank m + 1 sits beside rank m, m + 2 above it, … The
two halves are placed apart (each by layout's own sweeps, since no waypoint links them), and every
edge that crosses the fold leaves its box sideways, runs through the gutter between the halves and
enters its target sideways. If any such run would pass through a box, there is no fold.
"""
from __future__ import annotations

LANE = 8.0        # between the gutter's vertical runs
MIN_SPAN = 4      # ranks a skip must span to count


def fold_rank(rank: list[int], pairs: list[tuple[int, int]]) -> int | None:
    """The last rank of the descending half, or None when the long skips are not nested (≥ 2 of them)."""
    skips = sorted({(rank[a], rank[b]) for a, b in pairs if rank[b] - rank[a] >= MIN_SPAN})
    if len(skips) < 2:
        return None
    for (a1, b1), (a2, b2) in zip(skips, skips[1:]):
        if not (a1 < a2 and b2 < b1):
            return None
    a, b = skips[-1]
    return (a + b) // 2


def levels(rank: list[int], m: int) -> list[int]:
    """Rank → level (band from the top): mirrored after m, shifted so that the top level is 0."""
    raw = [r if r <= m else 2 * m + 1 - r for r in rank]
    low = min(raw)
    return [r - low for r in raw]


def crossing_route(src: tuple[float, float, float, float], dst: tuple[float, float, float, float],
                   lane: float, shift_src: float = 0.0, shift_dst: float = 0.0) -> list[tuple[float, float]]:
    """(across, along) polyline from the right side of src to the left side of dst through `lane`, off
    the sides' middles by the shifts. Boxes are (across0, along0, across size, along size)."""
    ya, yb = src[1] + src[3] / 2 + shift_src, dst[1] + dst[3] / 2 + shift_dst
    pts = [(src[0] + src[2], ya), (lane, ya), (lane, yb), (dst[0], yb)]
    return [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]


def spread(ends: list[int]) -> list[float]:
    """Offsets (along a box side) for the runs that share an end, in their order: 0, or ±5, ±10 apart."""
    count = {e: ends.count(e) for e in ends}
    seen: dict[int, int] = {}
    out = []
    for e in ends:
        i = seen[e] = seen.get(e, -1) + 1
        out.append((i - (count[e] - 1) / 2) * 10.0)
    return out


def blocked(points, boxes) -> bool:
    """Does an orthogonal polyline enter the interior of any box (across0, along0, w, h)?"""
    eps = 1e-6
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
        for bx, by, bw, bh in boxes:
            if lo_x < bx + bw - eps and hi_x > bx + eps and lo_y < by + bh - eps and hi_y > by + eps:
                return True
    return False
