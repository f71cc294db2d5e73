"""The ``hlskit`` command line: thin click commands over the pipeline, one module per area."""

from __future__ import annotations

from . import core, distributed, extras, hls, mts, probe, quality
from .group import main

for _area in (core, probe, hls, quality, mts, distributed, extras):
    _area.register(main)

# The areas that serve (Flask): imported when one of their commands runs (HlskitGroup.lazy)
main.lazy = {
    **dict.fromkeys(("serve", "token", "keys"), f"{__name__}.server"),
    **dict.fromkeys(("play", "abr-check"), f"{__name__}.player"),
    **dict.fromkeys(("config", "doctor"), f"{__name__}.setup"),
}

__all__ = ["main"]
