"""The Report: what `analyze` returns and `--json` prints (Report.model_dump_json())."""
from __future__ import annotations

from pydantic import BaseModel, model_serializer

CONVENTIONS = ("shapes C×H×W per sample; MACs = multiply-accumulates of conv/linear (bias adds not counted); "
               "FLOPs = 2×MACs; other ops (pool, BN, activations, adds) counted apart; "
               "params = trainable weights+biases+BN γ/β; buffers = BN running stats; fp32 = 4 bytes")


class RF(BaseModel):
    """Receptive field of one output unit (Araujo et al. 2019): H axis, then W axis."""
    size: int
    stride: int
    padding: int
    size_w: int
    stride_w: int
    padding_w: int


class LayerRow(BaseModel):
    name: str
    type: str
    input: list[int]
    output: list[int]
    config: str = ""
    params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    other_ops: int = 0
    activations: int = 0
    rf: RF
    inputs: list[str] = []
    block: str | None = None
    line: int | None = None
    notes: list[str] = []
    train_only: bool = False   # runs only in training: counted in params, not in the totals' work


class BlockRow(BaseModel):
    name: str
    type: str
    level: int
    input: list[int]
    output: list[int]
    layers: int
    params: int
    macs: int
    flops: int
    other_ops: int
    rf: RF


class Totals(BaseModel):
    params: int
    trainable_params: int
    buffers: int
    macs: int
    flops: int
    other_ops: int
    activations: int
    activation_bytes: int
    param_bytes: int
    weight_layers: int    # conv and linear layers in all
    depth: int            # weight layers on the longest path (the papers' "16 layers", "22 layers")
    layers: int


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
    name: str             # the layer (dotted name) whose value the network returns
    output: list[int]


class Report(OmitsOneOutput):
    name: str
    source: str = ""
    file: str | None = None
    input: list[int]
    output: list[int]                 # the output's shape; with several outputs, the first one's
    outputs: list[NamedOutput] = []   # only for several outputs (`outputs:` in the file), in its order
    batch: int = 1
    conventions: str = CONVENTIONS
    layers: list[LayerRow]
    blocks: list[BlockRow] = []
    totals: Totals
    misaligned: list[str] = []


class RFRow(RF):
    name: str
    type: str
    output: list[int]
    region_h: list[int]   # input rows seen by output unit (0, 0), padding included (may be < 0)
    region_w: list[int]
    covers: bool          # every output unit sees the whole input
    misaligned: str | None = None


class RFReport(OmitsOneOutput):
    name: str
    input: list[int]
    layers: list[RFRow]
    first_covering: str | None
    outputs: list[str] = []   # the output layers' names when the network has several (JSON: only then)
