"""`cnncalc verify`: the static figures against a real PyTorch forward pass."""
from __future__ import annotations

from typing import Optional

import typer

from ..spec.files import MAX_SIZE

from .common import JSON, LAYOUT, chosen, console, emit_json, guarded, input_shape


def import_torch_module(name: str):
    """Import cnncalc.pytorch.<name> (which imports torch); a one-line usage error when torch is missing."""
    import importlib

    from ..pytorch import require_torch, torch_missing
    require_torch(name)
    try:
        return importlib.import_module(f"cnncalc.pytorch.{name}")
    except ImportError as e:
        if (e.name or "").split(".")[0] == "torch":
            raise torch_missing(name) from None
        raise


@guarded
def verify_cmd(
    arch: str = typer.Argument(..., help="A YAML file, or a built-in name (`cnncalc list`)."),
    device: str = typer.Option("cpu", "--device", metavar="DEVICE", help="cpu, cuda (cuda:N) or meta (shapes "
                               "and counts only, no compute: any input size, instantly)."),
    batch: int = typer.Option(1, "--batch", "-b", min=1, max=MAX_SIZE, metavar="N", help="Batch size of the random input."),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE",
                                        help="Override the input: 3x64x64, 64x48 (H×W) or 64."),
    layout: Optional[str] = LAYOUT,
    json: bool = JSON,
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed of the random weights and input."),
    rf: bool = typer.Option(False, "--rf", help="Prove the receptive fields instead: each spatial layer's field "
                            "against the support of autograd's gradient (a smaller input where the full one "
                            "would cost too much, said in the output)."),
    train: bool = typer.Option(False, "--train", help="Prove the training figures instead: backward MACs, saved "
                               "activations (per layer), the inference peak, at batch 1 and 2 (or --batch N)."),
    optimizer: str = typer.Option("adam", "--optimizer", metavar="NAME",
                                  help="With --train: the optimizer of the measured step."),
    against: Optional[str] = typer.Option(None, "--against", metavar="SOURCE",
                                          help="Compare the YAML with the real model instead: model.onnx, file.py:NAME "
                                          "or package.module:NAME (importing a .py RUNS ITS CODE); layer by layer, "
                                          "exit 1 naming the first divergence."),
):
    """Prove the static figures against PyTorch (needs torch).

    One forward pass (eval, no_grad, random input) with forward hooks and FlopCounterMode: per layer, the output shape, params, buffers and MACs (FLOPs / 2) must equal cnncalc's. Exit 0 when all agree, 1 on any mismatch, 2 on bad input or without torch.

    Examples:

      cnncalc verify lenet5

      cnncalc verify googlenet --device cpu --batch 2

      cnncalc verify vgg16 --device meta --input 3x2048x2048

      cnncalc verify resnet50 --train --input 3x64x64

      cnncalc verify resnet50 --rf

      cnncalc verify my_resnet.yaml --against resnet.onnx

    `--rf` is its own run (not part of a plain verify: on resnet50 it costs about as much as a few dozen forward passes); it checks every spatial layer's field (size r, stride j, padding P, the positions each unit really sees) against the input positions with a non-zero gradient.
    """
    fmt = chosen(None, json)
    if against is not None:
        return verify_against(arch, against, input, layout, fmt)
    input = input_shape(arch, input, layout)
    if train:
        vt = import_torch_module("verify_train")
        batches = None if batch == 1 else (batch,)
        result = vt.verify_train(arch, input=input, batches=batches, device=device, optimizer=optimizer, seed=seed)
        from ..render.training import print_train_verification as show
    elif rf:
        result = import_torch_module("rf_oracle").rf_verify(arch, input=input)
        from ..render.rf_verify import print_rf_verification as show
    else:
        from ..render.progress import progress_bar, wanted
        verify = import_torch_module("verify")
        with progress_bar("verify: forward pass", wanted(fmt)) as progress:
            result = verify.verify(arch, input=input, batch=batch, device=device, seed=seed, progress=progress)
        from ..render.verify import print_verification as show
    if fmt == "json":
        emit_json(result)
    else:
        show(result, console())
    if not result.ok:
        raise typer.Exit(1)


def verify_against(arch: str, source: str, input: Optional[str], layout: Optional[str], fmt: str) -> None:
    """`--against`: the YAML against the imported model (no torch needed for an ONNX file)."""
    from ..analysis.analyze import load
    from ..importers import import_model, is_onnx, is_source
    from ..importers.against import against
    if not is_source(source):
        raise CnncalcError(f"--against {source}: expected model.onnx, path/to/file.py:NAME or package.module:NAME")
    if is_onnx(source):    # at the model's own input (or --input): the YAML follows it
        model = import_model(source, input, flat=True).graph
        graph = load(arch, "x".join(map(str, model.input)))
    else:                  # at the YAML's input (or --input): the module follows it
        graph = load(arch, input, layout)
        model = import_model(source, "x".join(map(str, graph.input)), flat=True).graph
    result = against(graph, model, graph.file or str(arch), source)
    if fmt == "json":
        emit_json(result)
    else:
        from ..render.verify import print_against
        print_against(result, console())
    if not result.ok:
        raise typer.Exit(1)
