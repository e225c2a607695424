"""Everything that imports torch: the module builder (build), cnncalc's own small modules (ops),
verify, export and bench. Nothing outside this package imports torch at module level.

May import: anything but render and cli.
"""


def require_torch(command: str) -> None:
    """One usage error (exit 2 in the CLI) when torch is not installed, before any work starts."""
    from ..errors import CnncalcError
    try:
        import torch  # noqa: F401
    except ImportError:
        raise CnncalcError(f'{command} needs PyTorch: pip install "cnncalc[torch]"') from None
