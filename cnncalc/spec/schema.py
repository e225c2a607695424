"""A JSON Schema of the architecture format, generated from the layer kinds' pydantic models.

`cnncalc schema` prints it; an editor with a YAML language server completes and checks a file that
starts with `# yaml-language-server: $schema=<path or URL of the schema>`. Every registered layer kind
appears with its fields, their types, defaults and descriptions, so a new kind is documented here as
soon as it is registered. A field's description is its pydantic `Field(description=…)` if it has one,
else the entry in FIELD_DOCS below (per kind, then shared by name); a kind's is its class docstring,
else KIND_DOCS.
"""
from __future__ import annotations

import sys
from typing import Any

from ..layers import REGISTRY

DIALECT = "https://json-schema.org/draft-07/schema#"   # the draft YAML language servers read

KIND_DOCS = {
    "conv": "Convolution (dense, grouped, depthwise, dilated) of a 1-, 2- or 3-D map: torch.nn.Conv1d/2d/3d.",
    "linear": "Fully connected layer; a C×H×W input is flattened first: torch.nn.Linear.",
    "maxpool": "Max pooling over windows: torch.nn.MaxPool1d/2d/3d.",
    "avgpool": "Average pooling over windows: torch.nn.AvgPool1d/2d/3d.",
    "adaptive_avgpool": "Average pooling to a fixed output size: torch.nn.AdaptiveAvgPool1d/2d/3d.",
    "global_avgpool": "Average over the whole map, to C×1×1.",
    "batchnorm": "Batch normalization (γ, β trainable; running mean and variance as buffers).",
    "lrn": "Local response normalization across channels (AlexNet): torch.nn.LocalResponseNorm.",
    "flatten": "Flatten a C×H×W map to a vector of C·H·W.",
    "identity": "Pass the input through unchanged.",
    "dropout": "Dropout: no work counted at inference.",
    "concat": "Concatenate its inputs on the channels (`inputs:` names them).",
    "add": "Element-wise sum of its inputs (a residual add; `inputs:` names them).",
    "mul": "Element-wise product of its inputs (squeeze-and-excitation; a 1×1 input is broadcast).",
    "leaky_relu": "Leaky ReLU: x for x > 0, negative_slope·x otherwise.",
}

