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

This module only walks the file: answers.py reads and validates it, questions.py turns
questions into tiny architectures, grade.py grades one figure, slips.py names the mistakes.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..analysis.analyze import load, report_of
from ..analysis.graph import Graph
from ..analysis.report import Report
from ..errors import CnncalcError, closest, quote, suggest, unquoted
from ..spec.builtins import builtin_path
from ..spec.yamlio import line_of, own_line
from .answers import Reader, Settings, load_answers
from .grade import Grader
from .numbers import layout_text, parse_shape
from .questions import Questions
from .result import CheckResult, Item
from .subject import Subject

__all__ = ["check", "CheckResult", "Item"]

TOP_KEYS = ("architecture", "layout", "tolerance", "conventions", "input", "answers", "questions", "networks",
            "name", "title", "description", "source")
NET_KEYS = ("architecture", "layout", "tolerance", "conventions", "input", "answers", "description")
LAYER_FIGURES = ("output", "params", "weights", "biases", "macs", "flops", "connections", "activations", "memory",
                 "param_memory", "rf")


def check(source: Any, *, base_dir: str | Path | None = None, root: str | Path | None = None,
          inputs: list | None = None) -> CheckResult:
    """Grade an answers file (a path) or an already parsed mapping; malformed input raises SpecError.

    An `architecture:` path must lie inside `root` (default: the working directory) or inside the
    answers file's own directory (`base_dir` for a mapping), and end in .yaml or .yml: the file is
    untrusted (in CI, a pull request) and may not read /etc/shadow into a log. `inputs`, when given,
    receives the path of every file read (so that no output overwrites one of them)."""
    doc, file, base = load_answers(source, base_dir)
    checker = Checker(doc, file, base)
    checker.roots = [Path(root) if root is not None else Path.cwd(), base]
    if inputs is not None:
        checker.inputs = inputs
        if not isinstance(source, dict):
            inputs.append(str(source))
    return checker.run()


