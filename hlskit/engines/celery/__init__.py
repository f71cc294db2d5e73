"""The Celery engine: chunks of a title encoded by many workers (docs/distributed.md).

:mod:`.engine` plans, sends and follows a run; :mod:`.tasks` is what a worker runs; :mod:`.app`
the Celery application both use; :mod:`.chunks` cuts the title; :mod:`.work` is the shared work
folder; :mod:`.follow` waits and :mod:`.assemble` finishes the outputs.
"""

from __future__ import annotations

from .engine import CeleryEngine

__all__ = ["CeleryEngine"]