FIELD_DOCS: dict[str, str] = {
    "filters": "Output channels (the number of filters).",
    "out": "Output features.",
    "kernel": "Kernel (window) size: an int, or one per spatial axis such as [h, w].",
    "stride": "Stride: an int, or one per spatial axis.",
    "padding": "Zero padding on each side: an int, one per spatial axis, `same` (keeps the size at stride 1) or "
               "`valid` (none).",
    "dilation": "Spacing between kernel taps: an int, or one per spatial axis; the effective kernel is d·(k−1)+1.",
    "groups": "Groups: input and output channels are split into this many independent groups (C_in for "
              "depthwise).",
    "bias": "Whether the layer has a bias per output channel or unit.",
    "in_channels": "Optional, as PyTorch writes it: the input channels, checked against the input (an error where "
                   "they differ).",
    "ceil_mode": "Round the output size up instead of down (PyTorch's rule: a last window starting in the right "
                 "padding is dropped).",
    "count_include_pad": "Average pooling: whether the zero padding counts in the divisor.",
    "output": "Output size: an int, or one per spatial axis.",
    "eps": "Added to the variance for numerical stability.",
    "momentum": "Running statistics' update rate (no effect on the figures).",
    "affine": "Whether the normalization has a trainable scale and shift.",
    "track_running_stats": "Whether running mean and variance are kept as buffers.",
    "size": "Neighbouring channels in the normalization window.",
    "alpha": "LRN scale α.",
    "beta": "LRN exponent β.",
    "k": "LRN additive constant k.",
    "p": "Probability that an element is zeroed (training only).",
    "inplace": "Whether torch runs it in place (no effect on the figures).",
    "negative_slope": "Slope for negative inputs.",
    "slope": "Slope for negative inputs (torch: negative_slope).",
    "table": "Per output map, the input maps it connects to (counted from 0): [[0, 1, 2], [1, 2, 3], …].",
    "start": "First channel taken (inclusive).",
    "end": "Channel after the last one taken (exclusive); null = to the last channel.",
    "start_dim": "First dimension flattened.",
    "dim": "The dimension along which it acts.",
    "output_padding": "Extra size added to one side of a transposed convolution's output.",
    "scale_factor": "Multiplier of the spatial size: an int, or one per spatial axis.",
    "mode": "Interpolation mode (upsample) or padding mode (pad).",
    "scale": "upsample: multiplier of each spatial size (output ⌊n·scale⌋), a number or one per axis.",
    "size_of": "upsample: the layer (or `input`) whose spatial size the output takes.",
    "over": "layernorm: `channels` (the C values at each position), `all` (the whole sample) or `last` (the last "
            "axis at each position, as PyTorch's LayerNorm after a permute).",
    "crop": "concat: `center` crops larger inputs to the smallest spatial size (U-Net).",
    "init": "Initial value of the multiplier.",
    "align_corners": "Whether corner pixels of input and output are aligned (bilinear modes).",
    "value": "Fill value of the padding.",
    "normalized_shape": "Shape of the normalized trailing dimensions.",
    "num_groups": "Channel groups normalized together.",
    "upscale": "pixel_shuffle: the factor r (C·r² × H × W → C × rH × rW).",
    "downscale": "pixel_unshuffle: the factor r (C × rH × rW → C·r² × H × W).",
    "num_parameters": "prelu: learnable slopes, 1 (shared) or one per input channel.",
    "l2norm.scale": "false (none), or the initial value of a learnable per-channel scale (SSD: 20): C params.",
    "l2norm.eps": "Lower bound of the length divided by (F.normalize's eps).",
    "weight_norm": "Weight normalisation (torch.nn.utils.parametrizations.weight_norm): the weight as a direction v "
                   "and a magnitude g, one per slice along the weight's dim 0 (+ that many params).",
    "spectral_norm": "Spectral normalisation (torch.nn.utils.parametrizations.spectral_norm): the power "
                     "iteration's vectors u and v are buffers.",
    "frozen": "batchnorm: torchvision's FrozenBatchNorm2d, γ and β fixed: all four per-channel tensors are "
              "buffers, no params.",
    "dims": "permute: the per-sample axes in their new order ([1, 0]: C×L → L×C), or PyTorch's with the batch "
            "first ([0, 2, 1]).",
}

STRUCTURE_DOCS = {
    "name": "The layer's name (unique among its siblings); default: its kind and a counter, such as conv1.",
    "inputs": "The layers this one reads (by name, `input` for the network input); default: the previous layer. "
              "A merge (concat, add, mul) needs it.",
    "repeat": "Repeat this item N times (named name.0 … name.N-1); 0 removes it.",
    "train_only": "Runs only in training (an auxiliary classifier): counted in params, not in the inference work.",
    "share": "Reuse the parameters of the earlier layer (or block instance) of this name: one module applied "
             "again; its params count once, its MACs at every use.",
}


PARAM = {"type": "string", "pattern": "^\\$", "description": "Inside a block: a parameter ($c) or an integer "
                                                            "expression of parameters (${4*width})."}


def _pair_like(prop: dict, kind: str = "integer") -> bool:
    """A tuple with one entry per spatial axis (fixed-length or not); not a list with its own bounds (permute's dims)."""
    return prop.get("type") == "array" and "maxItems" not in prop and (
        "prefixItems" in prop and all(p.get("type") == kind for p in prop["prefixItems"])
        or "prefixItems" not in prop and prop.get("items", {}).get("type") == kind)


def _sides_like(prop: dict) -> bool:
    """pad's per-side padding, held as ((side, n), …), written as a mapping {left: 1, right: 0}."""
    items = prop.get("items", {})
    return prop.get("type") == "array" and [p.get("type") for p in items.get("prefixItems", [])] == ["string",
                                                                                                    "integer"]


