"""Engines run a plan's jobs: ``local`` (FFmpeg on this machine) and ``mts`` (Alibaba Cloud MPS).

An engine submits a plan, reports how its jobs went and cancels; it never imports the pipeline,
``hls``, the CLI or the config loader. Finishing a run is the pipeline's, the same for every engine.
"""

from __future__ import annotations

from typing import Protocol

from ..domain.errors import InputError
from ..domain.jobs import Job, JobStore
from ..domain.plan import PackagePlan, ProgressCallback
from .local import LocalEngine
from .mts import MtsEngine


class Engine(Protocol):
    name: str

    def run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback) -> list[Job]:
        """Run every job of the plan until each has ended; return the jobs as they ended.

        One failing definition must not stop the others; a job cancelled in the store
        (``hlskit cancel``) is dropped at the engine's next check.
        """

    def cancel(self, job: Job) -> None:
        """Ask the engine to stop one job (MPS allows this only while Submitted)."""


class RemoteEngine(Engine, Protocol):
    """An engine whose jobs outlive this process (MPS): submit now, follow later (``status --wait``)."""

    def submit(self, plan: PackagePlan, store: JobStore) -> list[Job]:
        """Send the plan's jobs without waiting; return them as accepted (Submitted) or refused (TranscodeFail)."""

    def wait(self, store: JobStore, jobs: list[Job], progress: ProgressCallback) -> list[Job]:
        """Follow the jobs until each has ended (or was cancelled in the store); return them as they ended."""


def get_engine(name: str, settings) -> Engine:
    """The engine called ``name`` ("local" or "mts"), configured from ``settings``."""
    if name == "local":
        return LocalEngine(settings)
    if name == "mts":
        return MtsEngine(settings)
    raise InputError(f"unknown engine {name!r}: use --engine local or --engine mts.")
