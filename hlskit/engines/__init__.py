"""Engines run a plan's jobs: ``local`` (FFmpeg on this machine) and ``mts`` (Alibaba Cloud MPS)."""
from __future__ import annotations

from typing import Protocol

from ..domain.jobs import Job, JobStore
from ..domain.plan import PackagePlan, ProgressCallback


class Engine(Protocol):
    name: str

    def run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback) -> list[Job]:
        """Run every job of the plan until each has ended; return the jobs as they ended.

        One failing definition must not stop the others; a job cancelled in the store
        (``hlskit cancel``) is dropped at the engine's next check.
        """

    def cancel(self, job: Job) -> None:
        """Ask the engine to stop one job (MPS allows this only while Submitted)."""


def get_engine(name: str, settings) -> Engine:
    if name == "local":
        from ..engines.local import LocalEngine

        return LocalEngine(settings)
    if name == "mts":
        from ..engines.mts import MtsEngine

        return MtsEngine(settings)
    from .errors import InputError

    raise InputError(f"unknown engine {name!r}: use --engine local or --engine mts.")
