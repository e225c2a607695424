"""The questions about a whole network and between two configurations, and "does it fit":

    questions:
      googlenet_min:                     # the smallest input a network accepts (`cnncalc sizes`)
        network: {architecture: googlenet}
        answer: {min_input: 27}
      vgg_where:                         # which layer holds the most params / MACs; where params and
        network: {architecture: vgg16}   # activations mostly are (conv or fc layers)
        answer: {most_params: fc6, most_macs: conv1_2, params_mostly_in: fc, memory_mostly_in: conv}
      vgg_train:                         # training memory: params + grads + optimizer states + saved activations
        network: {architecture: vgg16, batch: 32, optimizer: sgd}
        answer: {train_memory: 9.4GB}
      separable:                         # how many times fewer MACs: two configurations, one figure
        ratio: {a: {conv: {…}}, b: {net: {…}}, figure: macs}
        answer: {ratio: 8.7}
      cs231n_fit:                        # a stride that does not divide: (7 − 3)/3 + 1 = 2.33
        conv: {input: 7x7x3, kernel: 3, stride: 3, filters: 1}
        answer: {fits: false}

Every value comes from the analysis (report, `analysis.sizes`, `analysis.training`); symbolic answers
are out of scope. Nothing here imports torch.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ..analysis.analyze import load, report_of
from ..analysis.sizes import sizes
from ..analysis.training import TrainConfig, step_memory
from ..errors import CnncalcError, quote
from ..layers import numel
from ..spec.yamlio import line_of
from .answers import Ctx, Reader, text_of
from .grade import Grader
from .numbers import ParseError, parse_bytes, parse_number
from .slip import Slip, join_slips
from .subject import Subject, count
from .terms import terms_of

NETWORK_FIGURES = ("min_input", "most_params", "most_macs", "params_mostly_in", "memory_mostly_in", "train_memory")
NETWORK_FIELDS = ("architecture", "input", "batch", "optimizer", "dtype")
RATIO_FIGURES = ("params", "weights", "macs", "flops", "activations", "outputs")
RATIO_FIELDS = ("a", "b", "of", "figure")
MIN_INPUT_RANGE = 1024


def fits(graph) -> tuple[bool, list[str]]:
    """Every conv/pool window lands exactly on the (padded) input: (n + p − span) divisible by s, per axis."""
    lines = []
    ok = True
    for node in graph.nodes:
        t = terms_of(node.layer, tuple(node.in_shapes[0])) if node.in_shapes else None
        if t is None or t.kind not in ("conv", "pool"):
            continue
        for a in t.axes:
            num = a.n + a.pb + a.pa - a.span_value()
            if num % a.s:
                ok = False
                lines.append(f"({a.n}{' + ' + str(a.pb + a.pa) if a.pb + a.pa else ''} − {a.span_value()})/{a.s} "
                             f"+ 1 ≈ {Decimal(num) / a.s + 1:.3g}: not a whole number, the stride does not fit")
                break
    return ok, lines or ["every window fits: (n + 2p − k)/s is a whole number at each layer"]


def parse_bool(value) -> Optional[bool]:
    text = str(getattr(value, "text", value)).strip().lower()
    return {"true": True, "yes": True, "false": False, "no": False}.get(text)


class MoreQuestions:
    """Grades the network, ratio and fits questions (the builders of the others come from questions.py)."""

    def __init__(self, reader: Reader, grader: Grader, build_config):
        self.r, self.g = reader, grader
        self.build_config = build_config      # (name, {kind: spec}, layout, line, path) → Graph

    # -- fits ---------------------------------------------------------------------------
    def fits_answer(self, subject: Subject, answer, ctx: Ctx, line):
        given = parse_bool(answer["fits"])
        if given is None:
            raise self.r.err(f"fits: expected true or false, got {quote(text_of(answer['fits']))}", line,
                             f"{ctx.path}.fits")
        ok_fit, lines = fits(subject.graph)
        slip = None
        if given != ok_fit and ok_fit is False:
            slip = Slip(name="stride does not divide", detail=lines[0] + "; the output size floors it, dropping "
                                                                          "input positions")
        self.g.add(subject, "fits", ctx, line, given_text=text_of(answer["fits"]),
                   expected="true" if ok_fit else "false", expected_value=int(ok_fit), ok=given == ok_fit,
                   slip=slip, formula=lines)

    # -- a network ------------------------------------------------------------------------
    def network_question(self, name: str, spec, answer, ctx: Ctx, line, path):
        if not isinstance(spec, dict) or "architecture" not in spec:
            raise self.r.err("network: expected {architecture: NAME, batch: N, optimizer: sgd|momentum|adam}",
                             line, path)
        self.r.refuse_unknown(spec, NETWORK_FIELDS, path,
                              lambda k: f"network: unknown field {quote(k)} (fields: {', '.join(NETWORK_FIELDS)})")
        try:
            graph = load(str(spec["architecture"]), spec.get("input"))
        except CnncalcError as e:
            raise self.r.err(e.message, line, f"{path}.architecture") from None
        report = report_of(graph)
        subject = Subject.whole(name, "total", "total", graph, report, (0, 0))
        for figure in NETWORK_FIGURES:
            if figure not in answer:
                continue
            fline = line_of(answer, figure) or line
            if figure == "min_input":
                self._min_input(subject, answer[figure], ctx, fline)
            elif figure == "train_memory":
                self._train_memory(subject, spec, answer[figure], ctx, fline, path)
            elif figure.startswith("most_"):
                self._most(subject, figure, answer[figure], ctx, fline)
            else:
                self._mostly_in(subject, figure, answer[figure], ctx, fline)

    def _min_input(self, subject: Subject, value, ctx: Ctx, line):
        num = self.r.parsed(parse_number, value, line, f"{ctx.path}.min_input")
        rep = sizes(subject.graph, 1, MIN_INPUT_RANGE)
        valid = rep.axes[0].valid
        true = valid[0] if valid else None
        if true is None:
            raise self.r.err(f"no input size up to {MIN_INPUT_RANGE} fits {subject.graph.name}", line,
                             f"{ctx.path}.min_input")
        given = int(num.value)
        slip = None
        if given != true and given in valid:
            slip = Slip(name="a size that fits, not the smallest",
                        detail=f"{given} fits, but so does {true}, the smallest ({rep.axes[0].valid_text})")
        elif given != true and given + 1 == true:
            slip = Slip(name="off by one", detail=f"{given} is one short: at {given} "
                                                  f"{rep.axes[0].smallest_collapse or 'a layer has no output'}")
        self.g.add(subject, "min_input", ctx, line, given_text=num.text, expected=str(true), expected_value=true,
                   ok=given == true and num.exact, slip=slip,
                   formula=[f"valid input sizes ({rep.axes[0].axis}): {rep.axes[0].valid_text}",
                            f"below {true}: {rep.axes[0].smallest_collapse or '—'}"])

    def _train_memory(self, subject: Subject, spec, value, ctx: Ctx, line, path):
        try:
            cfg = TrainConfig(int(spec.get("batch", 1)), str(spec.get("dtype", "fp32")),
                              str(spec.get("optimizer", "adam")))
        except (CnncalcError, ValueError, TypeError) as e:
            raise self.r.err(str(getattr(e, "message", e)), line, path) from None
        mem = step_memory(subject.graph, cfg)
        parts = [("params", mem.param_bytes), ("gradients", mem.grad_bytes), ("optimizer states", mem.optimizer_bytes),
                 ("saved activations", mem.saved_activation_bytes)]
        true = sum(v for _, v in parts)
        num = self.r.parsed(parse_bytes, value, line, f"{ctx.path}.train_memory")
        ok = num.matches(true, ctx.tolerance)
        fitting = [Slip(name=f"{what} left out", detail=f"{true - v:,} bytes is the sum without the {what} "
                                                         f"({v:,} bytes)")
                   for what, v in parts if v and not ok and num.matches(true - v, ctx.tolerance)]
        slip = join_slips(fitting) if fitting else None
        formula = [" + ".join(f"{n} {v:,}" for n, v in parts) + f" = {true:,} bytes "
                   f"(batch {cfg.batch}, {cfg.optimizer}, {cfg.dtype})"]
        self.g.add(subject, "train_memory", ctx, line, given_text=num.text, expected=f"{true:,} bytes",
                   expected_value=true, ok=ok, slip=slip, rule=num.rule(ctx.tolerance), formula=formula)

    def _most(self, subject: Subject, figure: str, value, ctx: Ctx, line):
        what = figure[len("most_"):]
        vals = [(count([lf], what, subject.conventions), lf.name) for lf in subject.leaves]
        top = max(v for v, _ in vals)
        winners = [n for v, n in vals if v == top]
        given = str(text_of(value)).strip()
        ok = any(given == n or n.startswith(given + ".") for n in winners)
        ranked = sorted(vals, reverse=True)[:3]
        slip = None
        if not ok:
            g = next(((v, n) for v, n in vals if n == given or n.startswith(given + ".")), None)
            if g is not None and len(ranked) > 1 and g[0] == ranked[1][0]:
                slip = Slip(name="the runner-up", detail=f"{given} has the second most {what} ({g[0]:,}); "
                                                        f"{winners[0]} has {top:,}")
        self.g.add(subject, figure, ctx, line, given_text=given, expected=" or ".join(winners),
                   expected_value=top, ok=ok, slip=slip,
                   formula=[f"{what}: " + ", ".join(f"{n} {v:,}" for v, n in ranked) + ", …"])

    def _mostly_in(self, subject: Subject, figure: str, value, ctx: Ctx, line):
        what = "params" if figure.startswith("params") else "activations"
        totals = {"conv": 0, "fc": 0}
        for lf in subject.leaves:
            kind = "conv" if lf.type.startswith("conv") else "fc" if lf.type == "linear" else None
            if kind:
                totals[kind] += lf.w + lf.b if what == "params" else lf.outs
        true = max(totals, key=totals.get)
        given = str(text_of(value)).strip().lower()
        given = {"convolutional": "conv", "conv layers": "conv", "fully connected": "fc", "linear": "fc",
                 "fc layers": "fc"}.get(given, given)
        if given not in totals:
            raise self.r.err(f"{figure}: expected conv or fc, got {quote(text_of(value))}", line, f"{ctx.path}.{figure}")
        self.g.add(subject, figure, ctx, line, given_text=given, expected=true, expected_value=totals[true],
                   ok=given == true, slip=None,
                   formula=[f"{what}: conv layers {totals['conv']:,}, fc layers {totals['fc']:,}"])

    # -- a ratio ---------------------------------------------------------------------------
    def ratio_question(self, name: str, spec, answer, ctx: Ctx, line, path):
        if not isinstance(spec, dict) or "a" not in spec or "b" not in spec:
            raise self.r.err("ratio: expected {a: …, b: …, figure: macs} (two configurations) or "
                             "{of: {conv: …}, a: macs, b: params} (two figures)", line, path)
        self.r.refuse_unknown(spec, RATIO_FIELDS, path,
                              lambda k: f"ratio: unknown field {quote(k)} (fields: {', '.join(RATIO_FIELDS)})")
        if "of" in spec:
            graph = self.build_config(name, spec["of"], ctx.layout, line, f"{path}.of")
            va, vb = (self._figure(graph, str(spec[k]), line, f"{path}.{k}") for k in ("a", "b"))
            what = f"{spec['a']} / {spec['b']}"
        else:
            fig = str(spec.get("figure", "macs"))
            graph = self.build_config(name, spec["a"], ctx.layout, line, f"{path}.a")
            other = self.build_config(name, spec["b"], ctx.layout, line, f"{path}.b")
            va, vb = (self._figure(g, fig, line, f"{path}.figure") for g in (graph, other))
            what = f"{fig} of a / {fig} of b"
        true = Decimal(va) / Decimal(vb)
        value = answer["ratio"]
        line = line_of(answer, "ratio") or line
        text = str(text_of(value)).strip()
        try:
            num = parse_number(text[:-1].strip()) if text.endswith("%") else parse_number(value)
        except ParseError as e:
            raise self.r.err(f"ratio: {e}", line, f"{ctx.path}.ratio") from None
        scale = Decimal(100) if text.endswith("%") else Decimal(1)
        ok = num.matches(true * scale, ctx.tolerance)
        slip = None
        if not ok and num.matches(scale / true, ctx.tolerance):
            slip = Slip(name="ratio inverted", detail=f"{text} is b / a = {vb:,} / {va:,}; asked: a / b = "
                                                       f"{va:,} / {vb:,}")
        shown = f"{true * scale:.4g}{'%' if scale == 100 else ''}"
        subject = Subject.whole(name, "ratio", "question", graph, report_of(graph), (0, 0))
        self.g.add(subject, "ratio", ctx, line, given_text=text, expected=shown, expected_value=None,
                   ok=ok, slip=slip, rule=num.rule(ctx.tolerance), formula=[f"{what} = {va:,} / {vb:,} ≈ {shown}"])

    def _figure(self, graph, figure: str, line, path) -> int:
        if figure not in RATIO_FIGURES:
            raise self.r.err(f"expected one of {', '.join(RATIO_FIGURES)}, got {quote(figure)}", line, path)
        if figure == "outputs":
            return numel(graph.output)
        report = report_of(graph)
        subject = Subject.whole("ratio", "ratio", "chain", graph, report, (0, 0))
        return subject.total(figure) if figure != "activations" else numel(graph.output)

