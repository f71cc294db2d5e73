"""Engines run a plan's jobs: ``local`` (FFmpeg on this machine) and ``mts`` (Alibaba Cloud MPS)."""

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


def get_engine(name: str, settings) -> Engine:
    """The engine called ``name`` ("local" or "mts"), configured from ``settings``."""
    if name == "local":
        return LocalEngine(settings)
    if name == "mts":
        return MtsEngine(settings)
    raise InputError(f"unknown engine {name!r}: use --engine local or --engine mts.")
