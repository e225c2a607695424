"""`cnncalc verify`: the static figures against a real PyTorch forward pass."""
from __future__ import annotations

from typing import Optional

import typer

from ..errors import CnncalcError
from .common import console, emit_json, guarded


def import_torch_module(name: str):
    """Import cnncalc.<name> (which imports torch); a one-line usage error when torch is missing."""
    import importlib
    try:
        return importlib.import_module(f"cnncalc.pytorch.{name}")
    except ImportError as e:
        if (e.name or "").split(".")[0] == "torch":
            raise CnncalcError(f"{name} needs PyTorch: pip install \"cnncalc[torch]\"") from None
        raise


@guarded
def verify_cmd(
    arch: str = typer.Argument(..., help="A YAML file, or a built-in name (`cnncalc list`)."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda (cuda:N) or meta (shapes and counts "
                               "only, no compute: any input size, instantly)."),
    batch: int = typer.Option(1, "--batch", "-b", min=1, help="Batch size of the random input."),
    input: Optional[str] = typer.Option(None, "--input", "-i", help="Override the input: 3x64x64, 64x48 (H×W) or 64."),
    json: bool = typer.Option(False, "--json", help="Print the Verification as JSON."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights and input."),
):
    """Prove the static figures against PyTorch: one forward pass (eval, no_grad, random input)
    with forward hooks and FlopCounterMode; per layer the output shape, params, buffers and MACs
    (FLOPs / 2) must equal cnncalc's. Exit 0 when all agree, 1 on any mismatch.

    Examples:

      cnncalc verify lenet5

      cnncalc verify googlenet --device cpu --batch 2

      cnncalc verify vgg16 --device meta --input 3x2048x2048
    """
    verify = import_torch_module("verify")
    result = verify.verify(arch, input=input, batch=batch, device=device, seed=seed)
    if json:
        emit_json(result)
    else:
        from ..render.verify import print_verification
        print_verification(result, console())
    if not result.ok:
        raise typer.Exit(1)
