"""`cnncalc check`: grade hand-written exam answers against the analyzer.

An answers file names an architecture (a built-in or a path relative to the file) and gives,
per layer, the figures a student computed by hand; stand-alone `questions:` describe one
layer (or a short chain) each. Every expected value comes from the same code path as
`cnncalc analyze`: a question is turned into a small architecture dict and analyzed, so
the same layer classes answer everything. Each wrong answer gets the expected value, the
worked formula (cnncalc.explain) and, where one explains the gap, the classic slip by name.

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

from . import formulas as f
from .analyze import load, report_of
from .calc import parse_token
from .errors import CnncalcError, SpecError, closest, suggest
from .explain import explain
from .graph import INPUT, Graph
from .layers import numel
from .numbers import (Number, ParseError, ShapeAnswer, fmt_dims, from_chw, layout_text, parse_layout, parse_number,
                      parse_shape, parse_tolerance, shape_matches)
from .report import Report
from .yamlio import LList, LMap, _Loader, line_of, load_file, own_line

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
# The result model (what --json prints)


class Slip(BaseModel):
    """A classic mistake that explains the gap between the answer and the true value."""
    name: str
    detail: str


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
# What an answer is about: a layer, a block, the whole network, or a question's small graph


@dataclass
class Subject:
    name: str                    # as the answers file calls it
    resolved: str                # the graph's name for it ("conv1_1", "total", …)
    kind: str                    # layer | block | total | question
    graph: Graph
    report: Report
    nodes: list[int]             # leaf indices covered, in order
    output: tuple
    rf: tuple[int, int]
    explain_name: Optional[str] = None
    note: str = ""

    def total(self, figure: str) -> int:
        return sum(leaf_figure(self.graph, self.report, i, figure) for i in self.nodes)


def leaf_bias(node) -> int:
    layer = node.layer
    if layer.type == "conv":
        return layer.filters if layer.bias else 0
    if layer.type == "linear":
        return layer.out if layer.bias else 0
    return 0


def leaf_figure(graph: Graph, report: Report, idx: int, figure: str) -> int:
    row = report.layers[idx]
    if figure == "params":
        return row.params
    if figure == "macs":
        return row.macs
    if figure == "flops":
        return row.flops
    if figure == "biases":
        return leaf_bias(graph.nodes[idx])
    if figure == "weights":
        return row.params - leaf_bias(graph.nodes[idx])
    raise KeyError(figure)


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

    # -- top level -------------------------------------------------------------------
    def run(self) -> CheckResult:
        doc = self.doc
        if doc is None:
            raise self.err("empty file: expected a mapping with architecture and answers, or questions", None, None)
        if not isinstance(doc, dict):
            raise self.err("the top level must be a mapping (architecture, layout, answers, questions)",
                           own_line(doc) or 1, None)
        for key in doc:
            if key not in TOP_KEYS:
                raise self.err(f"unknown top-level key {key!r}{suggest(key, TOP_KEYS)} "
                               f"(expected {', '.join(TOP_KEYS[:7])})", line_of(doc, key), str(key))
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
            label = str(doc["architecture"])
            self.network(label, doc, "", layout, tol)
        nets = doc.get("networks")
        if nets is not None:
            if not isinstance(nets, dict) or not nets:
                raise self.err("networks: expected a mapping label → {architecture, answers}",
                               line_of(doc, "networks"), "networks")
            for label, net in nets.items():
                path = f"networks.{label}"
                if not isinstance(net, dict):
                    raise self.err("expected a mapping with architecture and answers", line_of(nets, label), path)
                for key in net:
                    if key not in NET_KEYS:
                        raise self.err(f"unknown key {key!r}{suggest(key, NET_KEYS)} (expected {', '.join(NET_KEYS)})",
                                       line_of(net, key), path)
                if "answers" not in net:
                    raise self.err("missing `answers:`", line_of(nets, label), path)
                if str(label) in self.networks:
                    raise self.err(f"network label {label!r} is used twice", line_of(nets, label), path)
                self.network(str(label), net, path + ".", self.layout(net, layout, path),
                             self.tolerance(net, tol, path))
        qs = doc.get("questions")
        if qs is not None:
            if not isinstance(qs, dict) or not qs:
                raise self.err("questions: expected a mapping name → {conv|pool|fc|rf|same_padding|net, answer}",
                               line_of(doc, "questions"), "questions")
            for name, q in qs.items():
                self.question(name, q, qs, layout, tol)
        if not self.items:
            raise self.err("no answers to check", own_line(doc) or 1, None)
        failed = sum(not i.ok for i in self.items)
        return CheckResult(file=self.file, networks=self.networks, items=self.items, total=len(self.items),
                           passed=len(self.items) - failed, failed=failed, ok=failed == 0)

    def layout(self, m, default: str, path: Optional[str]) -> str:
        if "layout" not in m:
            return default
        try:
            return parse_layout(m["layout"])
        except ParseError as e:
            raise self.err(str(e), line_of(m, "layout"), _join(path, "layout")) from None

    def tolerance(self, m, default: Optional[Decimal], path: Optional[str]) -> Optional[Decimal]:
        if not isinstance(m, dict) or "tolerance" not in m:
            return default
        try:
            return parse_tolerance(m["tolerance"])
        except ParseError as e:
            raise self.err(str(e), line_of(m, "tolerance"), _join(path, "tolerance")) from None

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
        try:
            shape = parse_shape(value, layout)
        except ParseError as e:
            raise self.err(str(e), line, path + "input") from None
        if len(shape.dims) != 3:
            raise self.err(f"expected {layout_text(layout)} (three numbers) or one size, got {shape.text!r}",
                           line, path + "input")
        return shape.chw

    def network(self, label: str, m, path: str, layout: str, tol):
        graph = self.load_arch(m, path, layout)
        report = report_of(graph)
        self.networks[label] = graph.name
        answers = m["answers"]
        apath = path + "answers"
        if not isinstance(answers, dict) or not answers:
            raise self.err("expected a mapping layer name → {output, params, macs, …}",
                           line_of(m, "answers"), apath)
        for name, entry in answers.items():
            epath = f"{apath}.{name}"
            line = line_of(answers, name)
            if not isinstance(entry, dict):
                raise self.err(f"expected a mapping of figures such as {{params: 156}}, got {entry!r}", line, epath)
            subject = self.subject(graph, report, str(name), line, epath)
            allowed = LAYER_FIGURES + ("tolerance",)
            for key in entry:
                if key not in allowed:
                    raise self.err(f"unknown figure {key!r}{suggest(key, allowed)} "
                                   f"(figures: {', '.join(LAYER_FIGURES)})", line_of(entry, key), epath)
            ctx = Ctx(label, epath, layout, self.tolerance(entry, tol, epath))
            for figure in LAYER_FIGURES:
                if figure in entry:
                    self.answer(subject, figure, entry, ctx)

    def subject(self, graph: Graph, report: Report, name: str, line, path) -> Subject:
        if name == "total":
            last = report.layers[-1].rf
            return Subject(name, "total", "total", graph, report, list(range(len(graph.nodes))),
                           tuple(report.output), (last.size, last.size_w))
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
        for k in q:
            if k not in QUESTION_KINDS and k not in QUESTION_KEYS:
                raise self.err(f"unknown key {k!r}{suggest(k, list(QUESTION_KINDS) + list(QUESTION_KEYS))} "
                               f"(a question has one of {', '.join(QUESTION_KINDS)} and an answer)",
                               line_of(q, k), path)
        if len(kinds) != 1:
            raise self.err(f"a question needs exactly one of {', '.join(QUESTION_KINDS)}"
                           + (f", got {', '.join(kinds)}" if kinds else ""), qline, path)
        kind = kinds[0]
        if "answer" not in q:
            raise self.err("missing `answer:` (the figures to grade)", qline, path)
        answer = q["answer"]
        apath = f"{path}.answer"
        if not isinstance(answer, dict) or not answer:
            raise self.err(f"expected a mapping of figures ({', '.join(QUESTION_KINDS[kind])})",
                           line_of(q, "answer"), apath)
        layout = self.layout(q, layout, path)
        tol = self.tolerance(q, tol, path)
        allowed = QUESTION_KINDS[kind] + ("tolerance",)
        for k in answer:
            if k not in allowed:
                raise self.err(f"a {kind} question does not answer {k!r}{suggest(k, allowed)} "
                               f"(it answers {', '.join(QUESTION_KINDS[kind])})", line_of(answer, k), apath)
        ctx = Ctx("questions", apath, layout, self.tolerance(answer, tol, apath))
        spec = q[kind]
        kpath = f"{path}.{kind}"
        kline = line_of(q, kind)
        if kind == "rf":
            self.rf_question(name, spec, answer, ctx, kline, kpath)
            return
        if kind == "same_padding":
            self.padding_question(name, spec, answer, ctx, kline, kpath)
            return
        doc = self.question_spec(name, kind, spec, layout, kline, kpath)
        graph = self.build(doc, kline, kpath, inner=kind == "net")
        subject = self.question_subject(name, graph)
        for figure in QUESTION_KINDS[kind]:
            if figure in answer:
                self.answer(subject, figure, answer, ctx)

    def question_subject(self, name: str, graph: Graph) -> Subject:
        report = report_of(graph)
        rf = report.layers[-1].rf
        single = len(graph.nodes) == 1
        return Subject(name, graph.nodes[0].name if single else name, "question" if single else "chain",
                       graph, report, list(range(len(graph.nodes))), tuple(graph.output), (rf.size, rf.size_w),
                       explain_name=graph.nodes[0].name if single else None)

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
        for key in spec:
            if key not in KIND_FIELDS[kind]:
                raise self.err(f"{kind}: unknown field {key!r}{suggest(key, KIND_FIELDS[kind])} "
                               f"(fields: {', '.join(KIND_FIELDS[kind])})", line_of(spec, key), path)
        return spec

    def shape_field(self, spec, key: str, layout: str, path: str, kind: str, need: int = 3) -> tuple:
        if key not in spec:
            raise self.err(f"{kind}: missing `{key}:` ({layout_text(layout)} such as 227x227x3)",
                           own_line(spec), path)
        try:
            shape = parse_shape(spec[key], layout)
        except ParseError as e:
            raise self.err(f"{key}: {e}", line_of(spec, key), path) from None
        if need and len(shape.dims) != need:
            raise self.err(f"{key}: expected {layout_text(layout)} (three numbers), got {shape.text!r}",
                           line_of(spec, key), path)
        return shape.chw

    def question_spec(self, name: str, kind: str, spec, layout: str, line, path) -> dict:
        spec = self.fields(kind, spec, line, path)
        layer = LMap()
        layer.line = own_line(spec) or line
        layer.key_lines = dict(getattr(spec, "key_lines", {}))
        if kind == "conv":
            shape = self.shape_field(spec, "input", layout, path, kind)
            layer.update({"name": "conv", "type": "conv"})
            for key in ("kernel", "stride", "padding", "filters", "dilation", "groups", "bias"):
                if key in spec:
                    layer[key] = spec[key]
        elif kind == "pool":
            shape = self.shape_field(spec, "input", layout, path, kind)
            ptype = str(spec.get("type", "max")).lower()
            ptype = {"max": "maxpool", "avg": "avgpool", "average": "avgpool"}.get(ptype, ptype)
            if ptype not in ("maxpool", "avgpool"):
                raise self.err(f"pool: type: expected max or avg, got {spec.get('type')!r}",
                               line_of(spec, "type"), path)
            layer.update({"name": "pool", "type": ptype})
            for key in ("kernel", "stride", "padding", "dilation"):
                if key in spec:
                    layer[key] = spec[key]
            if "ceil" in spec:
                layer["ceil_mode"] = spec["ceil"]
                layer.key_lines["ceil_mode"] = line_of(spec, "ceil")
        elif kind == "fc":
            for key in ("in", "out"):
                if key not in spec:
                    raise self.err(f"fc: missing `{key}:` (fc: {{in: 9216, out: 4096}})", own_line(spec) or line, path)
            n_in = spec["in"]
            if isinstance(n_in, int) and not isinstance(n_in, bool):
                shape = (int(n_in),)
            else:
                try:
                    s = parse_shape(n_in, layout)
                except ParseError as e:
                    raise self.err(f"in: {e}", line_of(spec, "in"), path) from None
                shape = (numel(s.dims),)
            layer.update({"name": "fc", "type": "linear", "out": spec["out"]})
            if "bias" in spec:
                layer["bias"] = spec["bias"]
        else:  # net
            shape = self.shape_field(spec, "input", layout, path, kind, need=0)
            if len(shape) == 2:
                raise self.err(f"input: expected {layout_text(layout)} or one number N", line_of(spec, "input"), path)
            layers = spec.get("layers")
            if not isinstance(layers, list) or not layers:
                raise self.err("net: expected `layers:`, a list of layers in the architecture format",
                               line_of(spec, "layers") or line, path)
            return {"name": name, "input": list(shape), "layers": layers}
        return {"name": name, "input": list(shape), "layers": _llist([layer], layer.line)}

    def rf_question(self, name, spec, answer, ctx: Ctx, line, path):
        if not isinstance(spec, list) or not spec:
            raise self.err("rf: expected a list of layers: [conv3, conv3, pool2, conv5s2, conv3d2] or "
                           "[{kernel: 3, stride: 1}, …]", line, path)
        layers = []
        for i, tok in enumerate(spec):
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
                    raise self.err(f"unknown field {sorted(extra)[0]!r} (fields: kernel, stride, dilation, type)",
                                   line_of(tok, sorted(extra)[0]), where)
                if "kernel" not in tok:
                    raise self.err("missing `kernel:`", tline, where)
                ptype = str(tok.get("type", "conv"))
                pool = ptype in ("pool", "maxpool", "avgpool", "max", "avg")
                k, s, d = tok["kernel"], tok.get("stride", 1), tok.get("dilation", 1)
                for what, v in (("kernel", k), ("stride", s), ("dilation", d)):
                    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                        raise self.err(f"{what}: expected a whole number ≥ 1, got {v!r}", line_of(tok, what), where)
                k, s, d = int(k), int(s), int(d)
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
            layers.append(lay)
        # the smallest input every layer fits without padding: walk back from one output unit
        size = 1
        for lay in reversed(layers):
            size = (size - 1) * lay["stride"] + f.effective_kernel(lay["kernel"], lay.get("dilation", 1))
        graph = self.build({"name": name, "input": [1, size, size], "layers": layers}, line, path)
        report = report_of(graph)
        per_layer = [r.rf.size for r in report.layers]
        subject = Subject(name, "rf", "chain", graph, report, list(range(len(graph.nodes))),
                          tuple(graph.output), (per_layer[-1], per_layer[-1]))
        given = answer["rf"]
        figure_line = line_of(answer, "rf")
        if isinstance(given, list):
            if len(given) != len(per_layer) or not all(isinstance(v, int) and not isinstance(v, bool) for v in given):
                raise self.err(f"expected one whole number per layer ({len(per_layer)}), got {list(given)!r}",
                               figure_line, f"{ctx.path}.rf")
            vals = [int(v) for v in given]
            ok = vals == per_layer
            alt = rf_without_strides(graph)
            slip = None
            if not ok and vals == alt and alt != per_layer:
                slip = Slip(name="stride product forgotten",
                            detail=f"{', '.join(map(str, alt))} adds (k − 1) per layer; each (k − 1) must be "
                                   f"multiplied by the product of the strides before it: RF_l = RF_(l−1) + "
                                   f"(f_l − 1)·∏ s_i")
            self.add(subject, "rf", ctx, figure_line, given_text=_text(given), expected=", ".join(map(str, per_layer)),
                     expected_value=per_layer, ok=ok, rule="exact", slip=slip,
                     formula=self.formula(subject, "rf") if not ok else [])
            return
        self.answer(subject, "rf", answer, ctx)

    def padding_question(self, name, spec, answer, ctx: Ctx, line, path):
        spec = self.fields("same_padding", spec, line, path)
        if "kernel" not in spec:
            raise self.err("same_padding: missing `kernel:`", own_line(spec) or line, path)
        k, d = spec["kernel"], spec.get("dilation", 1)
        for what, v in (("kernel", k), ("dilation", d)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise self.err(f"{what}: expected a whole number ≥ 1, got {v!r}", line_of(spec, what), path)
        k, d = int(k), int(d)
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
        slip = None
        dk = "d·(k − 1)" if d != 1 else "k − 1"
        formula = [f"same padding at stride 1 keeps n: n + 2p − {'d·(k − 1) − 1' if d != 1 else 'k'} + 1 = n "
                   f"⇒ p = ({dk})/2 = {f.effective_kernel(k, d) - 1}/2"
                   + (f" = {pb}" if pb == pa else f": {pb} before, {pa} after (odd total, the extra one after, as "
                                                    f"PyTorch)")]
        if not ok and len(g) == 1:
            if g[0] * 2 == span + 1:
                slip = Slip(name="same padding (f+1)/2",
                            detail=f"(f + 1)/2 = ({span} + 1)/2 = {_plain_num(g[0])} makes the output "
                                   f"{_plain_num(size + 2 * g[0] - span + 1)} "
                                   f"from {size}; keeping the size needs n + 2p − f + 1 = n, so p = (f − 1)/2 = "
                                   f"{(span - 1) // 2 if (span - 1) % 2 == 0 else (span - 1) / 2} "
                                   f"(seeds 003 §5.2 prints (f+1)/2)")
            elif g[0] == span - 1 and span > 1:
                slip = Slip(name="both sides' padding",
                            detail=f"{span - 1} is the padding of both sides together; p is per side: "
                                   f"({span - 1})/2")
        self.add(Subject(name, "same_padding", "question", graph, report_of(graph), [0], graph.output, (0, 0)),
                 "padding", ctx, figure_line, given_text=_text(given), expected=str(expected),
                 expected_value=want if pb != pa else pb, ok=ok, rule="exact", slip=slip,
                 formula=formula if not ok else [])

    # -- one answered figure ---------------------------------------------------------
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
            try:
                num = parse_number(value)
            except ParseError as e:
                raise self.err(str(e), line, path) from None
            true = subject.total(figure)
            ok = num.matches(true, tol)
            slip = None if ok else find_slip(subject, figure, num, true, tol)
            expected = f"{true:,}"
            if not num.exact and tol is None and not ok:
                expected += f" ≈ {num.rounded(true)}"
            self.add(subject, figure, ctx, line, given_text=num.text, expected=expected, expected_value=true, ok=ok,
                     rule=num.rule(tol), slip=slip, formula=[] if ok else self.formula(subject, figure, slip))

    def output_answer(self, subject: Subject, value, ctx: Ctx, line, path):
        try:
            given = parse_shape(value, ctx.layout)
        except ParseError as e:
            raise self.err(str(e), line, path) from None
        exp = tuple(subject.output)
        ok = shape_matches(given, exp)
        note = ""
        if ok and len(given.dims) == 2 and len(exp) == 3:
            note = "spatial size H×W only"
        slip = None if ok else shape_slip(subject, given, exp)
        expected = fmt_dims(from_chw(exp, ctx.layout)) + (f" ({layout_text(ctx.layout)})" if len(exp) == 3 else "")
        self.add(subject, "output", ctx, line, given_text=given.text, expected=expected, expected_value=list(exp),
                 ok=ok, rule="exact", slip=slip, formula=[] if ok else self.formula(subject, "output", slip),
                 note=note)

    def rf_answer(self, subject: Subject, value, ctx: Ctx, line, path, tol):
        h, w = subject.rf
        if isinstance(value, (list, str)) and not (isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value)):
            try:
                dims = parse_shape(value, "CHW").dims
            except ParseError as e:
                raise self.err(str(e), line, path) from None
            if len(dims) not in (1, 2):
                raise self.err(f"expected one size or [h, w], got {_text(value)!r}", line, path)
            given = dims if len(dims) == 2 else (dims[0], dims[0])
            text = _text(value)
        else:
            try:
                num = parse_number(value)
            except ParseError as e:
                raise self.err(str(e), line, path) from None
            if not num.exact:
                raise self.err(f"expected a whole number, got {num.text!r}", line, path)
            given = (int(num.value), int(num.value))
            text = num.text
        ok = given == (h, w)
        slip = None
        if not ok:
            alt = rf_without_strides(subject.graph)[subject.nodes[-1]]
            if given[0] == alt and alt != h:
                slip = Slip(name="stride product forgotten",
                            detail=f"{alt} = 1 + Σ(k − 1) ignores the strides; each layer adds (k − 1) times the "
                                   f"product of the strides before it: RF_l = RF_(l−1) + (f_l − 1)·∏ s_i")
        expected = str(h) if h == w else f"{h}×{w}"
        self.add(subject, "rf", ctx, line, given_text=text, expected=expected,
                 expected_value=h if h == w else [h, w], ok=ok, rule="exact", slip=slip,
                 formula=[] if ok else self.formula(subject, "rf", slip))

    def add(self, subject: Subject, figure: str, ctx: Ctx, line, *, given_text: str, expected: str,
            expected_value, ok: bool, rule: str, slip: Optional[Slip], formula: list[str], note: str = ""):
        notes = [n for n in (subject.note, note) if n]
        self.items.append(Item(
            id=f"{subject.name}.{figure}", group=ctx.group, subject=subject.name, figure=figure, file=self.file,
            line=line, given=given_text, expected=expected, expected_value=expected_value, ok=ok, rule=rule,
            slip=slip, formula=formula, note="; ".join(notes)))

    # -- worked formulas -------------------------------------------------------------
    def formula(self, subject: Subject, figure: str, slip: Optional[Slip] = None) -> list[str]:
        graph, report = subject.graph, subject.report
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
            return [f"{title.split(' ')[0]}: {ln}" for title, lines in picked for ln in lines]
        if figure in ("output", "rf"):
            title, lines = picked[-1]
            return [f"{title.split(' ')[0]}: {ln}" for ln in lines]
        out = []
        for title, lines in picked:
            out += [f"{title.split(' ')[0]}: {ln}" for ln in lines]
        vals = [(graph.nodes[i].name, leaf_figure(graph, report, i, figure)) for i in subject.nodes]
        vals = [(n, v) for n, v in vals if v]
        if len(vals) > 1:
            out.append(f"{figure}: " + " + ".join(f"{v:,}" for _, v in vals) + f" = {subject.total(figure):,}")
        return out


def total_formula(subject: Subject, figure: str) -> list[str]:
    graph, report = subject.graph, subject.report
    if figure == "output":
        return [f"network output: {fmt_dims(subject.output)} (C×H×W), from {report.layers[-1].name}"]
    if figure == "rf":
        last = report.layers[-1]
        return [f"receptive field of {last.name}: {last.rf.size}, effective stride {last.rf.stride}"]
    vals = [(graph.nodes[i].name, leaf_figure(graph, report, i, figure)) for i in subject.nodes]
    vals = [(n, v) for n, v in vals if v]
    shown = vals if len(vals) <= 8 else vals[:7]
    terms = " + ".join(f"{n} {v:,}" for n, v in shown) + (f" + … ({len(vals) - 7} more)" if len(vals) > 8 else "")
    what = {"params": "params", "weights": "weights (params − biases)", "biases": "biases", "macs": "MACs",
            "flops": "FLOPs = 2·MACs"}[figure]
    return [f"{what}: Σ over layers = {terms} = {subject.total(figure):,}"]


# --------------------------------------------------------------------------------------
# Classic slips: alternative values a known mistake produces


def _conv_parts(node):
    """(k_h, k_w, C_in/groups, C_out, H_out, W_out, bias) of a conv leaf."""
    layer = node.layer
    c_in = node.in_shapes[0][0]
    return (layer.kernel[0], layer.kernel[1], c_in // layer.groups, layer.filters, node.out_shape[1],
            node.out_shape[2], layer.filters if layer.bias else 0)


def _is_c3(node) -> bool:
    """LeNet-5's C3: 6 maps in, 16 out, dense; the 1998 paper connects it through a sparse table."""
    layer = node.layer
    return layer.type == "conv" and node.in_shapes[0][0] == 6 and layer.filters == 16 and layer.groups == 1


