"""Stand-alone questions: each turned into a tiny architecture and graded like a network's layers.

    questions:
      q1: {conv: {input: 227x227x3, kernel: 11, stride: 4, filters: 96}, answer: {output: 55x55x96}}

A conv, pool or fc question becomes a one-layer architecture, a `net` question a short chain,
an `rf` question a chain of single-filter layers on the smallest input they fit, a
`same_padding` question one `padding: same` conv; the same layer classes as `cnncalc analyze`
then answer. The builders (`question_spec`, `rf_layer`) only read the question; `Questions`
grades what they build.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from ..analysis import formulas as f
from ..analysis.analyze import load, report_of
from ..analysis.calc import parse_token
from ..analysis.graph import Graph
from ..errors import CnncalcError, SpecError, quote, suggest
from ..layers import numel
from ..spec.yamlio import LList, LMap, line_of, own_line
from .answers import Ctx, Reader, Settings, llist, plain, text_of
from .grade import Grader
from .more_questions import NETWORK_FIELDS, NETWORK_FIGURES, RATIO_FIELDS, MoreQuestions
from .numbers import ParseError, layout_text, parse_number, parse_shape
from .slips import Subject, padding_slip, rf_slip

SIZES = ("connections", "activations", "memory", "param_memory")
QUESTION_KINDS = {
    "conv": ("output", "params", "weights", "biases", "macs", "flops") + SIZES + ("rf", "fits"),
    "pool": ("output", "params", "macs", "activations", "memory", "rf", "fits"),
    "fc": ("output", "params", "weights", "biases", "macs", "flops") + SIZES,
    "rf": ("rf",),
    "same_padding": ("padding",),
    "net": ("output", "params", "weights", "biases", "macs", "flops") + SIZES + ("rf", "fits"),
    "network": NETWORK_FIGURES,
    "ratio": ("ratio",),
}
CONFIG_KINDS = ("conv", "pool", "fc", "net")     # what a ratio compares
QUESTION_KEYS = ("answer", "tolerance", "layout", "conventions", "text", "description")
KIND_FIELDS = {
    "conv": ("input", "kernel", "stride", "padding", "filters", "dilation", "groups", "bias"),
    "pool": ("input", "kernel", "stride", "padding", "ceil", "type", "dilation"),
    "fc": ("in", "out", "bias"),
    "same_padding": ("kernel", "dilation"),
    "net": ("input", "layers"),
    "network": NETWORK_FIELDS,
    "ratio": RATIO_FIELDS,
}


class Questions:
    """Reads each question, builds its tiny architecture and hands its answers to the grader."""

    def __init__(self, reader: Reader, grader: Grader):
        self.r, self.g = reader, grader
        self.more = MoreQuestions(reader, grader, self.config_graph)

    def question(self, key, q, qs, st: Settings):
        name = str(key)
        path = f"questions.{name}"
        qline = line_of(qs, key)
        if not isinstance(q, dict):
            raise self.r.err("expected a mapping such as {conv: {...}, answer: {...}}", qline, path)
        kinds = [k for k in q if k in QUESTION_KINDS]
        keys = list(QUESTION_KINDS) + list(QUESTION_KEYS)
        near = [k for k in keys if k != "conventions"]   # `convolution` means conv
        self.r.refuse_unknown(q, keys, path, lambda k: f"unknown key {quote(k)}{suggest(k, near)} (a question has one of "
                                                       f"{', '.join(QUESTION_KINDS)} and an answer)")
        if len(kinds) != 1:
            raise self.r.err(f"a question needs exactly one of {', '.join(QUESTION_KINDS)}"
                             + (f", got {', '.join(kinds)}" if kinds else ""), qline, path)
        kind = kinds[0]
        if "answer" not in q:
            raise self.r.err("missing `answer:` (the figures to grade)", qline, path)
        apath = f"{path}.answer"
        answer = self.r.mapping(q, "answer", f"expected a mapping of figures ({', '.join(QUESTION_KINDS[kind])})",
                                apath)
        st = self.r.settings(q, st, path)
        allowed = QUESTION_KINDS[kind] + ("tolerance",)
        self.r.refuse_unknown(answer, allowed, apath, lambda k: f"a {kind} question does not answer {quote(k)}"
                                                                f"{suggest(k, allowed)} "
                                                                f"(it answers {', '.join(QUESTION_KINDS[kind])})")
        if not any(k in answer for k in QUESTION_KINDS[kind]):
            raise self.r.err(f"`answer:` gives no figure to grade (a {kind} question answers "
                             f"{', '.join(QUESTION_KINDS[kind])})", line_of(q, "answer"), apath)
        ctx = self.r.settings(answer, st, apath, layout=False).ctx("questions", apath)
        spec, kline, kpath = q[kind], line_of(q, kind), f"{path}.{kind}"
        if kind == "rf":
            self.rf_question(name, spec, answer, ctx, kline, kpath)
        elif kind == "same_padding":
            self.padding_question(name, spec, answer, ctx, kline, kpath)
        elif kind == "network":
            self.more.network_question(name, spec, answer, ctx, kline, kpath)
        elif kind == "ratio":
            self.more.ratio_question(name, spec, answer, ctx, kline, kpath)
        else:
            self.layer_question(name, kind, spec, answer, ctx, st.layout, kline, kpath)

    def layer_question(self, name: str, kind: str, spec, answer, ctx: Ctx, layout: str | None, line, path):
        """conv, pool, fc or net: built as a small architecture and graded like a network's layers."""
        doc = question_spec(self.r, name, kind, spec, layout, line, path)
        graph = self.build(doc, line, path, inner=kind == "net")
        subject = question_subject(name, graph)
        self.g.grade(subject, tuple(f for f in QUESTION_KINDS[kind] if f != "fits"), answer, ctx)
        if "fits" in answer:
            self.more.fits_answer(subject, answer, ctx, line_of(answer, "fits"))

    def config_graph(self, name: str, config, layout: str, line, path) -> Graph:
        """One configuration of a ratio: {conv|pool|fc|net: …}, built as a question's small architecture."""
        kinds = [k for k in config if k in CONFIG_KINDS] if isinstance(config, dict) else []
        if len(kinds) != 1 or len(config) != 1:
            raise self.r.err(f"expected one configuration such as {{conv: {{…}}}} ({', '.join(CONFIG_KINDS)})",
                             line, path)
        kind = kinds[0]
        doc = question_spec(self.r, name, kind, config[kind], layout, line_of(config, kind) or line,
                            f"{path}.{kind}")
        return self.build(doc, line, path, inner=kind == "net")

    def build(self, doc, line, path, inner: bool = False) -> Graph:
        """Analyze a question's small architecture; errors point into the answers file."""
        try:
            return load(plain(doc))
        except CnncalcError as e:
            where = f"{path}.{e.path.split(' ')[0]}" if inner and e.path else path
            raise self.r.err(e.message, e.line or line, where) from None

    def rf_question(self, name, spec, answer, ctx: Ctx, line, path):
        if not isinstance(spec, list) or not spec:
            raise self.r.err("rf: expected a list of layers: [conv3, conv3, pool2, conv5s2, conv3d2] or "
                             "[{kernel: 3, stride: 1}, …]", line, path)
        layers = [rf_layer(self.r, i, tok, spec, line, path) for i, tok in enumerate(spec)]
        # the smallest input every layer fits without padding: walk back from one output unit
        size = 1
        for lay in reversed(layers):
            size = (size - 1) * lay["stride"] + f.effective_kernel(lay["kernel"], lay.get("dilation", 1))
        graph = self.build({"name": name, "input": [1, size, size], "layers": layers}, line, path)
        report = report_of(graph)
        per_layer = [r.rf.size for r in report.layers]
        subject = Subject.whole(name, "rf", "chain", graph, report, (per_layer[-1], per_layer[-1]))
        if isinstance(answer["rf"], list):
            self.rf_per_layer_answer(subject, answer, per_layer, ctx)
        else:
            self.g.answer(subject, "rf", answer, ctx)

    def rf_per_layer_answer(self, subject: Subject, answer, per_layer: list[int], ctx: Ctx):
        """`rf: [3, 5, 7]`: one receptive field per layer of an rf question."""
        given = answer["rf"]
        figure_line = line_of(answer, "rf")
        if len(given) != len(per_layer) or not all(isinstance(v, int) and not isinstance(v, bool) for v in given):
            raise self.r.err(f"expected one whole number per layer ({len(per_layer)}), got {quote(list(given))}",
                             figure_line, f"{ctx.path}.rf")
        vals = [int(v) for v in given]
        ok = vals == per_layer
        slip = None if ok else rf_slip(subject, vals, per_layer, per_layer=True)
        self.g.add(subject, "rf", ctx, figure_line, given_text=text_of(given), expected=", ".join(map(str, per_layer)),
                   expected_value=per_layer, ok=ok, slip=slip)

    def padding_question(self, name, spec, answer, ctx: Ctx, line, path):
        spec = fields(self.r, "same_padding", spec, line, path)
        if "kernel" not in spec:
            raise self.r.err("same_padding: missing `kernel:`", own_line(spec) or line, path)
        k, d = self.r.whole_numbers(spec, ("kernel", "dilation"), path)
        span = f.effective_kernel(k, d)
        size = max(span, 8)
        lay = {"name": "conv", "type": "conv", "filters": 1, "kernel": k, "padding": "same"}
        if d != 1:
            lay["dilation"] = d
        graph = self.build({"name": name, "input": [1, size, size], "layers": [lay]}, line, path)
        layer = graph.nodes[0].layer
        (pb, pa), _ = layer.pads()   # the conv class's own `same` rule; the output keeps size×size
        expected: Any = pb if pb == pa else [pb, pa]
        given = answer["padding"]
        figure_line = line_of(answer, "padding")
        g = padding_answer(given)
        if g is None:
            raise self.r.err(f"expected a whole number (or [before, after]), got {quote(text_of(given))}",
                             figure_line, f"{ctx.path}.padding")
        want = [pb] if pb == pa else [pb, pa]
        ok = g == want or (len(g) == 2 and pb == pa and g == [pb, pa])
        dk = "d·(k − 1)" if d != 1 else "k − 1"
        formula = [f"same padding at stride 1 keeps n: n + 2p − {'d·(k − 1) − 1' if d != 1 else 'k'} + 1 = n "
                   f"⇒ p = ({dk})/2 = {span - 1}/2"
                   + (f" = {pb}" if pb == pa else f": {pb} before, {pa} after (odd total, the extra one after, as "
                                                    f"PyTorch)")]
        self.g.add(Subject(name, "same_padding", "question", graph, report_of(graph), [0], graph.output, (0, 0)),
                   "padding", ctx, figure_line, given_text=text_of(given), expected=str(expected),
                   expected_value=want if pb != pa else pb, ok=ok, slip=None if ok else padding_slip(g, k, d),
                   formula=formula)


