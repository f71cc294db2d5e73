"""Progress display: a rich bar per definition on a terminal, plain lines otherwise.

Each definition gets its own bar from its first report, with FFmpeg's speed (× real time) and an
estimate of the time left; :meth:`PackageProgress.finish` ends every bar in its job's true state
(done, failed or cancelled), so a bar never stays at 99% when the definition succeeded.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

_ENDED = {"TranscodeSuccess": "done", "TranscodeFail": "failed", "TranscodeCancelled": "cancelled"}


def _detail(pct: float, speed: float | None, elapsed: float | None) -> str:
    """'2.1× real time, ~4 s left': the speed FFmpeg measured and the time the rest should take."""
    if not speed:
        return ""
    text = f"{speed:.2f}× real time"
    if elapsed and 0 < pct < 100:
        text += f", ~{max(0.0, elapsed * (100 - pct) / pct):.0f} s left"
    return text


class PackageProgress:
    """The callback the pipeline reports to: (definition or "*", percent[, speed])."""

    def __init__(self, console: Console, bar: Progress | None):
        self.console, self.bar = console, bar
        self.tasks: dict[str, TaskID] = {}
        self.last: dict[str, int] = {}
        self.started: dict[str, float] = {}

    def __call__(self, name: str, pct: float, speed: float | None = None) -> None:
        label = "encoding" if name == "*" else name
        elapsed = time.monotonic() - self.started.setdefault(label, time.monotonic())
        if self.bar is None:
            step = int(pct // 10) * 10
            if self.last.get(label, -1) < step:
                self.last[label] = step
                detail = f" ({_detail(pct, speed, elapsed)})" if speed else ""
                self.console.print(f"{label}: {step}%{detail}", highlight=False)
            return
        if label not in self.tasks:
            self.tasks[label] = self.bar.add_task(label, total=100, detail="")
        task = self.tasks[label]
        done = max(pct, self.bar.tasks[task].completed)  # stitching re-reports from 0: never step back
        if speed is not None:
            self.bar.update(task, completed=done, detail=_detail(done, speed, elapsed))
        else:
            self.bar.update(task, completed=done)

    def finish(self, states: dict[str, str]) -> None:
        """End each definition's bar in its job's state (MPS state names → done / failed / cancelled)."""
        for name, state in states.items():
            word = _ENDED.get(state, state)
            if self.bar is None:
                self.console.print(f"{name}: {word}", highlight=False)
                continue
            task = self.tasks.get(name)
            if task is None:
                task = self.tasks[name] = self.bar.add_task(name, total=100, detail="")
            completed = 100 if word == "done" else self.bar.tasks[task].completed
            self.bar.update(task, completed=completed, detail=word)
            self.bar.stop_task(task)


@contextlib.contextmanager
def package_progress(console: Console) -> Iterator[PackageProgress]:
    """Yield a :class:`PackageProgress` that shows packaging progress."""
    if not console.is_terminal:
        yield PackageProgress(console, None)
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        yield PackageProgress(console, bar)
