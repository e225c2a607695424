"""The order of a shape written by a person, one rule for the whole tool.

A full shape is written channels first (C×L, C×H×W, C×D×H×W: PyTorch's order, the default of
`--input` and of `input:` in an architecture file) or channels last (L×C, H×W×C, D×H×W×C: the course's
order, the default of `calc` and `check`). Where nothing says which was meant and the numbers read
naturally only in the other order — the channels a small number (≤ 4) at the other end, every other
number at least 8 and at least 4 times it (`224x224x3`, `16x112x112x3`, `3x227x227` in the course's
order) — the tool refuses with both readings and how to say it, instead of guessing.
"""
from __future__ import annotations

from ..errors import SpecError, quote

LAYOUTS = ("CHW", "HWC")
SMALL = 4        # channels of an image, a spectrogram, a depth map: at most this
NAMES = {"CHW": {2: "C×L", 3: "C×H×W", 4: "C×D×H×W"}, "HWC": {2: "L×C", 3: "H×W×C", 4: "D×H×W×C"}}


def layout_named(value) -> str | None:
    """HWC or CHW as written in any case, with × or x between the letters, NCHW/NHWC as PyTorch and
    TensorFlow write them; None for anything else."""
    text = str(value).strip().upper().replace("×", "").replace("X", "").removeprefix("N")
    return text if text in LAYOUTS else None


def parse_layout(value, what: str) -> str:
    layout = layout_named(value)
    if layout is None:
        raise SpecError(f"{what}: expected HWC (channels last, 224x224x3) or CHW (channels first, 3x224x224), "
                        f"got {quote(value)}")
    return layout


def to_chw(dims: tuple[int, ...], layout: str) -> tuple[int, ...]:
    """A full shape of 2–4 numbers written in `layout` → channels first; one number (a vector) as it is."""
    if len(dims) >= 2 and layout == "HWC":
        return (dims[-1],) + tuple(dims[:-1])
    return tuple(dims)


def from_chw(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if len(shape) >= 2 and layout == "HWC":
        return tuple(shape[1:]) + (shape[0],)
    return tuple(shape)


def looks(dims: tuple[int, ...]) -> str | None:
    """The order the numbers suggest: CHW where the first is small and the others large, HWC where the last
    is; None where neither (or both) end does."""
    def small_end(end: int, others) -> bool:
        return end <= SMALL and all(o >= max(8, 4 * end) for o in others)
    if len(dims) < 2:
        return None
    first, last = small_end(dims[0], dims[1:]), small_end(dims[-1], dims[:-1])
    return "CHW" if first and not last else "HWC" if last and not first else None


def reading(dims: tuple[int, ...], layout: str) -> str:
    """`C×H×W: 224 channels of 224×3` — what the numbers are in one order."""
    chw = to_chw(dims, layout)
    size = "×".join(map(str, chw[1:]))
    return f"{NAMES[layout][len(dims)]}: {chw[0]} channel{'s' if chw[0] != 1 else ''} of {size}"


def in_order(dims: tuple[int, ...], layout: str | None, default: str, flag: bool, listed: bool = False
             ) -> tuple[int, ...]:
    """A full shape (2–4 numbers) channels first. `layout` is what the user stated (None: nothing, then
    `default` applies); `flag` says how they would state it (--layout, or `layout:` in a file), `listed`
    whether they wrote the shape as a list ([3, 224, 224]) or as text (3x224x224)."""
    if layout is None and len(dims) in (2, 3, 4):
        other = looks(dims)
        if other is not None and other != default:
            fix = "x".join(map(str, from_chw(to_chw(dims, other), default)))
            say = f"--layout {other}" if flag else f"`layout: {other}`"
            written = "[" + fix.replace("x", ", ") + "]" if listed else fix
            raise SpecError(f"the order is ambiguous: read as {reading(dims, default)}; read as "
                            f"{reading(dims, other)}: write {written}, or add {say}")
    return to_chw(dims, layout or default)
