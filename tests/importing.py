"""Helpers of the import tests: a built-in as a real model (PyTorch code, ONNX file) and a report's figures."""
from __future__ import annotations

import warnings
from pathlib import Path


def figures(report) -> dict:
    """What a round trip must keep exactly: totals, and per layer in execution order the output shape,
    params, buffers, MACs, other ops and receptive field. Names and kind names may differ (nn.Module
    attributes write `layer1_0_conv1`; an adaptive_avgpool to 1×1 reads back as global_avgpool), and an
    `identity` layer (EfficientNet's stochastic depth at inference) computes nothing, so no capture of
    the model holds it: it is left out, with the activation total that counts its output again."""
    t = report.totals
    return {
        "totals": (t.params, t.buffers, t.macs, t.other_ops, t.depth, t.weight_layers),
        "layers": [(tuple(r.output), r.params, r.buffers, r.macs, r.other_ops, r.rf.model_dump())
                   for r in report.layers if r.type != "identity"],
    }


def onnx_of(graph, path: Path) -> Path:
    """The built-in's torch module exported to ONNX by torch's TorchScript exporter with the model in
    training mode (in eval mode it folds each batch norm into its conv and drops dropout: a different
    network) but its batch norms in eval mode (training mode refuses a 1×1 map at batch 1)."""
    import torch
    from cnncalc.pytorch.build import Network

    net = Network(graph).train()
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    x = torch.zeros(1, *graph.input)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)
    return path


def torch_code_of(graph, path: Path) -> str:
    """`cnncalc export --torch`'s code written to a file; the source `file.py:Class` to import."""
    from cnncalc.pytorch.export import class_name, torch_source
    path.write_text(torch_source(graph), encoding="utf-8")
    return f"{path}:{class_name(graph)}"