def question_subject(name: str, graph: Graph) -> Subject:
    report = report_of(graph)
    rf = report.layers[-1].rf
    single = len(graph.nodes) == 1
    return Subject.whole(name, graph.nodes[0].name if single else name, "question" if single else "chain",
                         graph, report, (rf.size, rf.size_w), explain_name=graph.nodes[0].name if single else None)


# --------------------------------------------------------------------------------------
# Questions as tiny architectures


def fields(r: Reader, kind: str, spec, line, path) -> LMap:
    if not isinstance(spec, dict):
        raise r.err(f"{kind}: expected a mapping ({', '.join(KIND_FIELDS[kind])})", line, path)
    r.refuse_unknown(spec, KIND_FIELDS[kind], path,
                     lambda key: f"{kind}: unknown field {quote(key)}{suggest(key, KIND_FIELDS[kind])} "
                                 f"(fields: {', '.join(KIND_FIELDS[kind])})")
    return spec


def shape_field(r: Reader, spec, key: str, layout: str | None, path: str, kind: str, need: int = 3) -> tuple:
    """An input shape in the file's layout (None: not stated, H×W×C, refused where ambiguous), channels first:
    H×W×C, or L×C / D×H×W×C for a 1-D or 3-D map; `need` 0 takes any shape (a `net` may start from a vector)."""
    shown = layout or "HWC"
    if key not in spec:
        raise r.err(f"{kind}: missing `{key}:` ({layout_text(shown)} such as 227x227x3)", own_line(spec), path)
    shape = r.parsed(parse_shape, spec[key], line_of(spec, key), path, shown, prefix=f"{key}: ")
    if need and len(shape.dims) not in (2, 3, 4):
        raise r.err(f"{key}: expected {layout_text(shown)} (three numbers; two or four for a 1-D or 3-D map), "
                    f"got {quote(shape.text)}", line_of(spec, key), path)
    if len(shape.dims) in (2, 3, 4):     # L×C, H×W×C, D×H×W×C in the course's layout
        return r.input_shape(shape.dims, layout, line_of(spec, key), path, key, isinstance(spec[key], list))
    return shape.chw


