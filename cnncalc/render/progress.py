"""A progress bar on stderr for work that may take more than a second (verify, bench).

Shown only where a person watches: stderr is a terminal and the output is not JSON. It is transient
(gone when the work ends), so the command's own output is the same with or without it.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, Optional

Callback = Callable[[int, int], None]


def wanted(fmt: str) -> bool:
    return fmt != "json" and sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(what: str, show: bool, console=None) -> Iterator[Optional[Callback]]:
    """Yield a callback `(done, total)` that advances a Rich bar, or None when nothing is shown."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("layers"),
                   TimeElapsedColumn(), console=console or Console(stderr=True), transient=True)
    with bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
        yield update
