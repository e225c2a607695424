"""`cnncalc check`: grade hand-written exam answers against the analyzer.

An answers file names an architecture (a built-in or a path relative to the file) and gives,
per layer, the figures a student computed by hand; stand-alone `questions:` describe one
layer (or a short chain) each. Every expected value comes from the same code path as
`cnncalc analyze`: a question is turned into a small architecture dict and analyzed, so
the same layer classes answer everything. Each wrong answer gets the expected value, the
worked formula (cnncalc.explain) and, where one explains the gap, the classic slip by name
(cnncalc.slips).

    architecture: lenet5          # built-in name or path relative to this file
    layout: HWC                   # how shapes are written: HWC (default) or CHW
    tolerance: 1%                 # optional, file-wide (also per network, layer or answer)
    answers:
      C1: {output: 28x28x6, params: 156, macs: 117600}
      conv1_1: {params: 1792}     # a block name answers for the whole block
      total: {params: 61706, macs: 0.42M}
    networks:                     # more architectures in one file (label: {architecture, answers})
      vgg: {architecture: vgg16, answers: {total: {params: 138M}}}
    questions:
      q1:
        conv: {input: 227x227x3, kernel: 11, stride: 4, filters: 96}
        answer: {output: 55x55x96, params: 34944}

The result is a Pydantic model (`CheckResult`), rendered by the CLI as a table, GitHub
annotations, JUnit XML or JSON. Nothing here imports torch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional, Union

import yaml
from pydantic import BaseModel

from ..analysis import formulas as f
from ..analysis.analyze import load, report_of
from ..analysis.calc import parse_token
from ..errors import CnncalcError, SpecError, closest, suggest
from ..analysis.explain import explain
from ..analysis.graph import Graph
from ..layers import numel
from .numbers import (ParseError, fmt_dims, from_chw, layout_text, parse_layout, parse_number, parse_shape,
                      parse_tolerance, shape_matches)
from ..analysis.report import Report
from .slips import (Slip, Subject, find_slip, leaf_figure, padding_slip, shape_slip, stride_product_forgotten,
                    stride_products_forgotten)
from ..spec.yamlio import LList, LMap, _Loader, line_of, load_file, own_line

# --------------------------------------------------------------------------------------
# YAML that keeps the source text of numbers (so `138.0M` and `1_000` keep their precision)


class YInt(int):
    """An int from YAML that remembers how it was written."""
    text: str


class YFloat(float):
    """A float from YAML that remembers how it was written (`0.50` claims two decimals)."""
    text: str


class _AnswersLoader(_Loader):  # type: ignore[misc, valid-type]
    pass


def _keep(cls, construct):
    def constructor(loader, node):
        value = construct(loader, node)
        out = cls(value)
        out.text = node.value
        return out
    return constructor


_AnswersLoader.add_constructor("tag:yaml.org,2002:int", _keep(YInt, yaml.SafeLoader.construct_yaml_int))
_AnswersLoader.add_constructor("tag:yaml.org,2002:float", _keep(YFloat, yaml.SafeLoader.construct_yaml_float))


def plain(obj):
    """Strip the YAML number wrappers (keeping LMap/LList lines) before handing data to the analyzer."""
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, YInt):
        return int(obj)
    if isinstance(obj, YFloat):
        return float(obj)
    if isinstance(obj, LMap):
        out = LMap((k, plain(v)) for k, v in obj.items())
        out.line, out.key_lines = obj.line, obj.key_lines
        return out
    if isinstance(obj, LList):
        out = LList(plain(v) for v in obj)
        out.line, out.item_lines = obj.line, obj.item_lines
        return out
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    return obj


# --------------------------------------------------------------------------------------
# The result model (what --json prints; `Slip` lives in cnncalc.slips)


class Item(BaseModel):
    """One answered figure."""
    id: str                         # C1.params, q1.output (unique within its group)
    group: str                      # the network's label, or "questions"
    subject: str                    # layer, block, `total` or question name
    figure: str                     # output, params, weights, biases, macs, flops, rf, padding
    file: str
    line: Optional[int] = None
    given: str
    expected: str
    expected_value: Union[int, list[int], list[list[int]], None] = None
    ok: bool
    rule: str                       # exact / rounded to 1M / within 1%
    slip: Optional[Slip] = None
    formula: list[str] = []
    note: str = ""                  # how the name was matched, what the shape compared


class CheckResult(BaseModel):
    file: str
    networks: dict[str, str] = {}   # label → architecture name
    items: list[Item]
    total: int
    passed: int
    failed: int
    ok: bool

    @property
    def wrong(self) -> list[Item]:
        return [i for i in self.items if not i.ok]


TOP_KEYS = ("architecture", "layout", "tolerance", "input", "answers", "questions", "networks",
            "name", "title", "description", "source")
NET_KEYS = ("architecture", "layout", "tolerance", "input", "answers", "description")
LAYER_FIGURES = ("output", "params", "weights", "biases", "macs", "flops", "rf")
NUMERIC = ("params", "weights", "biases", "macs", "flops")
QUESTION_KINDS = {
    "conv": ("output", "params", "weights", "biases", "macs", "flops", "rf"),
    "pool": ("output", "params", "macs", "rf"),
    "fc": ("output", "params", "weights", "biases", "macs", "flops"),
    "rf": ("rf",),
    "same_padding": ("padding",),
    "net": ("output", "params", "weights", "biases", "macs", "flops", "rf"),
}
QUESTION_KEYS = ("answer", "tolerance", "layout", "text", "description")
KIND_FIELDS = {
    "conv": ("input", "kernel", "stride", "padding", "filters", "dilation", "groups", "bias"),
    "pool": ("input", "kernel", "stride", "padding", "ceil", "type", "dilation"),
    "fc": ("in", "out", "bias"),
    "same_padding": ("kernel", "dilation"),
    "net": ("input", "layers"),
}


def check(source: Any, *, base_dir: str | Path | None = None) -> CheckResult:
    """Grade an answers file (a path) or an already parsed mapping; malformed input raises SpecError."""
    if isinstance(source, dict):
        doc, file = source, "<answers>"
        base = Path(base_dir) if base_dir else Path.cwd()
    else:
        file = str(source)
        doc = load_file(source, loader=_AnswersLoader)
        base = Path(base_dir) if base_dir else Path(source).parent
    return Checker(doc, file, base).run()


# --------------------------------------------------------------------------------------


@dataclass
class Ctx:
    """Where an answer sits and what rules apply to it."""
    group: str
    path: str                    # answers.C1 / questions.q1.answer
    layout: str
    tolerance: Optional[Decimal]


class Checker:
    def __init__(self, doc, file: str, base: Path):
        self.doc, self.file, self.base = doc, file, base
        self.items: list[Item] = []
        self.networks: dict[str, str] = {}

    def err(self, msg: str, line: Optional[int], path: Optional[str]) -> SpecError:
        return SpecError(msg, file=self.file, line=line, path=path)

    # -- reading the file: what every section shares ----------------------------------
    def parsed(self, parse: Callable, value, line, path: Optional[str], *args, prefix: str = ""):
        """parse(value, *args); its ParseError becomes this file's error at line and path."""
        try:
            return parse(value, *args)
        except ParseError as e:
            raise self.err(f"{prefix}{e}", line, path) from None

    def refuse_unknown(self, m, allowed, path: Optional[str], message: Callable[[Any], str]):
        """The first key of m not in allowed is an error at its own line (path None: the key is the path)."""
        for key in m:
            if key not in allowed:
                raise self.err(message(key), line_of(m, key), str(key) if path is None else path)

    def mapping(self, m, key: str, message: str, path: str):
        """m[key], which must be a mapping with at least one entry."""
        value = m[key]
        if not isinstance(value, dict) or not value:
            raise self.err(message, line_of(m, key), path)
        return value

    def whole_numbers(self, m, keys: tuple[str, ...], path: str) -> list[int]:
        """m's values for keys (1 where absent), each a whole number ≥ 1."""
        out = []
        for key in keys:
            v = m.get(key, 1)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise self.err(f"{key}: expected a whole number ≥ 1, got {v!r}", line_of(m, key), path)
            out.append(int(v))
        return out

    def setting(self, m, key: str, parse: Callable, default, path: Optional[str]):
        """A setting that applies below where it is given (layout, tolerance); else the inherited one."""
        if not isinstance(m, dict) or key not in m:
            return default
        return self.parsed(parse, m[key], line_of(m, key), _join(path, key))

    def layout(self, m, default: str, path: Optional[str]) -> str:
        return self.setting(m, "layout", parse_layout, default, path)

    def tolerance(self, m, default: Optional[Decimal], path: Optional[str]) -> Optional[Decimal]:
        return self.setting(m, "tolerance", parse_tolerance, default, path)

    # -- top level -------------------------------------------------------------------
    def run(self) -> CheckResult:
        doc = self.doc
        if doc is None:
            raise self.err("empty file: expected a mapping with architecture and answers, or questions", None, None)
        if not isinstance(doc, dict):
            raise self.err("the top level must be a mapping (architecture, layout, answers, questions)",
                           own_line(doc) or 1, None)
        self.refuse_unknown(doc, TOP_KEYS, None, lambda key: f"unknown top-level key {key!r}{suggest(key, TOP_KEYS)} "
                                                             f"(expected {', '.join(TOP_KEYS[:7])})")
        layout = self.layout(doc, "HWC", None)
        tol = self.tolerance(doc, None, "")
        if not any(k in doc for k in ("answers", "questions", "networks")):
            raise self.err("nothing to check: expected `answers:` (with `architecture:`), `networks:` or `questions:`",
                           own_line(doc) or 1, None)
        if "answers" in doc or "architecture" in doc:
            if "architecture" not in doc:
                raise self.err("`answers:` needs `architecture:` (a built-in name such as lenet5, or a path "
                               "relative to this file)", line_of(doc, "answers"), None)
            if "answers" not in doc:
                raise self.err("`architecture:` given but no `answers:`", line_of(doc, "architecture"), "answers")
            self.network(str(doc["architecture"]), doc, "", layout, tol)
        if doc.get("networks") is not None:
            self.each_network(doc, layout, tol)
        if doc.get("questions") is not None:
            self.each_question(doc, layout, tol)
        if not self.items:
            raise self.err("no answers to check", own_line(doc) or 1, None)
        failed = sum(not i.ok for i in self.items)
        return CheckResult(file=self.file, networks=self.networks, items=self.items, total=len(self.items),
                           passed=len(self.items) - failed, failed=failed, ok=failed == 0)

    def each_network(self, doc, layout: str, tol):
        nets = self.mapping(doc, "networks", "networks: expected a mapping label → {architecture, answers}",
                            "networks")
        for label, net in nets.items():
            path = f"networks.{label}"
            if not isinstance(net, dict):
                raise self.err("expected a mapping with architecture and answers", line_of(nets, label), path)
            self.refuse_unknown(net, NET_KEYS, path, lambda key: f"unknown key {key!r}{suggest(key, NET_KEYS)} "
                                                                 f"(expected {', '.join(NET_KEYS)})")
            if "answers" not in net:
                raise self.err("missing `answers:`", line_of(nets, label), path)
            if str(label) in self.networks:
                raise self.err(f"network label {label!r} is used twice", line_of(nets, label), path)
            self.network(str(label), net, path + ".", self.layout(net, layout, path),
                         self.tolerance(net, tol, path))

    def each_question(self, doc, layout: str, tol):
        qs = self.mapping(doc, "questions", "questions: expected a mapping name → "
                          "{conv|pool|fc|rf|same_padding|net, answer}", "questions")
        for name, q in qs.items():
            self.question(name, q, qs, layout, tol)

    # -- networks --------------------------------------------------------------------
    def load_arch(self, m, path: str, layout: str) -> Graph:
        value = m["architecture"]
        line = line_of(m, "architecture")
        where = path + "architecture"
        if not isinstance(value, str) or not value.strip():
            raise self.err(f"expected a built-in name or a path, got {value!r}", line, where)
        value = value.strip()
        candidate = self.base / value
        if not candidate.exists() and (any(c in value for c in "/\\") or value.endswith((".yaml", ".yml"))):
            raise self.err(f"no architecture file {str(candidate)!r} (a path is relative to the answers file)",
                           line, where)
        spec = str(candidate) if candidate.exists() else value
        inp = None
        if "input" in m:
            inp = self.input_override(m, path, layout)
        try:
            return load(spec, inp)
        except CnncalcError as e:
            if e.file is None:  # not a fault inside the architecture file itself: point at our line
                raise self.err(e.message, line, where) from None
            raise

    def input_override(self, m, path: str, layout: str):
        value = m["input"]
        line = line_of(m, "input")
        if isinstance(value, int) and not isinstance(value, bool):
            return str(int(value))
        shape = self.parsed(parse_shape, value, line, path + "input", layout)
        if len(shape.dims) != 3:
            raise self.err(f"expected {layout_text(layout)} (three numbers) or one size, got {shape.text!r}",
                           line, path + "input")
        return shape.chw

    def network(self, label: str, m, path: str, layout: str, tol):
        graph = self.load_arch(m, path, layout)
        report = report_of(graph)
        self.networks[label] = graph.name
        apath = path + "answers"
        answers = self.mapping(m, "answers", "expected a mapping layer name → {output, params, macs, …}", apath)
        allowed = LAYER_FIGURES + ("tolerance",)
        for name, entry in answers.items():
            epath = f"{apath}.{name}"
            line = line_of(answers, name)
            if not isinstance(entry, dict):
                raise self.err(f"expected a mapping of figures such as {{params: 156}}, got {entry!r}", line, epath)
            subject = self.subject(graph, report, str(name), line, epath)
            self.refuse_unknown(entry, allowed, epath, lambda key: f"unknown figure {key!r}{suggest(key, allowed)} "
                                                                   f"(figures: {', '.join(LAYER_FIGURES)})")
            self.grade(subject, LAYER_FIGURES, entry, Ctx(label, epath, layout, self.tolerance(entry, tol, epath)))

    def subject(self, graph: Graph, report: Report, name: str, line, path) -> Subject:
        if name == "total":
            last = report.layers[-1].rf
            return Subject.whole(name, "total", "total", graph, report, (last.size, last.size_w))
        leaves = [nd.name for nd in graph.nodes]
        groups = [g.name for g in graph.groups]
        found = None
        if name in leaves:
            found = ("layer", name)
        elif name in groups:
            found = ("block", name)
        else:
            hits = [("layer", n) for n in leaves if n.endswith("." + name)] + \
                   [("block", g) for g in groups if g.endswith("." + name)]
            if len(hits) == 1:
                found = hits[0]
            elif len(hits) > 1:
                names = ", ".join(h[1] for h in hits[:6]) + (", …" if len(hits) > 6 else "")
                raise self.err(f"layer name {name!r} is ambiguous in {graph.name}: {names}", line, path)
        if found is None:
            near = closest(name, leaves + groups + ["total"], n=4)
            hint = f"; did you mean {', '.join(near)}?" if near else \
                f"; its layers are {', '.join((groups if graph.groups else leaves)[:8])}…"
            raise self.err(f"no layer named {name!r} in {graph.name}{hint}", line, path)
        kind, resolved = found
        note = "" if resolved == name else f"{name} = {resolved}"
        if kind == "layer":
            idx = leaves.index(resolved)
            rf = report.layers[idx].rf
            return Subject(name, resolved, "layer", graph, report, [idx], tuple(graph.nodes[idx].out_shape),
                           (rf.size, rf.size_w), explain_name=resolved, note=note)
        g = graph.groups[groups.index(resolved)]
        rf = report.layers[g.last].rf
        members = list(range(g.first, g.last + 1))
        note = (note + "; " if note else "") + \
            f"block {resolved} ({g.type}, {len(members)} layer{'s' if len(members) > 1 else ''})"
        return Subject(name, resolved, "block", graph, report, members, tuple(g.out_shape),
                       (rf.size, rf.size_w), explain_name=resolved, note=note)

    # -- questions -------------------------------------------------------------------
    def question(self, key, q, qs, layout: str, tol):
        name = str(key)
        path = f"questions.{name}"
        qline = line_of(qs, key)
        if not isinstance(q, dict):
            raise self.err("expected a mapping such as {conv: {...}, answer: {...}}", qline, path)
        kinds = [k for k in q if k in QUESTION_KINDS]
        keys = list(QUESTION_KINDS) + list(QUESTION_KEYS)
        self.refuse_unknown(q, keys, path, lambda k: f"unknown key {k!r}{suggest(k, keys)} (a question has one of "
                                                     f"{', '.join(QUESTION_KINDS)} and an answer)")
        if len(kinds) != 1:
            raise self.err(f"a question needs exactly one of {', '.join(QUESTION_KINDS)}"
                           + (f", got {', '.join(kinds)}" if kinds else ""), qline, path)
        kind = kinds[0]
        if "answer" not in q:
            raise self.err("missing `answer:` (the figures to grade)", qline, path)
        apath = f"{path}.answer"
        answer = self.mapping(q, "answer", f"expected a mapping of figures ({', '.join(QUESTION_KINDS[kind])})", apath)
        layout = self.layout(q, layout, path)
        tol = self.tolerance(q, tol, path)
        allowed = QUESTION_KINDS[kind] + ("tolerance",)
        self.refuse_unknown(answer, allowed, apath, lambda k: f"a {kind} question does not answer {k!r}"
                                                              f"{suggest(k, allowed)} "
                                                              f"(it answers {', '.join(QUESTION_KINDS[kind])})")
        if not any(k in answer for k in QUESTION_KINDS[kind]):
            raise self.err(f"`answer:` gives no figure to grade (a {kind} question answers "
                           f"{', '.join(QUESTION_KINDS[kind])})", line_of(q, "answer"), apath)
        ctx = Ctx("questions", apath, layout, self.tolerance(answer, tol, apath))
        spec, kline, kpath = q[kind], line_of(q, kind), f"{path}.{kind}"
        if kind == "rf":
            self.rf_question(name, spec, answer, ctx, kline, kpath)
        elif kind == "same_padding":
            self.padding_question(name, spec, answer, ctx, kline, kpath)
        else:
            self.layer_question(name, kind, spec, answer, ctx, kline, kpath)

    def layer_question(self, name: str, kind: str, spec, answer, ctx: Ctx, line, path):
        """conv, pool, fc or net: built as a small architecture and graded like a network's layers."""
        doc = self.question_spec(name, kind, spec, ctx.layout, line, path)
        graph = self.build(doc, line, path, inner=kind == "net")
        self.grade(self.question_subject(name, graph), QUESTION_KINDS[kind], answer, ctx)

    def question_subject(self, name: str, graph: Graph) -> Subject:
        report = report_of(graph)
        rf = report.layers[-1].rf
        single = len(graph.nodes) == 1
        return Subject.whole(name, graph.nodes[0].name if single else name, "question" if single else "chain",
                             graph, report, (rf.size, rf.size_w), explain_name=graph.nodes[0].name if single else None)

    def build(self, doc, line, path, inner: bool = False) -> Graph:
        """Analyze a question's small architecture; errors point into the answers file."""
        try:
            return load(plain(doc))
        except CnncalcError as e:
            where = f"{path}.{e.path.split(' ')[0]}" if inner and e.path else path
            raise self.err(e.message, e.line or line, where) from None

    def fields(self, kind: str, spec, line, path) -> LMap:
        if not isinstance(spec, dict):
            raise self.err(f"{kind}: expected a mapping ({', '.join(KIND_FIELDS[kind])})", line, path)
        self.refuse_unknown(spec, KIND_FIELDS[kind], path,
                            lambda key: f"{kind}: unknown field {key!r}{suggest(key, KIND_FIELDS[kind])} "
                                        f"(fields: {', '.join(KIND_FIELDS[kind])})")
        return spec

    def shape_field(self, spec, key: str, layout: str, path: str, kind: str, need: int = 3) -> tuple:
        if key not in spec:
            raise self.err(f"{kind}: missing `{key}:` ({layout_text(layout)} such as 227x227x3)",
                           own_line(spec), path)
        shape = self.parsed(parse_shape, spec[key], line_of(spec, key), path, layout, prefix=f"{key}: ")
        if need and len(shape.dims) != need:
            raise self.err(f"{key}: expected {layout_text(layout)} (three numbers), got {shape.text!r}",
                           line_of(spec, key), path)
        return shape.chw

    def question_spec(self, name: str, kind: str, spec, layout: str, line, path) -> dict:
        """A conv, pool, fc or net question as an architecture: {name, input, layers}."""
        spec = self.fields(kind, spec, line, path)
        if kind == "net":
            shape = self.shape_field(spec, "input", layout, path, kind, need=0)
            if len(shape) == 2:
                raise self.err(f"input: expected {layout_text(layout)} or one number N", line_of(spec, "input"), path)
            layers = spec.get("layers")
            if not isinstance(layers, list) or not layers:
                raise self.err("net: expected `layers:`, a list of layers in the architecture format",
                               line_of(spec, "layers") or line, path)
            return {"name": name, "input": list(shape), "layers": layers}
        layer = LMap()
        layer.line = own_line(spec) or line
        layer.key_lines = dict(getattr(spec, "key_lines", {}))
        if kind == "conv":
            shape = self.shape_field(spec, "input", layout, path, kind)
            layer.update({"name": "conv", "type": "conv"})
            _copy(layer, spec, ("kernel", "stride", "padding", "filters", "dilation", "groups", "bias"))
        elif kind == "pool":
            shape = self.shape_field(spec, "input", layout, path, kind)
            ptype = str(spec.get("type", "max")).lower()
            ptype = {"max": "maxpool", "avg": "avgpool", "average": "avgpool"}.get(ptype, ptype)
            if ptype not in ("maxpool", "avgpool"):
                raise self.err(f"pool: type: expected max or avg, got {spec.get('type')!r}",
                               line_of(spec, "type"), path)
            layer.update({"name": "pool", "type": ptype})
            _copy(layer, spec, ("kernel", "stride", "padding", "dilation"))
            if "ceil" in spec:
                layer["ceil_mode"] = spec["ceil"]
                layer.key_lines["ceil_mode"] = line_of(spec, "ceil")
        else:  # fc
            for key in ("in", "out"):
                if key not in spec:
                    raise self.err(f"fc: missing `{key}:` (fc: {{in: 9216, out: 4096}})", own_line(spec) or line, path)
            n_in = spec["in"]
            if isinstance(n_in, int) and not isinstance(n_in, bool):
                shape = (int(n_in),)
            else:
                s = self.parsed(parse_shape, n_in, line_of(spec, "in"), path, layout, prefix="in: ")
                shape = (numel(s.dims),)
            layer.update({"name": "fc", "type": "linear", "out": spec["out"]})
            _copy(layer, spec, ("bias",))
        return {"name": name, "input": list(shape), "layers": _llist([layer], layer.line)}

    def rf_question(self, name, spec, answer, ctx: Ctx, line, path):
        if not isinstance(spec, list) or not spec:
            raise self.err("rf: expected a list of layers: [conv3, conv3, pool2, conv5s2, conv3d2] or "
                           "[{kernel: 3, stride: 1}, …]", line, path)
        layers = [self.rf_layer(i, tok, spec, line, path) for i, tok in enumerate(spec)]
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
            self.answer(subject, "rf", answer, ctx)

    def rf_layer(self, i: int, tok, spec, line, path) -> dict:
        """Layer i of an rf question: a token (conv3, conv5s2, conv3d2, pool2) or {kernel, stride, dilation, type}."""
        where = f"{path}[{i}]"
        tline = line_of(spec, i) if isinstance(spec, LList) else line
        if isinstance(tok, str):
            try:
                t = parse_token(tok)  # the same grammar as `cnncalc rf -l` (padding/filters ignored)
            except SpecError:
                raise self.err(f"cannot read {tok!r}: write conv3, conv5s2, conv3d2, pool2 or pool3s2",
                               tline, where) from None
            pool = t["type"] != "conv"
            k, d = t["kernel"], t.get("dilation", 1)
            s = t.get("stride", k if pool else 1)
            if d != 1 and t["type"] == "avgpool":
                raise self.err("avgpool has no dilation", tline, where)
        elif isinstance(tok, dict):
            extra = set(tok) - {"kernel", "stride", "dilation", "type"}
            if extra:
                key = next(k for k in tok if k in extra)  # the first in the file (keys may mix types)
                raise self.err(f"unknown field {key!r} (fields: kernel, stride, dilation, type)",
                               line_of(tok, key), where)
            if "kernel" not in tok:
                raise self.err("missing `kernel:`", tline, where)
            ptype = str(tok.get("type", "conv"))
            pool = ptype in ("pool", "maxpool", "avgpool", "max", "avg")
            k, s, d = self.whole_numbers(tok, ("kernel", "stride", "dilation"), where)
        else:
            raise self.err(f"expected a token such as conv3 or a mapping {{kernel, stride}}, got {tok!r}",
                           tline, where)
        if k < 1 or s < 1 or d < 1:
            raise self.err("kernel, stride and dilation must be ≥ 1", tline, where)
        lay = {"name": f"L{i + 1}", "type": "maxpool" if pool else "conv", "kernel": k, "stride": s}
        if not pool:
            lay["filters"] = 1
        if d != 1:
            lay["dilation"] = d
        return lay

    def rf_per_layer_answer(self, subject: Subject, answer, per_layer: list[int], ctx: Ctx):
        """`rf: [3, 5, 7]`: one receptive field per layer of an rf question."""
        given = answer["rf"]
        figure_line = line_of(answer, "rf")
        if len(given) != len(per_layer) or not all(isinstance(v, int) and not isinstance(v, bool) for v in given):
            raise self.err(f"expected one whole number per layer ({len(per_layer)}), got {list(given)!r}",
                           figure_line, f"{ctx.path}.rf")
        vals = [int(v) for v in given]
        ok = vals == per_layer
        slip = None if ok else stride_products_forgotten(subject.graph, vals, per_layer)
        self.add(subject, "rf", ctx, figure_line, given_text=_text(given), expected=", ".join(map(str, per_layer)),
                 expected_value=per_layer, ok=ok, slip=slip)

    def padding_question(self, name, spec, answer, ctx: Ctx, line, path):
        spec = self.fields("same_padding", spec, line, path)
        if "kernel" not in spec:
            raise self.err("same_padding: missing `kernel:`", own_line(spec) or line, path)
        k, d = self.whole_numbers(spec, ("kernel", "dilation"), path)
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
            raise self.err(f"expected a whole number (or [before, after]), got {_text(given)!r}",
                           figure_line, f"{ctx.path}.padding")
        want = [pb] if pb == pa else [pb, pa]
        ok = g == want or (len(g) == 2 and pb == pa and g == [pb, pa])
        dk = "d·(k − 1)" if d != 1 else "k − 1"
        formula = [f"same padding at stride 1 keeps n: n + 2p − {'d·(k − 1) − 1' if d != 1 else 'k'} + 1 = n "
                   f"⇒ p = ({dk})/2 = {span - 1}/2"
                   + (f" = {pb}" if pb == pa else f": {pb} before, {pa} after (odd total, the extra one after, as "
                                                    f"PyTorch)")]
        self.add(Subject(name, "same_padding", "question", graph, report_of(graph), [0], graph.output, (0, 0)),
                 "padding", ctx, figure_line, given_text=_text(given), expected=str(expected),
                 expected_value=want if pb != pa else pb, ok=ok, slip=None if ok else padding_slip(g, span, size),
                 formula=formula)

    # -- one answered figure ---------------------------------------------------------
    def grade(self, subject: Subject, figures: tuple[str, ...], entry, ctx: Ctx):
        """Each of these figures that the entry answers, in this order."""
        for figure in figures:
            if figure in entry:
                self.answer(subject, figure, entry, ctx)

    def answer(self, subject: Subject, figure: str, entry, ctx: Ctx):
        value = entry[figure]
        line = line_of(entry, figure)
        path = f"{ctx.path}.{figure}"
        tol = ctx.tolerance
        if isinstance(value, dict):
            extra = set(value) - {"value", "tolerance"}
            if extra or "value" not in value:
                raise self.err("expected a figure, or {value: …, tolerance: …}", line, path)
            tol = self.tolerance(value, tol, path)
            value = value["value"]
        if figure == "output":
            self.output_answer(subject, value, ctx, line, path)
        elif figure == "rf":
            self.rf_answer(subject, value, ctx, line, path, tol)
        else:
            self.count_answer(subject, figure, value, ctx, line, path, tol)

    def count_answer(self, subject: Subject, figure: str, value, ctx: Ctx, line, path, tol):
        """params, weights, biases, macs or flops: a number, right by the rounding rule or the tolerance."""
        num = self.parsed(parse_number, value, line, path)
        true = subject.total(figure)
        ok = num.matches(true, tol)
        slip = None if ok else find_slip(subject, figure, num, true, tol)
        expected = f"{true:,}"
        if not num.exact and tol is None and not ok:
            expected += f" ≈ {num.rounded(true)}"
        self.add(subject, figure, ctx, line, given_text=num.text, expected=expected, expected_value=true, ok=ok,
                 rule=num.rule(tol), slip=slip)

    def output_answer(self, subject: Subject, value, ctx: Ctx, line, path):
        given = self.parsed(parse_shape, value, line, path, ctx.layout)
        exp = tuple(subject.output)
        ok = shape_matches(given, exp)
        note = ""
        if ok and len(given.dims) == 2 and len(exp) == 3:
            note = "spatial size H×W only"
        slip = None if ok else shape_slip(subject, given, exp)
        expected = fmt_dims(from_chw(exp, ctx.layout)) + (f" ({layout_text(ctx.layout)})" if len(exp) == 3 else "")
        self.add(subject, "output", ctx, line, given_text=given.text, expected=expected, expected_value=list(exp),
                 ok=ok, slip=slip, note=note)

    def rf_answer(self, subject: Subject, value, ctx: Ctx, line, path, tol):
        h, w = subject.rf
        if isinstance(value, (list, str)) and not (isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value)):
            dims = self.parsed(parse_shape, value, line, path, "CHW").dims
            if len(dims) not in (1, 2):
                raise self.err(f"expected one size or [h, w], got {_text(value)!r}", line, path)
            given = dims if len(dims) == 2 else (dims[0], dims[0])
            text = _text(value)
        else:
            num = self.parsed(parse_number, value, line, path)
            if not num.exact:
                raise self.err(f"expected a whole number, got {num.text!r}", line, path)
            given = (int(num.value), int(num.value))
            text = num.text
        ok = given == (h, w)
        slip = None if ok else stride_product_forgotten(subject, given)
        expected = str(h) if h == w else f"{h}×{w}"
        self.add(subject, "rf", ctx, line, given_text=text, expected=expected,
                 expected_value=h if h == w else [h, w], ok=ok, slip=slip)

    def add(self, subject: Subject, figure: str, ctx: Ctx, line, *, given_text: str, expected: str,
            expected_value, ok: bool, slip: Optional[Slip], rule: str = "exact",
            formula: Optional[list[str]] = None, note: str = ""):
        """Record one graded figure; a wrong one carries its worked formula (the subject's, unless given)."""
        if ok:
            formula = []
        elif formula is None:
            formula = self.formula(subject, figure)
        notes = [n for n in (subject.note, note) if n]
        self.items.append(Item(
            id=f"{subject.name}.{figure}", group=ctx.group, subject=subject.name, figure=figure, file=self.file,
            line=line, given=given_text, expected=expected, expected_value=expected_value, ok=ok, rule=rule,
            slip=slip, formula=formula, note="; ".join(notes)))

    # -- worked formulas -------------------------------------------------------------
    def formula(self, subject: Subject, figure: str) -> list[str]:
        graph = subject.graph
        if subject.kind == "total" and figure in NUMERIC + ("output", "rf"):
            return total_formula(subject, figure)
        try:
            parts = explain(graph, subject.explain_name) if subject.explain_name else \
                [explain(graph, graph.nodes[i].name)[0] for i in subject.nodes]
        except CnncalcError:
            return []
        wanted = {"output": ("output",), "params": ("params", "N_in"), "weights": ("params", "N_in"),
                  "biases": ("params", "N_in"), "macs": ("MACs",), "flops": ("MACs", "FLOPs"),
                  "rf": ("RF",)}[figure]
        picked = [(title, [ln for ln in lines if ln.startswith(wanted)]) for title, lines in parts]
        picked = [(t, ls) for t, ls in picked if ls]
        if not picked:
            return []
        if len(parts) == 1:
            return picked[0][1]
        if figure == "rf" and subject.kind == "chain":
            return _titled(picked)
        if figure in ("output", "rf"):
            return _titled(picked[-1:])
        out = _titled(picked)
        vals = _terms(subject, figure)
        if len(vals) > 1:
            out.append(f"{figure}: " + " + ".join(f"{v:,}" for _, v in vals) + f" = {subject.total(figure):,}")
        return out