def question_spec(r: Reader, name: str, kind: str, spec, layout: str | None, line, path) -> dict:
    """A conv, pool, fc or net question as an architecture: {name, input, layers}."""
    spec = fields(r, kind, spec, line, path)
    if kind == "net":
        shape = shape_field(r, spec, "input", layout, path, kind, need=0)
        layers = spec.get("layers")
        if not isinstance(layers, list) or not layers:
            raise r.err("net: expected `layers:`, a list of layers in the architecture format",
                        line_of(spec, "layers") or line, path)
        return {"name": name, "input": list(shape), "layers": layers}
    layer = LMap()
    layer.line = own_line(spec) or line
    layer.key_lines = dict(getattr(spec, "key_lines", {}))
    if kind == "conv":
        shape = shape_field(r, spec, "input", layout, path, kind)
        layer.update({"name": "conv", "type": "conv"})
        _copy(layer, spec, ("kernel", "stride", "padding", "filters", "dilation", "groups", "bias"))
    elif kind == "pool":
        shape = shape_field(r, spec, "input", layout, path, kind)
        _pool_layer(r, layer, spec, path)
    else:
        shape = _fc_layer(r, layer, spec, layout, line, path)
    return {"name": name, "input": list(shape), "layers": llist([layer], layer.line)}


