"""Progress display: a rich bar per definition on a terminal, plain lines otherwise."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def package_progress(console: Console) -> Iterator[Callable[[str, float], None]]:
    """Yield a callback (definition or "*" for all, percent) that shows packaging progress."""
    if not console.is_terminal:
        last: dict[str, int] = {}

        def plain(name: str, pct: float) -> None:
            step = int(pct // 10) * 10
            if last.get(name, -1) < step:
                last[name] = step
                console.print(f"{'all definitions' if name == '*' else name}: {step}%", highlight=False)

        yield plain
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(name: str, pct: float) -> None:
            label = "encoding" if name == "*" else name
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=100)
            bar.update(tasks[label], completed=pct)

        yield update
