"""The ``hlskit`` command line: thin click commands over the pipeline, one module per area."""

from __future__ import annotations

from . import core, distributed, extras, hls, mts, player, probe, quality, server, setup
from .group import main

for _area in (core, probe, hls, quality, server, player, mts, distributed, extras, setup):
    _area.register(main)

__all__ = ["main"]