def _loosen(prop: dict) -> dict:
    """What YAML accepts: an int or a list (one per axis) where the model holds a tuple."""
    for kind in ("integer", "number"):
        if _pair_like(prop, kind):
            return {"anyOf": [{"type": kind}, {"type": "array", "items": {"type": kind}, "minItems": 1,
                                               "maxItems": 3}]}
    if _sides_like(prop):
        return {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    if "anyOf" in prop:
        return {**prop, "anyOf": [_loosen(p) for p in prop["anyOf"]]}
    return prop


def _default(value):
    if isinstance(value, list) and value and all(v == value[0] for v in value) and isinstance(value[0], int):
        return value[0]       # (1, 1) is written 1
    return value


def field_doc(cls, kind: str, field: str) -> str | None:
    info = cls.model_fields.get(field)
    if info is not None and info.description:
        return info.description
    return FIELD_DOCS.get(f"{kind}.{field}") or FIELD_DOCS.get(field)


def kind_doc(cls, kind: str) -> str | None:
    own = cls.__dict__.get("__doc__")
    if kind in KIND_DOCS:
        return KIND_DOCS[kind]
    if own and own.strip():
        return " ".join(own.split())
    if cls.__name__ == "Activation":
        return f"Element-wise {kind} activation."
    module = sys.modules[cls.__module__].__doc__ or ""    # a kind's own module: its first paragraph
    return " ".join(module.split("\n\n")[0].split()) or None


def kind_schema(kind: str) -> dict[str, Any]:
    """One layer kind as a mapping: `type: <kind>`, its fields, and the structural keys."""
    cls = REGISTRY[kind]
    base = cls.model_json_schema()
    props: dict[str, Any] = {"type": {"const": kind, "description": "The layer kind."}}
    missing = []
    for field, prop in base.get("properties", {}).items():
        if field == "type":
            continue
        default = {"default": _default(prop["default"])} if "default" in prop else {}
        prop = _loosen({k: v for k, v in prop.items() if k not in ("title", "description", "default")})
        doc = field_doc(cls, kind, field)
        if doc is None:
            missing.append(field)
            doc = f"{field} (undocumented)"
        props[field] = {"description": doc, "anyOf": [prop, PARAM], **default}
    for key, doc in STRUCTURE_DOCS.items():
        props[key] = {"description": doc, **STRUCTURE_TYPES[key]}
    out = {"type": "object", "description": kind_doc(cls, kind) or f"The {kind} layer.",
           "properties": props, "required": [r for r in base.get("required", []) if r != "type"] + ["type"],
           "additionalProperties": False}
    if missing:
        out["x-undocumented"] = missing
    return out


STRUCTURE_TYPES = {
    "name": {"type": ["string", "integer"]},
    "inputs": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "repeat": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]},
    "train_only": {"type": "boolean", "default": False},
    "share": {"type": "string"},
}


