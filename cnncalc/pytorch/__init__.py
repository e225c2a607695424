"""Everything that imports torch: the module builder (build), cnncalc's own small modules (ops),
verify, export and bench. Nothing outside this package imports torch at module level.

May import: anything but render and cli.
"""


def torch_missing(command: str):
    """The one-line error of a command that needs torch where none is installed: how to get the CPU build
    (plain `pip install torch` on Linux fetches the CUDA build, gigabytes a laptop does not need)."""
    from ..errors import CnncalcError
    return CnncalcError(f"{command} needs PyTorch, and the CPU build is enough: pip install torch --index-url "
                        "<PyTorch's CPU wheel index, as pytorch.org's install selector shows it> "
                        '(pip install "cnncalc[torch]" alone may fetch the CUDA build, several GB)')


def require_torch(command: str) -> None:
    """One usage error (exit 2 in the CLI) when torch is not installed, before any work starts."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise torch_missing(command) from None
