"""How `--dry-run --ladder per-title` and `hlskit quality` show the analysis's choice per definition."""

from __future__ import annotations

from hlskit.cli.encodeopts import per_title_lines


def _rung(name: str, kept: bool, why: str, crf: int | None = 30) -> dict:
    return {
        "definition": name,
        "width": 848,
        "height": 478,
        "fixed_width": 640,
        "fixed_height": 360,
        "crf": crf,
        "chosen_kbps": 400,
        "kept": kept,
        "why": why,
    }


def test_each_definition_shows_its_size_rate_control_and_reason_once():
    lines = per_title_lines(
        {
            "seconds": 4.31,
            "rungs": [
                _rung("LD", True, "848x478 at CRF 30 reaches VMAF 65.0"),
                _rung("SD", True, "keeps the fixed ABR encode", crf=None),
                _rung("HD", False, "dropped: VMAF 71.5 is less than 2 above SD's 72.1"),
            ],
        }
    )
    assert lines == [
        "per-title analysis (4.3 s):",
        "  LD  848x478 (fixed 640x360), CRF 30 under 400 kb/s: 848x478 at CRF 30 reaches VMAF 65.0",
        "  SD  848x478 (fixed 640x360), ABR 400 kb/s: keeps the fixed ABR encode",
        "  HD  dropped: VMAF 71.5 is less than 2 above SD's 72.1",
    ]
