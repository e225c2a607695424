"""The Report: what `analyze` returns and `--json` prints (Report.model_json_schema() documents it)."""
from __future__ import annotations

from typing import Union

from pydantic import BaseModel, Field, model_serializer

Num = Union[int, str]  # an int, or a fraction such as "1/2" (the stride after an upsampling)

CONVENTIONS = ("shapes C×H×W per sample; MACs = multiply-accumulates of conv/linear (bias adds not counted); "
               "FLOPs = 2×MACs; other ops (pool, BN, activations, adds) counted apart; "
               "params = trainable weights+biases+BN γ/β; buffers = BN running stats; fp32 = 4 bytes")

SHAPE = "per sample, channels first: [C, H, W] for a map ([C, L] 1-D, [C, D, H, W] 3-D), [N] for a vector"
BATCHED = " (multiplied by the batch)"


class RFAxis(BaseModel):
    """The receptive field along one spatial axis."""
    size: Num = Field(description="receptive field size r, in input pixels")
    stride: Num = Field(description="effective stride j, in input pixels")
    padding: Num = Field(description="effective padding P, in input pixels")


class RF(BaseModel):
    """Receptive field of one output unit (Araujo et al. 2019): H axis, then W axis (the first and the last
    spatial axis); on a 1-D or 3-D map also `axes`, one entry per spatial axis (L; D, H, W). After a transposed
    conv or an upsampling a value may be a fraction, written as text ("1/2")."""
    size: Num = Field(description="receptive field size r along H, in input pixels")
    stride: Num = Field(description="effective stride j along H (product of the strides so far), in input pixels")
    padding: Num = Field(description="effective padding P along H: how far unit 0's field starts before the "
                                     "input, in input pixels")
    size_w: Num = Field(description="receptive field size r along W, in input pixels")
    stride_w: Num = Field(description="effective stride j along W, in input pixels")
    padding_w: Num = Field(description="effective padding P along W, in input pixels")
    axes: list[RFAxis] | None = Field(default=None, exclude_if=lambda v: v is None,
                                      description="1-D and 3-D maps only: r, j, P for every spatial axis")


def absent(description: str = "") -> object:
    """An optional figure that only `--train`/`--memory` fill in: left out of the JSON when not asked for."""
    return Field(None, exclude_if=lambda v: v is None, description=description or None)


class LayerTraining(BaseModel):
    """One layer's share of a training step (`--train`)."""
    backward_macs: int = Field(description="MACs of its backward: the weight gradient, and the input gradient when "
                                           "the input needs one" + BATCHED)
    saved_bytes: int = Field(description="bytes of the storages autograd keeps for its backward, each storage "
                                         "counted at the first layer keeping it (parameters aside)" + BATCHED)


_MEMORY = {
    "param_bytes": "parameters and buffers in the training dtype (bytes)",
    "grad_bytes": "parameter gradients in the training dtype (bytes)",
    "optimizer_bytes": "fp32 optimizer state (momentum 1×, Adam 2× the params) + fp32 master weights under "
                       "fp16/bf16 (bytes)",
    "saved_activation_bytes": "activations autograd keeps for backward, distinct storages (bytes)",
    "peak_bytes": "predicted peak of the step: parameters, optimizer state and the largest of forward, backward "
                  "and optimizer step (bytes)",
    "peak_phase": "where the peak falls: forward, backward or optimizer step"}


class StepMemory(BaseModel):
    """Memory of one training step at a batch."""
    batch: int = Field(description="batch size of the step")
    param_bytes: int = Field(description=_MEMORY["param_bytes"])
    grad_bytes: int = Field(description=_MEMORY["grad_bytes"])
    optimizer_bytes: int = Field(description=_MEMORY["optimizer_bytes"])
    saved_activation_bytes: int = Field(description=_MEMORY["saved_activation_bytes"])
    peak_bytes: int = Field(description=_MEMORY["peak_bytes"])
    peak_phase: str = Field(description=_MEMORY["peak_phase"])


class Fit(BaseModel):
    """`--fit`: the largest batch whose step peak fits the budget, and the step's memory at that batch."""
    budget_bytes: int = Field(description="the memory budget (bytes)")
    batch: int = Field(description="the largest batch that fits (0: not even one sample)")
    at_least: bool = Field(False, description="the search stopped at its limit (2^24): the largest batch is at "
                                              "least `batch`")
    param_bytes: int | None = Field(None, description=_MEMORY["param_bytes"])
    grad_bytes: int | None = Field(None, description=_MEMORY["grad_bytes"])
    optimizer_bytes: int | None = Field(None, description=_MEMORY["optimizer_bytes"])
    saved_activation_bytes: int | None = Field(None, description=_MEMORY["saved_activation_bytes"])
    peak_bytes: int | None = Field(None, description=_MEMORY["peak_bytes"])
    peak_phase: str | None = Field(None, description=_MEMORY["peak_phase"])