def _variant(subject: Subject, figure: str, repl: Callable) -> Optional[int]:
    """The subject's figure with some leaves' values replaced (None if no leaf is affected)."""
    total, changed = 0, False
    for i in subject.nodes:
        node = subject.graph.nodes[i]
        r = repl(node, figure)
        if r is None:
            total += leaf_figure(subject.graph, subject.report, i, figure)
        else:
            total += r
            changed = True
    return total if changed else None


def _no_cin(node, figure):
    if node.layer.type != "conv":
        return None
    kh, kw, cin, cout, h, w, b = _conv_parts(node)
    if cin == 1:
        return None
    return {"params": kh * kw * cout + b, "weights": kh * kw * cout, "macs": kh * kw * h * w * cout,
            "flops": 2 * kh * kw * h * w * cout}.get(figure)


def _sparse_c3(with_bias: bool):
    def repl(node, figure):
        if not _is_c3(node):
            return None
        kh, kw, _, cout, h, w, b = _conv_parts(node)
        weights = 60 * kh * kw      # paper's Table I: 6 maps × 3 inputs + 9 × 4 + 1 × 6 = 60 of the 96 pairs
        macs = (weights + (b if with_bias else 0)) * h * w  # "connections" count the bias too
        return {"params": weights + b, "weights": weights, "macs": macs, "flops": 2 * macs}.get(figure)
    return repl