class Checker:
    """Walks one answers file: its networks' answers, then its questions."""

    def __init__(self, doc, file: str, base: Path):
        self.doc, self.file, self.base = doc, file, base
        self.roots: list[Path] = [Path.cwd(), base]   # where an `architecture:` file may lie
        self.inputs: list = []                         # every file read, built-ins included
        self.named: set = set()                        # the architecture files this answers file names
        self.r = Reader(file)
        self.g = Grader(self.r)
        self.q = Questions(self.r, self.g)
        self.networks: dict[str, str] = {}
        self.graphs: dict = {}                         # (file, input, foreign) → its graph, loaded once
        self.reports: dict = {}                        # id(graph) → its report

    def run(self) -> CheckResult:
        doc = self.doc
        if doc is None:
            raise self.r.err("empty file: expected a mapping with architecture and answers, or questions", None, None)
        if not isinstance(doc, dict):
            raise self.r.err("the top level must be a mapping (architecture, layout, answers, questions)",
                             own_line(doc) or 1, None)
        self.r.refuse_unknown(doc, TOP_KEYS, None, lambda key: f"unknown top-level key {quote(key)}"
                                                               f"{suggest(key, TOP_KEYS)} "
                                                               f"(expected {', '.join(TOP_KEYS[:7])})")
        st = self.r.settings(doc, Settings(), None)
        if not any(k in doc for k in ("answers", "questions", "networks")):
            raise self.r.err("nothing to check: expected `answers:` (with `architecture:`), `networks:` or "
                             "`questions:`", own_line(doc) or 1, None)
        if "answers" in doc or "architecture" in doc:
            if "architecture" not in doc:
                raise self.r.err("`answers:` needs `architecture:` (a built-in name such as lenet5, or a path "
                                 "relative to this file)", line_of(doc, "answers"), None)
            if "answers" not in doc:
                raise self.r.err("`architecture:` given but no `answers:`", line_of(doc, "architecture"), "answers")
            self.network(str(doc["architecture"]), doc, "", st)
        if doc.get("networks") is not None:
            self.each_network(doc, st)
        if doc.get("questions") is not None:
            self.each_question(doc, st)
        items = self.g.items
        if not items:
            raise self.r.err("no answers to check", own_line(doc) or 1, None)
        failed = sum(not i.ok for i in items)
        return CheckResult(file=self.file, networks=self.networks, items=items, total=len(items),
                           passed=len(items) - failed, failed=failed, ok=failed == 0)

    def each_network(self, doc, st: Settings):
        nets = self.r.mapping(doc, "networks", "networks: expected a mapping label → {architecture, answers}",
                              "networks")
        for label, net in nets.items():
            path = f"networks.{label}"
            if not isinstance(net, dict):
                raise self.r.err("expected a mapping with architecture and answers", line_of(nets, label), path)
            self.r.refuse_unknown(net, NET_KEYS, path, lambda key: f"unknown key {quote(key)}{suggest(key, NET_KEYS)} "
                                                                   f"(expected {', '.join(NET_KEYS)})")
            for key in ("architecture", "answers"):
                if key not in net:
                    raise self.r.err(f"missing `{key}:`", line_of(nets, label), path)
            if str(label) in self.networks:
                raise self.r.err(f"network label {quote(label)} is used twice", line_of(nets, label), path)
            self.network(str(label), net, path + ".", self.r.settings(net, st, path))

    def each_question(self, doc, st: Settings):
        qs = self.r.mapping(doc, "questions", "questions: expected a mapping name → "
                            "{conv|pool|fc|rf|same_padding|net, answer}", "questions")
        for name, q in qs.items():
            self.q.question(name, q, qs, st)

    # -- networks --------------------------------------------------------------------
    def load_arch(self, m, path: str, layout: str | None) -> Graph:
        value = m["architecture"]
        line = line_of(m, "architecture")
        where = path + "architecture"
        if not isinstance(value, str) or not value.strip():
            raise self.r.err(f"expected a built-in name or a path, got {quote(value)}", line, where)
        value = value.strip()
        spec = self.arch_path(value, line, where)
        inp = None
        if "input" in m:
            inp = self.input_override(m, path, layout)
        foreign = spec in self.named    # a file named by this answers file, not a built-in
        key = (spec, repr(inp), foreign)
        if key in self.graphs:          # one network named again (200 students' copies of densenet201)
            return self.graphs[key]
        try:
            graph = self.graphs[key] = load(spec, inp, foreign=foreign)
            return graph
        except CnncalcError as e:
            if e.file is None:  # not a fault inside the architecture file itself: point at our line
                raise self.r.err(e.message, line, where) from None
            for x in getattr(e, "errors", [e]):  # each of a file's errors
                if foreign and unquoted(x.message) != x.message:   # any .yaml of the repository may be named:
                    x.message = unquoted(x.message) + " (cnncalc analyze FILE shows the values)"   # quote none
            raise

    def arch_path(self, value: str, line, where: str) -> str:
        """A built-in name as it is; else a path relative to the answers file, to a .yaml/.yml file
        inside the allowed roots (symbolic links resolved first)."""
        candidate = self.base / value
        if not (any(c in value for c in "/\\") or value.lower().endswith((".yaml", ".yml"))
                or os.path.lexists(candidate) or os.path.lexists(value)):   # a name the loader would take as a file
            shipped = builtin_path(value)
            if shipped is not None:     # read too: an output of this run must not replace it
                self.inputs.append(str(shipped))
            return value
        if not value.lower().endswith((".yaml", ".yml")):
            raise self.r.err("expected a built-in name or a .yaml/.yml file", line, where)
        try:
            real, roots = candidate.resolve(), [r.resolve() for r in self.roots]
        except (OSError, RuntimeError, ValueError):
            raise self.r.err("cannot resolve the path", line, where) from None
        if not any(real == r or r in real.parents for r in roots):
            shown = " or ".join(dict.fromkeys(str(r) for r in roots))
            raise self.r.err(f"an architecture file must lie inside {shown} (--root DIR allows another)",
                             line, where)
        if not os.path.lexists(candidate):
            raise self.r.err(f"no architecture file {quote(str(candidate))} (a path is relative to the answers file)",
                             line, where)
        self.inputs.append(str(candidate))
        self.named.add(str(candidate))
        return str(candidate)

    def input_override(self, m, path: str, layout: str | None):
        value = m["input"]
        line = line_of(m, "input")
        if isinstance(value, int) and not isinstance(value, bool):
            return str(int(value))
        shape = self.r.parsed(parse_shape, value, line, path + "input", layout or "HWC")
        if len(shape.dims) not in (2, 3, 4):   # two: a 1-D map, L×C in the course's layout, C×L in PyTorch's
            raise self.r.err(f"expected {layout_text(layout or 'HWC')} (three numbers; two or four for a 1-D or "
                             f"3-D map) or one size, got {quote(shape.text)}", line, path + "input")
        return self.r.input_shape(shape.dims, layout, line, path + "input", listed=isinstance(value, list))

    def network(self, label: str, m, path: str, st: Settings):
        graph = self.load_arch(m, path, st.layout)
        report = self.reports.get(id(graph)) or self.reports.setdefault(id(graph), report_of(graph))
        self.networks[label] = graph.name
        apath = path + "answers"
        answers = self.r.mapping(m, "answers", "expected a mapping layer name → {output, params, macs, …}", apath)
        allowed = LAYER_FIGURES + ("tolerance",)
        for name, entry in answers.items():
            epath = f"{apath}.{name}"
            line = line_of(answers, name)
            if not isinstance(entry, dict):
                raise self.r.err(f"expected a mapping of figures such as {{params: 156}}, got {quote(entry)}", line,
                                 epath)
            subject = self.subject(graph, report, str(name), line, epath)
            self.r.refuse_unknown(entry, allowed, epath, lambda key: f"unknown figure {quote(key)}"
                                                                     f"{suggest(key, allowed)} "
                                                                     f"(figures: {', '.join(LAYER_FIGURES)})")
            ctx = self.r.settings(entry, st, epath, layout=False).ctx(label, epath)
            self.g.grade(subject, LAYER_FIGURES, entry, ctx)

    def subject(self, graph: Graph, report: Report, name: str, line, path) -> Subject:
        if name == "total":
            last = report.layers[graph.output_nodes[0]].rf  # the (first) output's
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
                raise self.r.err(f"layer name {quote(name)} is ambiguous in {graph.name}: {names}", line, path)
        if found is None:
            near = closest(name, leaves + groups + ["total"], n=4)
            hint = f"; did you mean {', '.join(near)}?" if near else \
                f"; its layers are {', '.join((groups if graph.groups else leaves)[:8])}…"
            raise self.r.err(f"no layer named {quote(name)} in {graph.name}{hint}", line, path)
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

