"""Reading hand-written answers: numbers with their written precision, and shapes in a layout.

Pure parsing, no I/O. Numbers:

    61706  61,706  61_706        exact (a plain whole number must be exactly right)
    0.42M  15.5G  34.9K  34.9k   a unit: K/k = 10³, M = 10⁶, G/B = 10⁹, T = 10¹²
    3.8e9  3.8×10^9  3.8x10^9    scientific notation (also 3.8·10⁹, 3.8*10**9)
    1.2亿  1240万  3千            Chinese units: 千 = 10³, 万 = 10⁴, 百万 = 10⁶, 千万 = 10⁷, 亿 = 10⁸
    1.2億  1240萬  1.2亿次  156个  traditional 億/萬; a trailing 次 (times) or 个/個 (pieces) is dropped,
    约1.2亿  ≈138M               and so is a leading 约 or ≈ ("about"), and a trailing FLOPs, MACs,
    15.5 GFLOPs  138M params     params or 次乘法 after the number
    93 MB  58.1MiB  552 KB       bytes (memory figures): B, KB/MB/GB/TB = 10³ⁿ, KiB/MiB/GiB/TiB = 2¹⁰ⁿ

The rounding rule: an answer is right when the true value rounds to it at the precision
written, i.e. |true − given| ≤ half a unit of the last significant digit, and that precision
keeps at least two significant figures. `138M` stands for 138,357,544 (±0.5M), `138.4M` too
(±0.05M), `138.3M` does not; `100M` (one significant figure) proves nothing and is wrong for
102,760,448. Trailing zeros of a whole mantissa before a unit or exponent are not significant
(`1240万` is 124 × 10⁵, right for 12,443,648; `1000万` is one figure, 1 × 10⁷; write `1244万`
or `1240.0万` to claim more). A plain number with no unit is exact. A relative `tolerance`
(0.01 or "1%") replaces the rule where one is given.

Shapes: `28x28x6`, `28×28×6`, `28*28*6`, `[28, 28, 6]` are read in the file's layout — H×W×C
(the course's way, the default) or C×H×W (PyTorch's). A list is read in the layout too:
`[6, 28, 28]` is right for LeNet C1 only in a `layout: CHW` file. `28x28` (two numbers) is the
spatial size H×W alone; one number `N` is a vector (the output of a flatten or linear layer).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from ..errors import quote

from ..spec.order import from_chw, layout_named  # noqa: F401 — a map as the file writes it (shared with --input)

UNITS: dict[str, int] = {
    "": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12,
    "千": 10**3, "万": 10**4, "十万": 10**5, "百万": 10**6, "千万": 10**7, "亿": 10**8,
}
_TRAD = str.maketrans("億萬", "亿万")
_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_NUM = re.compile(
    r"""^(?P<sign>[-+]?)
        (?P<mant>\d[\d,_\u2009\u202f']*(?:\.\d*)?|\.\d+)
        (?:
            [eE](?P<exp>[-+]?\d+)
          | \s*[x×*·]\s*10\s*(?:\^|\*\*)\s*\(?(?P<exp2>[-+]?\d+)\)?
          | \s*[x×*·]\s*10(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)
        )?
        \s*(?P<unit>十万|百万|千万|[kKMGBT千万亿])?$""",
    re.X,
)
HINT = "write e.g. 61706, 61,706, 0.42M, 15.5G, 3.8e9, 3.8×10^9, 1.2亿, 1.2億 or 1240万"


class ParseError(ValueError):
    """Text that is not a number or shape; the message says what was expected."""


@dataclass(frozen=True)
class Number:
    """A number as written: its value and the precision its last digit claims."""
    text: str
    value: Decimal
    quantum: Decimal        # one unit of the last significant digit (1 for a plain whole number)
    unit: str = ""          # "M", "万", "e9" … ("" for plain numbers)
    scale: Decimal = Decimal(1)  # the value of one `unit`
    figures: int = 0        # significant figures written (0: a plain whole number, exact)

    @property
    def exact(self) -> bool:
        return self.unit == "" and self.quantum <= 1

    @property
    def too_coarse(self) -> bool:
        """Rounded to fewer than two significant figures: `1亿`, `100M`, `1000万` prove nothing."""
        return not self.exact and self.figures < 2

    def rounds_to(self, value: int | float | Decimal) -> bool:
        """`value` rounds to this number at the precision written (however coarse)."""
        return abs(Decimal(value) - self.value) * 2 <= self.quantum

    def matches(self, true: int | float | Decimal, tolerance: Decimal | None = None) -> bool:
        """The rounding rule (at least two significant figures), or |true − given| ≤ tolerance·|true|."""
        t = Decimal(true)
        if tolerance is not None:
            return abs(t - self.value) <= tolerance * abs(t)
        return self.rounds_to(t) and (not self.too_coarse or t == self.value)   # `60K` for exactly 60,000

    def truncates(self, true: int | float | Decimal) -> bool:
        """`true` cut off (not rounded) at the written precision gives this number."""
        t = Decimal(true)
        return not self.exact and self.value <= t < self.value + self.quantum and t >= 0

    def rule(self, tolerance: Decimal | None = None) -> str:
        if tolerance is not None:
            return f"within {fmt_percent(tolerance)}"
        if self.exact:
            return "exact"
        return f"rounded to {self.show_quantum()}"

    def show_quantum(self) -> str:
        """One unit of the last digit, as written: 0.1M, 10万, 1e8."""
        if self.unit.startswith("e"):
            exp = self.quantum.adjusted()
            if self.quantum == Decimal(10) ** exp:
                return f"1e{exp}"
        return f"{_plain(self.quantum / self.scale)}{self.unit}"

    def suggest(self, true: int) -> str:
        """`true` at this precision, or at three significant figures where this one is too coarse."""
        if not self.too_coarse:
            return self.rounded(true)
        q = Decimal(10) ** (Decimal(true).adjusted() - 2)
        return Number(self.text, self.value, min(q, self.quantum), self.unit, self.scale, 3).rounded(true)

    def rounded(self, true: int) -> str:
        """`true` written at this number's precision and unit (for "expected … ≈ 138.4M")."""
        q = self.quantum / self.scale
        with localcontext() as ctx:
            ctx.prec = 60
            v = (Decimal(true) / self.scale / q).quantize(Decimal(1), rounding="ROUND_HALF_EVEN") * q
        digits = max(-q.normalize().as_tuple().exponent, 0)     # keep the written decimals: 8.0M, not 8M
        if self.unit.startswith("e"):
            return self._power_form(v, digits)
        return f"{v:.{digits}f}{self.unit}"

    def _power_form(self, v: Decimal, digits: int) -> str:
        """A value in the student's power-of-ten form, its mantissa in [1, 10): 1.18×10^10 → 5.90×10^9."""
        exp = int(self.unit[1:])
        while v and abs(v) < 1:
            v, exp, digits = v * 10, exp - 1, max(digits - 1, 0)
        m = f"{v:.{digits}f}"
        caret = re.search(r"([x×*·])\s*10\s*(\^|\*\*)?", self.text)
        if caret is None:
            return f"{m}e{exp}"
        return f"{m}{caret[1]}10{caret[2] or '^'}{exp}"


def _plain(d: Decimal) -> str:
    """A Decimal without exponent or spurious trailing zeros: 0.1, 10, 138.4."""
    return format(d.normalize(), "f")


def fmt_percent(tol: Decimal) -> str:
    return f"{_plain(tol * 100)}%"


MAX_DIGITS = 40   # digits of a written number (a count is at most 24 digits; decimals add a few)


def parse_number(value) -> Number:
    """A number as written in an answers file (text, int or float) → Number. Raises ParseError."""
    if isinstance(value, bool) or value is None:
        raise ParseError(f"expected a number, got {quote(value)}; {HINT}")
    text = getattr(value, "text", None)  # YAML scalars keep their source text (see check.py)
    if text is None:
        if isinstance(value, int):
            text = str(value)
        elif isinstance(value, float):
            text = repr(value)
        elif isinstance(value, str):
            text = value
        else:
            raise ParseError(f"expected a number, got {type(value).__name__}; {HINT}")
    s = str(text).strip()
    m = _NUM.match(_normal(s))
    if not m:
        raise ParseError(f"cannot read {quote(s)} as a number; {HINT}")
    mant = m["mant"]
    intpart, _, frac = mant.partition(".")
    digits = re.sub(r"[,_\u2009\u202f']", "", intpart)
    if len(digits) + len(frac) > MAX_DIGITS:   # a Decimal of 5,000 digits cannot be rounded at 60 digits' precision
        raise ParseError(f"cannot read {quote(s)}: a number has at most {MAX_DIGITS} digits")
    if "," in intpart and not re.fullmatch(r"\d{1,3}(,\d{3})+", intpart):
        raise ParseError(f"cannot read {quote(s)}: commas must separate groups of three digits (61,706); {HINT}")
    exp = m["exp"] or m["exp2"] or (m["sup"].translate(_SUP) if m["sup"] else None)
    unit = m["unit"] or ""
    if exp is not None and unit:
        raise ParseError(f"cannot read {quote(s)}: use either a unit or a power of ten, not both; {HINT}")
    try:
        e = int(exp) if exp is not None else 0
    except ValueError:
        raise ParseError(f"cannot read {quote(s)} as a number; {HINT}") from None
    if abs(e) > 30:
        raise ParseError(f"cannot read {quote(s)}: exponent out of range")
    scale = Decimal(UNITS[unit]) * (Decimal(10) ** e)
    try:
        mantissa = Decimal((digits or "0") + ("." + frac if frac else ""))
    except InvalidOperation:
        raise ParseError(f"cannot read {quote(s)} as a number; {HINT}") from None
    if frac:
        q = Decimal(10) ** -len(frac)
    elif unit or exp is not None:
        # trailing zeros of a whole mantissa are not significant: 1240万 = 124 × 10⁵
        stripped = digits.lstrip("0")
        zeros = len(stripped) - len(stripped.rstrip("0")) if stripped else 0
        q = Decimal(10) ** zeros
    else:
        q = Decimal(1)
    sign = -1 if m["sign"] == "-" else 1
    label = unit or (f"e{e}" if exp is not None else "")
    return Number(text=s, value=sign * mantissa * scale, quantum=q * scale, unit=label, scale=scale,
                  figures=_figures(digits, frac) if label or frac else 0)


def _normal(text: str) -> str:
    """Traditional 億/萬 as 亿/万; a trailing 次 (times) or 个/個 (pieces) dropped."""
    text = re.sub(r"^(?:约|約|大约|≈|~|about\s)\s*", "", text.translate(_TRAD).strip())
    text = re.sub(r"(?<=[\dkKMGTB千万亿])\s*(?:FLOPS|FLOPs?|flops?|MACs?|MACS|mult-adds|params|parameters)$", "", text)
    return re.sub(r"\s*(?:次乘加|次乘法|次运算|次|个参数|个|個)$", "", text) if len(text) > 1 else text


def _figures(digits: str, frac: str) -> int:
    """Significant figures of a mantissa: no leading zeros; a whole one's trailing zeros do not count."""
    if frac:
        sig = (digits + frac).lstrip("0")
        return max(len(sig), 1)
    sig = digits.lstrip("0").rstrip("0")
    return max(len(sig), 1)


BYTE_UNITS: dict[str, int] = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
                              "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_BYTES = re.compile(r"^(?P<num>[^a-zA-Z]*?)\s*(?P<unit>[kKmMgGtT]i?[bB]|[bB])$")
BYTES_HINT = "write e.g. 93 MB, 58.1 MiB, 552MB or 1,048,576 (bytes)"


def parse_bytes(value) -> Number:
    """A memory figure: a number of bytes, or one with B/KB/MB/GB (10³ⁿ) or KiB/MiB/GiB (2¹⁰ⁿ)."""
    if isinstance(value, bool) or value is None:
        raise ParseError(f"expected a size in bytes, got {quote(value)}; {BYTES_HINT}")
    text = str(getattr(value, "text", value)).strip()
    m = _BYTES.match(text)
    if not m:
        return parse_number(value)
    key = m["unit"].upper()
    try:
        num = parse_number(m["num"])
    except ParseError:
        raise ParseError(f"cannot read {quote(text)} as a size in bytes; {BYTES_HINT}") from None
    if num.unit:
        raise ParseError(f"cannot read {quote(text)}: a size in bytes takes one unit; {BYTES_HINT}")
    if key == "B":
        return Number(text=text, value=num.value, quantum=num.quantum, figures=num.figures)
    digits, _, frac = re.sub(r"[,_\u2009\u202f']", "", m["num"].strip().lstrip("+-")).partition(".")
    q = num.quantum if frac else Decimal(10) ** (len(digits.lstrip("0")) - len(digits.lstrip("0").rstrip("0")))
    scale = Decimal(BYTE_UNITS[key])
    return Number(text=text, value=num.value * scale, quantum=q * scale, unit=key.replace("IB", "iB"), scale=scale,
                  figures=_figures(digits, frac))


def parse_tolerance(value) -> Decimal:
    """0.01 or "1%" → Decimal('0.01'). Raises ParseError."""
    if isinstance(value, bool) or value is None:
        raise ParseError(f"expected a fraction such as 0.01 or a percentage such as 1%, got {quote(value)}")
    text = str(getattr(value, "text", value)).strip()
    pct = text.endswith("%")
    try:
        d = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        raise ParseError(f"cannot read {quote(text)} as a tolerance; write 0.01 or 1%") from None
    if pct:
        d /= 100
    if not d.is_finite() or d < 0 or d > 1:
        raise ParseError(f"a tolerance is 0 … 1 (or 0% … 100%), got {quote(text)}")
    return d


def parse_layout(value) -> str:
    layout = layout_named(value)
    if layout is None:
        raise ParseError(f"expected HWC (28x28x6, the course's way) or CHW (6x28x28), got {quote(value)}")
    return layout


@dataclass(frozen=True)
class ShapeAnswer:
    """A shape as written, and what it means in C×H×W order."""
    text: str
    dims: tuple[int, ...]   # as written
    layout: str

    @property
    def chw(self) -> tuple[int, ...]:
        """(C, H, W) for three numbers, (H, W) for two, (N,) for one."""
        return to_chw(self.dims, self.layout)

    @property
    def other(self) -> tuple[int, ...]:
        """What the same numbers would mean in the other layout."""
        return to_chw(self.dims, "CHW" if self.layout == "HWC" else "HWC")


def to_chw(dims: tuple[int, ...], layout: str) -> tuple[int, ...]:
    """H×W×C → C×H×W and D×H×W×C → C×D×H×W in the course's layout; otherwise as written."""
    if len(dims) in (3, 4) and layout == "HWC":
        return (dims[-1],) + tuple(dims[:-1])
    return tuple(dims)


def fmt_dims(dims) -> str:
    return "×".join(str(d) for d in dims)


def parse_shape(value, layout: str = "HWC") -> ShapeAnswer:
    """`28x28x6`, `28×28×6`, `[28, 28, 6]`, `28x28`, `1960` → ShapeAnswer. Raises ParseError."""
    if isinstance(value, bool) or value is None:
        raise ParseError(f"expected a shape such as 28x28x6, got {quote(value)}")
    if isinstance(value, int):
        dims = [value]
        text = str(getattr(value, "text", value))
    elif isinstance(value, (list, tuple)):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ParseError(f"expected a shape such as [28, 28, 6] (whole numbers), got {quote(list(value))}")
        dims = list(value)
        text = "[" + ", ".join(str(v) for v in value) + "]"
    elif isinstance(value, str):
        text = value.strip()
        inner = text.strip("[]() ")
        parts = re.split(r"\s*(?:[x×X*,]|by)\s*", inner)
        try:
            dims = [int(p.replace("_", "")) for p in parts]
        except ValueError:
            raise ParseError(f"cannot read {quote(text)} as a shape; write e.g. 28x28x6, 28×28×6 or [28, 28, 6]") from None
    else:
        raise ParseError(f"expected a shape such as 28x28x6, got {type(value).__name__}")
    if not 1 <= len(dims) <= 4:
        raise ParseError(f"a shape has 1 (vector), 2 (H×W, or a 1-D map), 3 ({layout_text(layout)}) or 4 numbers "
                         f"(a 3-D map), got {quote(text)}")
    if min(dims) < 1:
        raise ParseError(f"shape sizes must be ≥ 1, got {quote(text)}")
    return ShapeAnswer(text=text, dims=tuple(int(d) for d in dims), layout=layout)


def layout_text(layout: str, rank: int = 2) -> str:
    """H×W×C or C×H×W; L×C / C×L for a 1-D map, D×H×W×C / C×D×H×W for a 3-D one."""
    axes = {1: "L", 2: "H×W", 3: "D×H×W"}.get(rank, "H×W")
    return f"{axes}×C" if layout == "HWC" else f"C×{axes}"


def shape_matches(given: ShapeAnswer, expected: tuple[int, ...]) -> bool:
    """Equal in C×H×W; `H×W` compares the spatial size only; a 1×1×N map and a vector N agree."""
    g = given.chw
    if len(g) == 2 and len(expected) == 2:  # a 1-D map C×L, written L×C in the course's layout
        return (g[::-1] if given.layout == "HWC" else g) == tuple(expected)
    if g == tuple(expected):
        return True
    if len(g) == 2 and len(expected) == 3:
        return g == tuple(expected[1:])
    if len(g) == 3 and len(expected) == 1:
        return g[1:] == (1, 1) and g[0] == expected[0]
    if len(g) == 1 and len(expected) == 3:
        return tuple(expected[1:]) == (1, 1) and g[0] == expected[0]
    return False