def _bias_mac(node, figure):
    b = leaf_bias(node)
    if not b or figure not in ("macs", "flops"):
        return None
    extra = b * (node.out_shape[1] * node.out_shape[2] if len(node.out_shape) == 3 else 1)
    row_macs = node.layer.macs(node.in_shapes, node.out_shape)
    return (row_macs + extra) * (2 if figure == "flops" else 1)


def find_slip(subject: Subject, figure: str, num: Number, true: int, tol) -> Optional[Slip]:
    """The first classic mistake whose value the answer matches (by the same rounding rule or tolerance)."""
    cands: list[tuple[int, str, Callable[[int], str]]] = []   # (value, name, detail(value))

    def cand(value: Optional[int], name: str, detail: Callable[[int], str]):
        if value is not None and value != true:
            cands.append((value, name, detail))

    biases = subject.total("biases")
    if figure == "macs":
        cand(2 * true, "FLOPs vs MACs",
             lambda v: f"{v:,} = 2 × {true:,} is the FLOP count (a multiply and an add each); a MAC counts one "
                       f"multiply-accumulate: MACs = FLOPs/2 = {true:,}")
    if figure == "flops" and true % 2 == 0:
        cand(true // 2, "FLOPs vs MACs",
             lambda v: f"{v:,} is the MAC (multiply-add) count; FLOPs count the multiply and the add: "
                       f"FLOPs = 2 × MACs = {true:,}")
    if figure in ("params", "weights", "macs", "flops"):
        for with_bias in ((True, False) if figure in ("macs", "flops") else (True,)):
            cand(_variant(subject, figure, _sparse_c3(with_bias)), "sparse LeNet C3",
                 lambda v: f"{v:,} comes from the 1998 paper's sparse C3, whose table connects each of the 16 maps "
                           f"to 3, 4 or all 6 S2 maps (1,516 params, 151,600 connections); this C3 is dense, "
                           f"every map sees all 6 S2 maps: {true:,}")
    if figure == "params" and biases:
        form = "; (N_in + 1)·N_out, not N_in·N_out" if _only(subject, "linear") else \
            "; (k·k·C_in + 1)·C_out, not k·k·C_in·C_out" if _only(subject, "conv") else ""
        cand(true - biases, "bias forgotten",
             lambda v: f"{v:,} counts the weights only; each filter (conv) or output unit (fc) also has a bias: "
                       f"+{biases:,} = {true:,}{form}")
    if figure == "weights" and biases:
        cand(true + biases, "bias included in weights",
             lambda v: f"{v:,} is weights + {biases:,} biases (the params); the weights alone are {true:,}")
    if figure in ("params", "weights", "macs", "flops"):
        seeds = " (the seeds' '26 params per 5×5 filter' on a 3-channel input: 5·5·3 + 1 = 76)" \
            if figure == "params" else ""
        cand(_variant(subject, figure, _no_cin), "input channels forgotten",
             lambda v: f"{v:,} treats each filter as k×k; a filter spans all its input channels, k×k×C_in"
                       f"{seeds}: {true:,}")
    if figure in ("params", "weights"):
        cand(4 * true, "bytes vs params",
             lambda v: f"{v:,} = 4 × {true:,} is the size in bytes at fp32 (4 bytes per parameter), not the "
                       f"parameter count (the seeds' 'AlexNet ≈ 240M parameters' is AlexNet's ≈244 MB)")
    if figure in ("macs", "flops"):
        cand(_variant(subject, figure, _bias_mac), "bias counted as MACs",
             lambda v: f"{v:,} adds one MAC per bias per output position; bias adds are not multiply-accumulates "
                       f"(MACs = k·k·C_in·H·W·C_out, N_in·N_out): {true:,}")
    for value, name, detail in cands:
        if num.matches(value, tol):
            return Slip(name=name, detail=detail(value))
    return None