def total_formula(subject: Subject, figure: str) -> list[str]:
    report = subject.report
    if figure == "output":
        return [f"network output: {fmt_dims(subject.output)} (C×H×W), from {report.layers[-1].name}"]
    if figure == "rf":
        last = report.layers[-1]
        return [f"receptive field of {last.name}: {last.rf.size}, effective stride {last.rf.stride}"]
    vals = _terms(subject, figure)
    shown = vals if len(vals) <= 8 else vals[:7]
    terms = " + ".join(f"{n} {v:,}" for n, v in shown) + (f" + … ({len(vals) - 7} more)" if len(vals) > 8 else "")
    what = {"params": "params", "weights": "weights (params − biases)", "biases": "biases", "macs": "MACs",
            "flops": "FLOPs = 2·MACs"}[figure]
    return [f"{what}: Σ over layers = {terms} = {subject.total(figure):,}"]


def _terms(subject: Subject, figure: str) -> list[tuple[str, int]]:
    """(leaf name, value) of the subject's leaves that contribute to the figure."""
    vals = [(subject.graph.nodes[i].name, leaf_figure(subject.graph, subject.report, i, figure))
            for i in subject.nodes]
    return [(n, v) for n, v in vals if v]


def _titled(picked: list[tuple[str, list[str]]]) -> list[str]:
    """Formula lines, each prefixed with its layer's name (the first word of the explain title)."""
    return [f"{title.split(' ')[0]}: {ln}" for title, lines in picked for ln in lines]


# --------------------------------------------------------------------------------------


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


def _join(path: Optional[str], key: str) -> str:
    return f"{path}.{key}" if path else key


def _text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(getattr(value, "text", value))


def _llist(items: list, line) -> LList:
    out = LList(items)
    out.line = line
    out.item_lines = [line] * len(items)
    return out