class TrainingTotals(StepMemory):
    """`--train`: one training step (forward in training mode + backward of the summed outputs)."""
    dtype: str = Field(description="training dtype: fp32, or fp16/bf16 mixed precision")
    optimizer: str = Field(description="sgd, momentum, adam or adamw")
    device: str = Field(description="whose kernels' saved tensors are counted: cuda (dropout keeps a 1-byte "
                                            "mask) or cpu (a mask in the activations' dtype)")
    forward_macs: int = Field(description="MACs of the training forward, auxiliary heads included" + BATCHED)
    backward_macs: int = Field(description="MACs of the backward" + BATCHED)
    step_macs: int = Field(description="forward + backward MACs" + BATCHED)
    fit: Fit | None = absent("with --fit: the largest batch that fits the budget")


class LayerRow(BaseModel):
    """One leaf layer of the network, in the order the graph runs."""
    name: str = Field(description="dotted layer name, unique (layer1.0.conv1)")
    type: str = Field(description="layer kind as in the YAML (conv, maxpool, linear, …)")
    input: list[int] = Field(description=f"input shape {SHAPE}; a merge's first input")
    output: list[int] = Field(description=f"output shape {SHAPE}")
    config: str = Field("", description="kernel/stride and padding as the table shows them (5/1 p0)")
    params: int = Field(0, description="trainable parameters: weights, biases, BN γ/β (count)")
    buffers: int = Field(0, description="non-trainable buffers: BN running mean/var and num_batches_tracked (count)")
    macs: int = Field(0, description="multiply-accumulates of conv/linear" + BATCHED)
    flops: int = Field(0, description="floating-point operations, 2 × MACs" + BATCHED)
    other_ops: int = Field(0, description="non-MAC operations: pool comparisons/sums, BN, activations, adds" + BATCHED)
    activations: int = Field(0, description="output elements" + BATCHED)
    rf: RF = Field(description="receptive field of one output unit after this layer")
    inputs: list[str] = Field([], description="names of the layers a merge joins ('input' for the network input); "
                                              "empty for a layer with one input")
    block: str | None = Field(None, description="name of the innermost block or group holding the layer")
    line: int | None = Field(None, description="line of the layer in the YAML file")
    notes: list[str] = Field([], description="remarks: rows dropped by floor, flattening, depthwise, …")
    train_only: bool = Field(False, description="runs only in training (an auxiliary classifier): counted in "
                                                "params, not in the totals' work")
    training: LayerTraining | None = absent("with --train: backward MACs and bytes kept for backward")


class BlockRow(BaseModel):
    """A named block, branch set, residual or repeat, with the sums of its leaf layers."""
    name: str = Field(description="dotted block name")
    type: str = Field(description="the block's name in `blocks:`, or branches / residual / repeat")
    level: int = Field(description="nesting level, 1 = top level")
    input: list[int] = Field(description=f"input shape {SHAPE}")
    output: list[int] = Field(description=f"output shape {SHAPE}")
    layers: int = Field(description="leaf layers inside (count)")
    params: int = Field(description="trainable parameters inside (count)")
    macs: int = Field(description="multiply-accumulates inside" + BATCHED)
    flops: int = Field(description="FLOPs inside, 2 × MACs" + BATCHED)
    other_ops: int = Field(description="non-MAC operations inside" + BATCHED)
    rf: RF = Field(description="receptive field at the block's output")
    training: LayerTraining | None = absent("with --train: its layers' backward MACs and bytes kept for backward")


class Totals(BaseModel):
    """The whole network's figures."""
    params: int = Field(description="trainable parameters (count)")
    trainable_params: int = Field(description="trainable parameters (count; equal to params)")
    buffers: int = Field(description="non-trainable buffers (count)")
    macs: int = Field(description="multiply-accumulates of the inference forward" + BATCHED)
    flops: int = Field(description="FLOPs of the inference forward, 2 × MACs" + BATCHED)
    other_ops: int = Field(description="non-MAC operations of the inference forward" + BATCHED)
    activations: int = Field(description="sum of every layer's output elements (the every_layer convention)"
                             + BATCHED)
    activation_bytes: int = Field(description="activations × 4 (bytes at fp32)")
    lecture_activations: int = Field(description="the lecture convention: the input's elements and each output "
                                                 "of a layer with a table row of its own (not an activation, "
                                                 "dropout, flatten or identity)" + BATCHED)
    param_bytes: int = Field(description="(params + buffers) × 4 (bytes at fp32)")
    weight_layers: int = Field(description="conv and linear layers in all (count)")
    depth: int = Field(description="weight layers on the longest input-to-output path (the papers' "
                                   "'16 layers', '22 layers')")
    layers: int = Field(description="leaf layers in all (count)")
    peak_activation_bytes: int | None = absent("with --memory/--train: peak bytes of live activations at inference, "
                                               "each tensor freed after its last consumer (fp32)")
    training: TrainingTotals | None = absent("with --train: the training step's work and memory")


