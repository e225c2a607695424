"""Any YAML document gets a Report or one clear CnncalcError — never another exception (a traceback).

Hypothesis builds random architecture-shaped documents: real keys and layer kinds mixed with
garbage keys, wrong types, negative and huge numbers, nested branches/residuals and blocks; and
random answers files. CNNCALC_DEEP=1 runs 4,000 examples each. Found: keys of mixed types
(sorted → TypeError), a non-string `type:` or `inputs:` entry, an int key in an error path.
"""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError
from cnncalc.layers import REGISTRY

KEYS = ["type", "name", "filters", "kernel", "stride", "padding", "dilation", "groups", "bias", "out",
        "ceil_mode", "output", "inputs", "repeat", "branches", "residual", "body", "shortcut", "start", "end",
        "size", "p", "slope", "x", 1, None, True]
scalars = st.one_of(st.integers(-3, 40), st.sampled_from(list(REGISTRY) + ["same", "valid", "auto", "projection",
                                                                           "identity", "$c", "${2*c}", "${", "b"]),
                    st.booleans(), st.none(), st.floats(allow_nan=True), st.text(max_size=4))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)), max_leaves=25)
layer = st.one_of(st.sampled_from(list(REGISTRY)),
                  st.fixed_dictionaries({"type": st.sampled_from(list(REGISTRY) + ["b", "nope"])},
                                        optional={k: values for k in KEYS[1:12]}),
                  st.dictionaries(st.sampled_from(KEYS), values, max_size=4))
docs = st.fixed_dictionaries(
    {"input": st.one_of(st.just([3, 16, 16]), st.just([8]), values), "layers": st.one_of(st.lists(layer, max_size=6), values)},
    optional={"blocks": st.one_of(st.just({"b": {"params": ["c"], "layers": [{"type": "conv", "filters": "$c",
                                                                                 "kernel": 1}]}}), values),
              "defaults": values, "name": values, 7: values})


@given(docs)
def test_any_document_is_a_report_or_a_clear_error(doc):
    try:
        report = cnncalc.analyze(doc)
    except CnncalcError as e:
        assert str(e)
    else:
        assert report.totals.flops == 2 * report.totals.macs


ANSWER_KEYS = ["output", "params", "macs", "flops", "rf", "weights", "biases", "padding", "tolerance", "value", "x"]
figures = st.dictionaries(st.sampled_from(ANSWER_KEYS), st.one_of(
    values, st.sampled_from(["0.42M", "61,706", "1.2亿", "1240万", "28x28x6", "3.8×10^9", "[6, 28, 28]", "1%"])),
    max_size=4)
questions = st.dictionaries(st.sampled_from(["q1", "q2", 3]), st.one_of(values, st.fixed_dictionaries(
    {"answer": figures},
    optional={"conv": values, "pool": values, "fc": values, "rf": st.one_of(values, st.just(["conv3", "pool2"])),
              "same_padding": values, "net": values, "tolerance": values})), max_size=3)
answers_docs = st.fixed_dictionaries({}, optional={
    "architecture": st.one_of(st.just("lenet5"), values), "layout": st.one_of(st.just("CHW"), values),
    "tolerance": values, "answers": st.one_of(st.dictionaries(st.sampled_from(["C1", "S2", "total", "F9", 4]),
                                                              st.one_of(figures, values), max_size=3), values),
    "questions": questions, "networks": values})


@given(answers_docs)
def test_any_answers_document_is_graded_or_a_clear_error(doc):
    from cnncalc.exam.check import check
    try:
        result = check(doc)
    except CnncalcError as e:
        assert str(e)
    else:
        assert result.passed + result.failed == result.total