def _pool_layer(r: Reader, layer: LMap, spec, path):
    ptype = str(spec.get("type", "max")).lower()
    ptype = {"max": "maxpool", "avg": "avgpool", "average": "avgpool"}.get(ptype, ptype)
    if ptype not in ("maxpool", "avgpool"):
        raise r.err(f"pool: type: expected max or avg, got {quote(spec.get('type'))}", line_of(spec, "type"), path)
    layer.update({"name": "pool", "type": ptype})
    _copy(layer, spec, ("kernel", "stride", "padding", "dilation"))
    if "ceil" in spec:
        layer["ceil_mode"] = spec["ceil"]
        layer.key_lines["ceil_mode"] = line_of(spec, "ceil")


def _fc_layer(r: Reader, layer: LMap, spec, layout: str | None, line, path) -> tuple:
    """Fill in the linear layer of an fc question; its input shape (N,)."""
    for key in ("in", "out"):
        if key not in spec:
            raise r.err(f"fc: missing `{key}:` (fc: {{in: 9216, out: 4096}})", own_line(spec) or line, path)
    n_in = spec["in"]
    if isinstance(n_in, int) and not isinstance(n_in, bool):
        shape = (int(n_in),)
    else:
        s = r.parsed(parse_shape, n_in, line_of(spec, "in"), path, layout or "HWC", prefix="in: ")
        # a map: the layer flattens it itself
        shape = r.input_shape(s.dims, layout, line_of(spec, "in"), path, "in", isinstance(n_in, list)) if len(s.dims) == 3 else (numel(s.dims),)
    layer.update({"name": "fc", "type": "linear", "out": spec["out"]})
    _copy(layer, spec, ("bias",))
    return shape


def rf_layer(r: Reader, i: int, tok, spec, line, path) -> dict:
    """Layer i of an rf question: a token (conv3, conv5s2, conv3d2, pool2) or {kernel, stride, dilation, type}."""
    where = f"{path}[{i}]"
    tline = line_of(spec, i) if isinstance(spec, LList) else line
    if isinstance(tok, str):
        try:
            t = parse_token(tok)  # the same grammar as `cnncalc rf -l` (padding/filters ignored)
        except SpecError:
            raise r.err(f"cannot read {quote(tok)}: write conv3, conv5s2, conv3d2, pool2 or pool3s2",
                        tline, where) from None
        pool = t["type"] != "conv"
        k, d = t["kernel"], t.get("dilation", 1)
        s = t.get("stride", k if pool else 1)
        if d != 1 and t["type"] == "avgpool":
            raise r.err("avgpool has no dilation", tline, where)
    elif isinstance(tok, dict):
        extra = set(tok) - {"kernel", "stride", "dilation", "type"}
        if extra:
            key = next(k for k in tok if k in extra)  # the first in the file (keys may mix types)
            raise r.err(f"unknown field {quote(key)} (fields: kernel, stride, dilation, type)", line_of(tok, key), where)
        if "kernel" not in tok:
            raise r.err("missing `kernel:`", tline, where)
        ptype = str(tok.get("type", "conv"))
        pool = ptype in ("pool", "maxpool", "avgpool", "max", "avg")
        k, s, d = r.whole_numbers(tok, ("kernel", "stride", "dilation"), where)
    else:
        raise r.err(f"expected a token such as conv3 or a mapping {{kernel, stride}}, got {quote(tok)}", tline, where)
    if k < 1 or s < 1 or d < 1:
        raise r.err("kernel, stride and dilation must be ≥ 1", tline, where)
    lay = {"name": f"L{i + 1}", "type": "maxpool" if pool else "conv", "kernel": k, "stride": s}
    if not pool:
        lay["filters"] = 1
    if d != 1:
        lay["dilation"] = d
    return lay


def padding_answer(value) -> Optional[list]:
    """A same-padding answer: a number, or [before, after] / "1, 2"; None when unreadable."""
    if isinstance(value, list):
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value) and len(value) in (1, 2):
            return [int(v) for v in value]
        return None
    if isinstance(value, str) and re.search(r"[,x×+]", value):
        parts = re.split(r"\s*[,x×+]\s*", value.strip().strip("[]() "))
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            return [int(p) for p in parts]
        return None
    try:
        num = parse_number(value)
    except ParseError:
        return None
    v = num.value
    return [int(v) if v == v.to_integral_value() else v]


def _copy(layer: LMap, spec, keys: tuple[str, ...]):
    """The question's fields that the layer takes as they are."""
    for key in keys:
        if key in spec:
            layer[key] = spec[key]