def _only(subject: Subject, kind: str) -> bool:
    kinds = {subject.graph.nodes[i].layer.type for i in subject.nodes if subject.graph.nodes[i].layer.weight_layer}
    return kinds == {kind}


def _shape_layer(subject: Subject):
    """The conv/pool leaf that decides the subject's output size (walking back over shape-keeping layers)."""
    for i in reversed(subject.nodes):
        node = subject.graph.nodes[i]
        if node.layer.type in ("conv", "maxpool", "avgpool"):
            return node
        if len(node.inputs) != 1 or node.out_shape != node.in_shapes[0]:
            return None
    return None


def _alt_sizes(node) -> tuple[dict[str, tuple], bool, bool]:
    """Output shapes under the other rounding / without padding / without the +1; ceil_mode; padded."""
    layer = node.layer
    _, h, w = node.in_shapes[0]
    if layer.type == "conv":
        pads = layer.pads()
        ks, ss, ds, ceil = layer.kernel, layer.stride, layer.dilation, False
    else:
        pads = tuple((p, p) for p in layer.padding)
        ks, ss, ds, ceil = layer.kernel, layer.strides, layer.dilations, layer.ceil_mode
    alts: dict[str, list] = {"other": [], "nopad": [], "noplus1": []}
    for n, k, s, d, (pb, pa) in zip((h, w), ks, ss, ds, pads):
        span = n + pb + pa - f.effective_kernel(k, d)
        if layer.type == "conv":
            other = -(-span // s) + 1              # ceil where conv floors
        else:
            other = f.pool_out(n, k, s, pb, d, not ceil)
        alts["other"].append(other)
        span0 = n - f.effective_kernel(k, d)
        alts["nopad"].append((span0 // s + 1) if span0 >= 0 else 0)
        alts["noplus1"].append(-(-span // s) if ceil else span // s)
    c = node.out_shape[0]
    return {k: (c,) + tuple(v) for k, v in alts.items()}, ceil, (pads != ((0, 0), (0, 0)))


def shape_slip(subject: Subject, given: ShapeAnswer, exp: tuple) -> Optional[Slip]:
    g = given.chw
    if len(g) == len(exp) and g != exp:
        if given.other == tuple(exp):
            lay = layout_text(given.layout)
            other = layout_text("CHW" if given.layout == "HWC" else "HWC")
            return Slip(name="H/W/C order swapped",
                        detail=f"{given.text} is right read as {other}, but this file writes shapes as {lay}: "
                               f"{fmt_dims(from_chw(exp, given.layout))} (or set layout: "
                               f"{'CHW' if given.layout == 'HWC' else 'HWC'})")
        if sorted(g) == sorted(exp):
            return Slip(name="H/W/C order swapped",
                        detail=f"the right sizes in the wrong order: {layout_text(given.layout)} is "
                               f"{fmt_dims(from_chw(exp, given.layout))}")
    node = _shape_layer(subject)
    if node is None or len(exp) != 3:
        return None
    alts, ceil, padded = _alt_sizes(node)

    def same(alt):
        return shape_matches(given, alt) and alt != exp

    if same(alts["other"]):
        rule, other = ("ceil", "floor") if ceil else ("floor", "ceil")
        why = "conv output sizes use floor" if node.layer.type == "conv" else \
            f"this pool uses {rule} (ceil_mode {'true' if ceil else 'false'}, PyTorch's default is floor)"
        return Slip(name="floor vs ceil",
                    detail=f"{fmt_dims(from_chw(alts['other'], given.layout))} rounds the division with {other}; "
                           f"{why}: {fmt_dims(from_chw(exp, given.layout))}")
    if padded and same(alts["nopad"]):
        return Slip(name="padding forgotten",
                    detail=f"{fmt_dims(from_chw(alts['nopad'], given.layout))} leaves out the padding: "
                           f"⌊(n + 2p − k)/s⌋ + 1")
    if same(alts["noplus1"]):
        return Slip(name="+1 forgotten",
                    detail="the output size is ⌊(n + 2p − k)/s⌋ + 1: the first window counts too")
    return None


def rf_without_strides(graph: Graph) -> list[int]:
    """RF (H axis) per node if every stride were ignored: 1 + Σ (k − 1) along the largest path."""
    out: list[int] = []
    for node in graph.nodes:
        r = max(1 if i == INPUT else out[i] for i in node.inputs)
        steps = node.layer.rf_steps(node.in_shapes)
        if steps is not None:
            r += steps[0].k - 1
        out.append(r)
    return out


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


def _plain_num(v) -> str:
    return str(int(v)) if v == int(v) else str(v)


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
