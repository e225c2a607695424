"""A JSON Schema of the answers format (`cnncalc schema --answers`), built from the checker's own lists
of keys, figures, question kinds and conventions, so what the schema allows is what `check` reads."""
from __future__ import annotations

from .check import LAYER_FIGURES, NET_KEYS, TOP_KEYS
from .questions import KIND_FIELDS, QUESTION_KEYS, QUESTION_KINDS
from .subject import CONVENTION_CHOICES

DIALECT = "https://json-schema.org/draft-07/schema#"

FIGURE_DOCS = {
    "output": "Output shape, in the file's layout: 28x28x6, 28×28×6 or a list.",
    "params": "Trainable parameters (weights + biases + BN γ/β).",
    "weights": "Weights alone (params without biases).",
    "biases": "Biases alone.",
    "macs": "Multiply-accumulates.",
    "flops": "FLOPs (2 × MACs under the default conventions).",
    "connections": "Connections (LeCun's count: MACs plus bias adds).",
    "activations": "Output elements (the lecture table's activation count).",
    "memory": "Activation memory in bytes (93 MB, 58.1 MiB, 1,048,576).",
    "param_memory": "Parameter memory in bytes.",
    "rf": "Receptive field size: one number (the last layer) or one per layer.",
    "padding": "The padding that keeps the size (same padding).",
    "fits": "Whether every window fits the input exactly (true/false): (n + 2p − k)/s is a whole number.",
    "ratio": "A ratio (8.7) or a percentage (12%) of a figure between two configurations, or of two figures.",
    "min_input": "The smallest input size the network accepts (as `cnncalc sizes`).",
    "most_params": "The layer holding the most parameters.",
    "most_macs": "The layer doing the most multiply-accumulates.",
    "params_mostly_in": "Where most parameters are: conv or fc layers.",
    "memory_mostly_in": "Where most activations are: conv or fc layers.",
    "train_memory": "Training memory in bytes: params + gradients + optimizer states + saved activations.",
}
KEY_DOCS = {
    "architecture": "A built-in name (lenet5) or a path relative to this file.",
    "layout": "How shapes are written: HWC (28x28x6, the course's way; the default) or CHW.",
    "tolerance": "Relative tolerance replacing the rounding rule: 0.01 or \"1%\" (the most specific one wins).",
    "conventions": "How the course counts: flops, params, activations, dtype.",
    "input": "Input override, in the file's layout (64x64x3).",
    "answers": "Answers per layer, block or `total`: {figure: value}.",
    "questions": "Stand-alone exercises: {name: {<kind>: {…}, answer: {…}}}.",
    "networks": "More architectures in the same file: {label: {architecture, answers, …}}.",
    "name": "A name for the answers file.",
    "title": "A title for the answers file.",
    "description": "Free text.",
    "source": "Where the exercises come from.",
    "text": "The question as set.",
    "answer": "The answers to the question: {figure: value}.",
}
NUMBER = "A number: 61706, \"61,706\", 0.42M, 15.5G, 3.8e9, 3.8×10^9, 1.2亿, 1240万."
FIELD_DOCS = {
    "input": "Input: 227x227x3 (in the file's layout), or 227 with a shape written elsewhere.",
    "kernel": "Kernel size.", "stride": "Stride.", "padding": "Padding on each side (or same).",
    "filters": "Output channels.", "dilation": "Dilation.", "groups": "Groups.", "bias": "With a bias (true).",
    "ceil": "Round the output size up.", "type": "max or avg.", "in": "Input neurons, or a shape it flattens.",
    "out": "Output neurons.", "layers": "A short chain of layers in the architecture format.",
    "architecture": "A built-in name or a path.", "batch": "The batch size (training memory).",
    "optimizer": "sgd, momentum, adam or adamw (training memory).", "dtype": "fp32, fp16 or bf16.",
    "a": "The first configuration ({conv: …}) or figure.", "b": "The second configuration or figure.",
    "of": "The configuration whose two figures `a` and `b` are compared.",
    "figure": "The figure compared between configurations: params, weights, macs, flops, outputs.",
}


