"""Engines run a plan's jobs and report how they ended (:mod:`.base` is the seam).

Adding an engine is a module here and one line in :data:`ENGINES`; the pipeline plans from each
engine's :class:`~.base.Capabilities` and never asks its name. Engines never import the pipeline,
the CLI or the config loader; finishing a run is the pipeline's, the same for every engine.
"""

from __future__ import annotations

from collections.abc import Callable

from ..domain.errors import InputError
from ..domain.settings import Settings
from .base import Capabilities, Engine, EngineReport
from .celery import CeleryEngine
from .local import LocalEngine
from .mts import MtsEngine

# name → (engine class, how to build it from the settings: only the narrow config it needs)
ENGINES: dict[str, tuple[type[Engine], Callable[[Settings], Engine]]] = {
    LocalEngine.name: (LocalEngine, lambda s: LocalEngine(s.ffmpeg_config())),
    MtsEngine.name: (MtsEngine, lambda s: MtsEngine(s.mps_config())),
    CeleryEngine.name: (CeleryEngine, lambda s: CeleryEngine(s.celery_config())),
}


def engine_options(names: list[str]) -> str:
    """``--engine a``, ``--engine a or --engine b``, ``--engine a, --engine b or --engine c``: each one
    as a user would type it."""
    flags = [f"--engine {n}" for n in names]
    return " or ".join(flags) if len(flags) < 3 else f"{', '.join(flags[:-1])} or {flags[-1]}"


def _entry(name: str) -> tuple[type[Engine], Callable[[Settings], Engine]]:
    if name not in ENGINES:
        raise InputError(f"unknown engine {name!r}: use {engine_options(list(ENGINES))}.")
    return ENGINES[name]


def get_engine(name: str, settings: Settings) -> Engine:
    """The engine called ``name``, configured from ``settings``."""
    return _entry(name)[1](settings)


def capabilities(name: str) -> Capabilities:
    """What the engine called ``name`` can do, without configuring it (no credentials needed)."""
    return _entry(name)[0].capabilities


def engines_where(test: Callable[[Capabilities], bool]) -> list[str]:
    """The names of the engines whose capabilities pass ``test`` (for "use --engine X" sentences)."""
    return [name for name, (engine, _) in ENGINES.items() if test(engine.capabilities)]


__all__ = ["ENGINES", "Capabilities", "Engine", "EngineReport", "capabilities", "engines_where", "get_engine"]
