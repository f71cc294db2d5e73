"""The serving areas load when one of their commands runs, and the lazy map names exactly their commands."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click

from hlskit.cli import main


def test_the_packaging_commands_do_not_load_flask():
    code = "import sys, hlskit.cli; print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'werkzeug', 'jinja2'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_each_lazy_area_registers_exactly_the_commands_the_map_names():
    by_area: dict[str, set[str]] = {}
    for name, area in main.lazy.items():
        by_area.setdefault(area, set()).add(name)
    for area, names in by_area.items():
        group = click.Group()
        importlib.import_module(area).register(group)
        assert set(group.commands) == names, area


def test_a_lazy_command_runs_from_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "hlskit", "token", "--help"], capture_output=True, text=True, check=True
    ).stdout  # click names the program "python -m hlskit" here
    assert "hlskit token [OPTIONS] CONTENT_ID" in out