def _tolerance() -> dict:
    return {"description": KEY_DOCS["tolerance"], "$ref": "#/$defs/tolerance"}


VALUE = {"anyOf": [{"type": ["number", "string", "array"]},
                   {"type": "object", "required": ["value"], "additionalProperties": False,
                    "properties": {"value": {"type": ["number", "string", "array"]},
                                   "tolerance": {"$ref": "#/$defs/tolerance"}}}]}


def _value(figure: str) -> dict:
    return {"description": FIGURE_DOCS.get(figure, figure) + ("" if figure in ("output", "rf") else " " + NUMBER),
            "$ref": "#/$defs/value"}


def _answers(figures) -> dict:
    return {"type": "object", "additionalProperties": False,
            "properties": {**{f: _value(f) for f in figures}, "tolerance": _tolerance()}}


def _conventions() -> dict:
    return {"type": "object", "description": KEY_DOCS["conventions"], "additionalProperties": False,
            "properties": {k: {"enum": list(v), "description": f"{k}: one of {', '.join(v)} (default {v[0]})."}
                           for k, v in CONVENTION_CHOICES.items()}}


def _question() -> dict:
    kinds = {k: {"description": f"A {k} exercise; it answers {', '.join(figs)}.",
                 **({"type": "object", "properties": {f: {"description": FIELD_DOCS.get(f, f)}
                                                      for f in KIND_FIELDS[k]}, "additionalProperties": False}
                    if k in KIND_FIELDS else {"type": ["array", "object"]})}
             for k, figs in QUESTION_KINDS.items()}
    every = sorted({f for figs in QUESTION_KINDS.values() for f in figs})
    return {"type": "object", "description": "One exercise: exactly one kind and its answer.",
            "minProperties": 1,
            "properties": {**kinds, **{k: ({"description": KEY_DOCS.get(k, k)} if k != "answer" else
                                          {"description": KEY_DOCS["answer"], **_answers(every)})
                                       for k in QUESTION_KEYS},
                           "tolerance": _tolerance(), "conventions": _conventions()},
            "additionalProperties": False}


def _settings(keys) -> dict:
    props = {}
    for k in keys:
        if k == "answers":
            props[k] = {"description": KEY_DOCS[k], "type": "object",
                        "additionalProperties": {"$ref": "#/$defs/layer_answers"}}
        elif k == "tolerance":
            props[k] = _tolerance()
        elif k == "conventions":
            props[k] = _conventions()
        elif k == "layout":
            props[k] = {"description": KEY_DOCS[k], "enum": ["HWC", "CHW"], "default": "HWC"}
        elif k == "questions":
            props[k] = {"description": KEY_DOCS[k], "type": "object",
                        "additionalProperties": {"$ref": "#/$defs/question"}}
        elif k == "networks":
            props[k] = {"description": KEY_DOCS[k], "type": "object",
                        "additionalProperties": {"type": "object", "properties": _settings(NET_KEYS),
                                                 "additionalProperties": False}}
        elif k == "input":
            props[k] = {"description": KEY_DOCS[k], "type": ["string", "array", "integer"]}
        else:
            props[k] = {"description": KEY_DOCS.get(k, k), "type": "string"}
    return props


def answers_schema() -> dict:
    """The JSON Schema of an answers file for `cnncalc check`."""
    return {"$schema": DIALECT, "title": "cnncalc answers",
            "description": "Hand-written answers (shapes, params, MACs, FLOPs, RF) that `cnncalc check` grades.",
            "type": "object", "properties": _settings(TOP_KEYS), "additionalProperties": False,
            "$defs": {"value": VALUE, "tolerance": {"type": ["number", "string"]},
                      "layer_answers": _answers(LAYER_FIGURES), "question": _question()}}