class OmitsOneOutput(BaseModel):
    """A model whose `outputs` list (filled only for a network with several outputs) is left out of its
    JSON when empty, so a single-output network's JSON stays as it always was."""

    @model_serializer(mode="wrap")
    def _omit_empty_outputs(self, handler):
        data = handler(self)
        if isinstance(data, dict) and not data.get("outputs"):
            data.pop("outputs", None)
        return data


class NamedOutput(BaseModel):
    """One of several outputs: the layer whose value the network returns, and its shape."""
    name: str = Field(description="the layer (dotted name) whose value the network returns")
    output: list[int] = Field(description=f"its shape {SHAPE}")


# How a Report shows itself in a terminal or a notebook: set by the package root to render/'s table (analysis
# never imports render), keyed 'rich' (report, width → renderable), 'html' (→ an HTML fragment), 'text' (→ str)
DISPLAY: dict = {}


class Report(OmitsOneOutput):
    """What `cnncalc analyze --json` prints: every leaf layer, every block and the totals.

    In a notebook or Rich's console it shows as `cnncalc analyze` prints it: the table and the totals."""

    def __rich_console__(self, console, options):
        yield DISPLAY["rich"](self, options.max_width)

    def _repr_html_(self) -> str:
        return DISPLAY["html"](self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:   # IPython in a terminal
        printer.text(DISPLAY["text"](self))

    name: str = Field(description="the architecture's name")
    source: str = Field("", description="where the architecture comes from (paper, release) and the figures it "
                                        "reproduces")
    file: str | None = Field(None, description="the YAML file, as given (a built-in as cnncalc/architectures/…)")
    input: list[int] = Field(description=f"input shape {SHAPE}")
    output: list[int] = Field(description=f"output shape {SHAPE}; with several outputs, the first one's")
    outputs: list[NamedOutput] = Field([], description="only for several outputs (`outputs:` in the file), in "
                                                       "its order; absent from the JSON otherwise")
    batch: int = Field(1, description="batch size the work figures are multiplied by")
    conventions: str = Field(CONVENTIONS, description="how the figures are counted")
    layers: list[LayerRow] = Field(description="leaf layers in execution order")
    blocks: list[BlockRow] = Field([], description="named composites, outermost first")
    totals: Totals = Field(description="the whole network")
    misaligned: list[str] = Field([], description="merges whose paths' receptive fields are misaligned")
    notes: list[str] = Field([], exclude_if=lambda v: not v,
                             description="remarks on the file as a whole: what it asks for that may not be what was "
                                         "meant (a projection shortcut on every repeat, a linear that flattens a "
                                         "map); absent when none")


class RFRow(RF):
    """One layer of `cnncalc rf`: the receptive field and the input region output unit (0, 0) sees."""
    name: str = Field(description="dotted layer name")
    type: str = Field(description="layer kind")
    output: list[int] = Field(description=f"output shape {SHAPE}")
    region_h: list[Num] = Field(description="first and last input row seen by output unit (0, 0), padding "
                                            "included (may be < 0)")
    region_w: list[Num] = Field(description="first and last input column seen by output unit (0, 0)")
    regions: list[list[Num]] | None = Field(default=None, exclude_if=lambda v: v is None,
                                            description="1-D and 3-D maps only: the region on every spatial axis")
    covers: bool = Field(description="every output unit sees the whole input")
    misaligned: str | None = Field(None, description="how the joined paths are misaligned, if they are")


class RFReport(OmitsOneOutput):
    """What `cnncalc rf --json` prints."""
    name: str = Field(description="the architecture's name")
    input: list[int] = Field(description=f"input shape {SHAPE}")
    layers: list[RFRow] = Field(description="every leaf layer in execution order")
    first_covering: str | None = Field(description="the first layer whose every unit sees the whole input")
    outputs: list[str] = Field([], description="the output layers' names when the network has several (in the "
                                               "JSON only then)")