SHAPE = {"description": "Shape per sample, channels first: [C, H, W] for an image, [C, L] 1-D, [C, D, H, W] 3-D, "
                        "[N] for a vector; also written '3x224x224'.",
         "anyOf": [{"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 4},
                   {"type": "string"}, {"type": "integer", "minimum": 1}]}


def _item(kinds: list[str]) -> dict:
    """One entry of a `layers:` list: a kind's name alone, a layer, a block use, branches or a residual."""
    by_kind = [{"if": {"properties": {"type": {"const": k}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/kind_{k}"}} for k in kinds]
    return {"anyOf": [
        {"type": "string", "description": "A layer kind with its defaults (relu, flatten, …) or a block's name.",
         "anyOf": [{"enum": kinds}, {"type": "string"}]},
        {"$ref": "#/$defs/branches"},
        {"$ref": "#/$defs/residual"},
        {"type": "object", "required": ["type"], "not": {"anyOf": [{"required": ["branches"]},
                                                                   {"required": ["residual"]}]},
         "description": "A layer (`type:` a layer kind, with its fields) or a use of a block (`type:` the "
                        "block's name, with its params).",
         "properties": {"type": {"description": "A layer kind or the name of a block in `blocks:`.",
                                 "anyOf": [{"enum": kinds}, {"type": "string"}]}},
         "allOf": by_kind},
    ]}


def _composites() -> dict:
    layers = {"$ref": "#/$defs/layers"}
    named = {k: {"description": STRUCTURE_DOCS[k], **STRUCTURE_TYPES[k]} for k in ("name", "inputs", "repeat",
                                                                                 "train_only")}
    branch = {"anyOf": [layers, {"const": "identity"},
                        {"type": "object", "required": ["layers"], "additionalProperties": False,
                         "properties": {"name": {"type": "string", "description": "The branch's name (default "
                                                                                  "b1, b2, …)."},
                                        "layers": layers}}]}
    return {
        "layers": {"type": "array", "description": "Layers in order; each reads the previous one's output "
                                                   "unless it names its `inputs:`.", "items": {"$ref": "#/$defs/item"}},
        "branches": {"type": "object", "required": ["branches"], "additionalProperties": False,
                     "description": "Parallel paths on one input, concatenated on the channels (Inception).",
                     "properties": {**named, "branches": {
                         "type": "array", "minItems": 2, "items": branch,
                         "description": "The paths: each a list of layers, `identity` (the input itself) or "
                                        "{name, layers}."}}},
        "residual": {"type": "object", "required": ["residual"], "additionalProperties": False,
                     "description": "A body plus a shortcut, summed (ResNet).",
                     "properties": {**named, "residual": {
                         "type": "object", "required": ["body"], "additionalProperties": False,
                         "properties": {
                             "body": {"description": "The body's layers.", **layers},
                             "shortcut": {"description": "identity (the input), projection (a 1×1 conv and BN "
                                                         "to the body's shape), auto (identity where the shapes "
                                                         "agree) or a list of layers.", "default": "identity",
                                          "anyOf": [{"enum": ["identity", "projection", "auto"]}, layers]}}}}},
    }


TOP_DOCS = {
    "name": "The network's name, as reports show it.",
    "source": "Where the architecture comes from (paper, release) and what it reproduces.",
    "description": "Free text about the network.",
    "figures": "Published figures the architecture reproduces (params, MACs), for the reader.",
    "format": "The version of this format (1).",
    "outputs": "The layers the network returns (default: the last layer); every layer must reach one.",
    "layout": "How `input:` is written: CHW (channels first, the default: [3, 224, 224]) or HWC ([224, 224, 3]).",
}


def architecture_schema() -> dict:
    """The JSON Schema of an architecture YAML file (format v1), every layer kind included."""
    kinds = sorted(REGISTRY)
    defs = {f"kind_{k}": kind_schema(k) for k in kinds}
    defaults = {k: {"type": "object", "description": f"Defaults for every {k} layer.",
                    "properties": {f: p for f, p in defs[f"kind_{k}"]["properties"].items()
                                   if f not in ("type", *STRUCTURE_DOCS)}, "additionalProperties": False}
                for k in kinds}
    defaults["pool"] = {"type": "object", "description": "Defaults for every maxpool and avgpool layer "
                                                         "(e.g. {ceil_mode: true}).",
                        "properties": {"ceil_mode": defs["kind_maxpool"]["properties"]["ceil_mode"]}}
    return {
        "$schema": DIALECT,
        "title": "cnncalc architecture",
        "description": "A convolutional network for cnncalc: its input, its layers and reusable blocks.",
        "type": "object",
        "required": ["input", "layers"],
        "additionalProperties": False,
        "properties": {
            **{k: {"type": "string", "description": d} for k, d in TOP_DOCS.items() if k not in ("outputs",
                                                                                                  "format", "layout")},
            "layout": {"description": TOP_DOCS["layout"], "enum": ["CHW", "HWC", "chw", "hwc"]},
            "format": {"description": TOP_DOCS["format"], "type": ["integer", "string"]},
            "input": SHAPE,
            "layers": {"$ref": "#/$defs/layers"},
            "outputs": {"description": TOP_DOCS["outputs"],
                        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
            "defaults": {"type": "object", "description": "Field values every layer of a kind gets unless it sets "
                                                          "its own.", "properties": defaults,
                         "additionalProperties": False},
            "blocks": {"type": "object", "description": "Reusable blocks by name, used as `type: <name>` with "
                                                        "their params.",
                       "additionalProperties": {
                           "type": "object", "required": ["layers"], "additionalProperties": False,
                           "properties": {
                               "params": {"description": "The block's parameters: a list of names, or names "
                                                         "with defaults (null = required); used as $name or "
                                                         "${expression} in its layers.",
                                          "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "string"}}]},
                               "layers": {"$ref": "#/$defs/layers"},
                               "description": {"type": "string", "description": "Free text about the block."}}}},
        },
        "$defs": {**_composites(), "item": _item(kinds), **defs},
    }


def undocumented() -> dict[str, list[str]]:
    """Kinds and fields with no description anywhere (a test keeps this empty)."""
    out = {}
    for kind in sorted(REGISTRY):
        s = kind_schema(kind)
        if s.get("x-undocumented") or not kind_doc(REGISTRY[kind], kind):
            out[kind] = s.get("x-undocumented", []) or ["(the kind)"]
    return out
