"""A tall top-to-bottom diagram wrapped into columns, as a long text into lines: geometry only.

ResNet-50 in one column is a sliver 16 times taller than wide: fitted to a screen, nothing reads. Cut
between ranks (where the fewest arrows cross) into as many columns as make the whole fit the screen
largest, placed left to right. An arrow crossing a cut leaves the bottom of its column, runs right along
the bottom, up the gutter between the columns and right along the top of the next one, back to where
it was: each in its own lane, ordered so that no two such runs cross, and never through a box (the
bottoms, tops and gutters hold none). Coordinates are (across, along), as cnncalc/analysis/layout.py's.
"""
from __future__ import annotations

SCREEN = (1360.0, 760.0)    # the report's diagram frame at 1400×1000
LANE = 6.0


def columns_for(width: float, height: float, gutter: float, screen=SCREEN) -> int:
    """1 where one column shows at 60 % or more fitted to the screen; else the fewest columns that show it
    within 90 % of the largest it can be."""
    def scale(k: int) -> float:
        return min(screen[0] / (k * width + (k - 1) * gutter), screen[1] / (height / k + 2 * gutter), 1.0)
    if scale(1) >= 0.6:
        return 1
    best = max(scale(k) for k in range(1, 13))
    return next(k for k in range(1, 13) if scale(k) >= 0.9 * best)


def wrap(rects, rank: list[int], bands: list[tuple[float, float]], routes, gap: float, margin: float):
    """(rects, routes, extent, columns) wrapped, or None when one column is best. `rects` are (x, y, w, h)
    per unit, `rank` per unit, `bands` (start, end) per rank, `routes` (a, b, points)."""
    width = max(x + w for x, _, w, _ in rects) + margin
    height = bands[-1][1] + margin
    k = columns_for(width, height, 2 * gap)
    if k == 1 or len(bands) < 2 * k:
        return None
    cuts = _cuts(bands, routes, k, gap)
    if not cuts:
        return None
    ys = [bands[r - 1][1] + 0.15 * gap for r in cuts]          # every run crossing there is vertical
    col_of_rank = [sum(r >= c for c in cuts) for r in range(len(bands))]
    pieces = [_split(pts, ys) for _, _, pts in routes]          # per route: (column, points) pieces
    ncol = len(cuts) + 1
    crossing = [sorted({round(p[-1][0], 3) for ps in pieces for c, p in ps[:-1] if c == j}) for j in range(ncol - 1)]
    most = max((len(c) for c in crossing), default=0)
    pad = gap + LANE * (most + 1)
    gutter = max(2 * gap, LANE * (most + 2) + gap)
    starts = [margin] + [y for y in ys]                        # each column's top, in the old coordinates
    left = [min([x for (x, y, w, h), r in zip(rects, rank) if col_of_rank[r] == j]
                + [px for ps in pieces for c, p in ps if c == j for px, _ in p]) for j in range(ncol)]
    right = [max([x + w for (x, y, w, h), r in zip(rects, rank) if col_of_rank[r] == j]
                 + [px for ps in pieces for c, p in ps if c == j for px, _ in p]) for j in range(ncol)]
    ox, at = [], margin
    for j in range(ncol):
        ox.append(at - left[j])
        at += right[j] - left[j] + gutter
    oy = [margin + pad - s for s in starts]
    moved = [(x + ox[col_of_rank[r]], y + oy[col_of_rank[r]], w, h) for (x, y, w, h), r in zip(rects, rank)]
    out = []
    for (a, b, _), ps in zip(routes, pieces):
        pts: list[tuple[float, float]] = []
        for i, (j, p) in enumerate(ps):
            shifted = [(x + ox[j], y + oy[j]) for x, y in p]
            if i:                                               # the connector from column j - 1
                t = crossing[j - 1].index(round(p[0][0], 3))
                n = len(crossing[j - 1])
                bottom = pts[-1][1] + LANE * (n - t)
                lane = ox[j] + left[j] - gutter / 2 + ((n - 1) / 2 - t) * LANE
                top = shifted[0][1] - LANE * (t + 1)
                pts += [(pts[-1][0], bottom), (lane, bottom), (lane, top), (shifted[0][0], top)]
            pts += shifted
        out.append((a, b, simplify(pts)))
    extent = (at - gutter + margin,
              max(max(y + h for _, y, _, h in moved), max(y for _, _, p in out for _, y in p)) + margin)
    return moved, out, extent, ncol


def _cuts(bands, routes, k: int, gap: float) -> list[int]:
    """Ranks that start a new column: about equal heights, each cut where the fewest runs cross."""
    total = bands[-1][1] - bands[0][0]
    target = total / k
    cuts, start = [], bands[0][0]
    while len(cuts) < k - 1:
        options = [r for r in range(1, len(bands)) if (not cuts or r > cuts[-1] + 1)
                   and 0.75 * target <= bands[r - 1][1] - start <= 1.3 * target]
        if not options:
            break
        r = min(options, key=lambda r: (_crossings(routes, bands[r - 1][1] + 0.15 * gap),
                                        abs(bands[r - 1][1] - start - target)))
        cuts.append(r)
        start = bands[r][0]
    if cuts and bands[-1][1] - bands[cuts[-1]][0] < 0.3 * target:     # no stub of a last column
        cuts.pop()
    return cuts


def _crossings(routes, y: float) -> int:
    return len({round(p[0], 3) for _, _, pts in routes for p, q in zip(pts, pts[1:]) if p[1] < y < q[1]})


def _split(pts, ys: list[float]) -> list[tuple[int, list[tuple[float, float]]]]:
    """The polyline cut at every y in `ys` it crosses (downwards, on a vertical run): (column, points)."""
    col = sum(pts[0][1] > y for y in ys)
    pieces, cur = [], [pts[0]]
    for p, q in zip(pts, pts[1:]):
        while col < len(ys) and p[1] < ys[col] < q[1]:
            cut = (p[0], ys[col])
            pieces.append((col, cur + [cut]))
            cur, col = [cut], col + 1
        cur.append(q)
    pieces.append((col, cur))
    return pieces


def simplify(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Without repeated points and without the middle point of three on one line."""
    out: list[tuple[float, float]] = []
    for p in pts:
        if out and abs(p[0] - out[-1][0]) < 1e-6 and abs(p[1] - out[-1][1]) < 1e-6:
            continue
        if len(out) >= 2 and ((abs(out[-2][0] - out[-1][0]) < 1e-6 and abs(out[-1][0] - p[0]) < 1e-6)
                              or (abs(out[-2][1] - out[-1][1]) < 1e-6 and abs(out[-1][1] - p[1]) < 1e-6)):
            out[-1] = p
        else:
            out.append(p)
    return out
