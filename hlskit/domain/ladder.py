"""Definitions (ladder rungs) and choosing the ladder for one source.

A definition's ``width`` is its size along the long edge, as in MPS's landscape presets: for a
portrait source (a phone held upright) the same rung is ``width`` pixels tall instead. Heights
follow the source's display aspect ratio and are rounded to even numbers (H.264 4:2:0 needs it).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import InputError
from .names import DOWNLOADS
from .tracks import AUDIO_DIR, SUBTITLES_DIR

SOURCE = "SOURCE"  # the definition of the source's own video, copied (pipeline.transmux)
# A definition's name is a folder of the package and a path segment of every URI to it: ASCII
# (RFC 3986 §2: a playlist's URIs hold no other characters), not one of the package's own
# folders nor the copied source's rung, and no codec suffix, which names a definition's HEVC or
# AV1 variant (Rung.name); compared without case, as a case-insensitive file system would.
DEFINITION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
RESERVED_NAMES = {AUDIO_DIR, SUBTITLES_DIR, DOWNLOADS, SOURCE.lower()}
CODEC_SUFFIX = re.compile(r"-(h264|hevc|av1)$", re.IGNORECASE)


@dataclass(frozen=True)
class Definition:
    name: str
    width: int  # long-edge size of the rung
    video_kbps: int
    audio_kbps: int
    template_id: str = ""  # MPS preset (or custom) template id


@dataclass(frozen=True)
class Rung:
    """A definition resolved against one source: the exact output size."""

    definition: Definition
    width: int
    height: int
    codec: str = "h264"  # see hlskit.domain.formats
    crf: int | None = None  # set (per-title): capped CRF at this value under the rung's rate cap
    transmux: bool = False  # the source's own video, copied without re-encoding (MPS M3U8-COPY)
    why: str = ""  # why its rate differs from its definition's (never above the source's own rate)

    @property
    def name(self) -> str:
        """The definition's name; a rung of another codec than H.264 adds it (``HD-hevc``); a
        transmuxed rung is named for what it is (SOURCE), whatever its codec."""
        if self.codec == "h264" or self.transmux:
            return self.definition.name
        return f"{self.definition.name}-{self.codec}"


# MPS static M3U8 presets (reference/alibaba-mps-api.md section 5).
PRESETS: tuple[Definition, ...] = (
    Definition("LD", 640, 400, 64, "S00000001-100010"),
    Definition("SD", 848, 800, 80, "S00000001-100020"),
    Definition("HD", 1280, 1800, 128, "S00000001-100030"),
    Definition("FHD", 1920, 3000, 160, "S00000001-100040"),
    Definition("2K", 2048, 3500, 160, "S00000001-100060"),
    Definition("4K", 3840, 6000, 160, "S00000001-100070"),
)
PRESET_NAMES = tuple(d.name for d in PRESETS)
LADDER_KEYS = ("name", "width", "video_kbps", "audio_kbps", "template_id")


def _even_down(x: float) -> int:
    return max(2, int(x // 2) * 2)


def _even_nearest(x: float) -> int:
    return max(2, int(x / 2 + 0.5) * 2)


def resolve(definition: Definition, display_width: int, display_height: int) -> Rung:
    """Size one definition for a source, keeping its aspect ratio and never upscaling."""
    long_src, short_src = max(display_width, display_height), min(display_width, display_height)
    long_out = _even_down(min(definition.width, long_src))
    short_out = min(_even_nearest(long_out * short_src / long_src), _even_down(short_src))
    if display_width >= display_height:
        return Rung(definition, long_out, short_out)
    return Rung(definition, short_out, long_out)


def load_ladder_file(path: str | Path) -> list[Definition]:
    """Read custom rungs from TOML: one ``[[definition]]`` table per rung."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"ladder file {p} does not exist: check the path given to --ladder.")
    except IsADirectoryError:
        raise InputError(f"ladder file {p} is a folder: give the path of a .toml file to --ladder.")
    except OSError as exc:
        raise InputError(f"ladder file {p} cannot be read ({exc.strerror}): check its permissions.")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"ladder file {p} is not valid TOML ({exc}): fix the syntax.")
    rows = data.get("definition")
    if not isinstance(rows, list) or not rows:
        raise InputError(f"ladder file {p} has no [[definition]] tables: add at least one rung.")
    extra = sorted(set(data) - {"definition"})
    if extra:
        raise InputError(f"ladder file {p} has an unknown key {extra[0]!r}: use only [[definition]] tables.")
    out: list[Definition] = []
    for i, row in enumerate(rows, 1):
        unknown = sorted(set(row) - set(LADDER_KEYS)) if isinstance(row, dict) else []
        if unknown:
            raise InputError(
                f"ladder file {p}, definition {i}: unknown key {unknown[0]!r}: use {', '.join(LADDER_KEYS)}."
            )
        try:
            d = Definition(
                name=str(row["name"]),
                width=int(row["width"]),
                video_kbps=int(row["video_kbps"]),
                audio_kbps=int(row.get("audio_kbps", 128)),
                template_id=str(row.get("template_id", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"ladder file {p}, definition {i}: needs name, width and video_kbps ({exc}): fix that rung."
            )
        if not DEFINITION_NAME.fullmatch(d.name):
            raise InputError(
                f"ladder file {p}, definition {i}: name {d.name!r} must be 1-32 ASCII letters, digits, - or _, "
                "starting with a letter or digit."
            )
        if d.name.lower() in RESERVED_NAMES or CODEC_SUFFIX.search(d.name):
            raise InputError(
                f"ladder file {p}, definition {i}: name {d.name!r} is taken by the package's own folders or a "
                "definition's HEVC/AV1 variant (LD-hevc): choose another name."
            )
        if not (16 <= d.width <= 8192 and 10 <= d.video_kbps <= 200_000 and 8 <= d.audio_kbps <= 512):
            raise InputError(
                f"ladder file {p}, definition {d.name}: width must be 16-8192, video_kbps 10-200000 and "
                f"audio_kbps 8-512, got {d.width}, {d.video_kbps} and {d.audio_kbps}."
            )
        out.append(d)
    names = [d.name.lower() for d in out]
    if len(set(names)) != len(names):
        raise InputError(f"ladder file {p} repeats a definition name: give each rung its own name.")
    return sorted(out, key=lambda d: (d.width, d.video_kbps))


def parse_ladder_option(option: str) -> list[Definition] | None:
    """``auto`` → None (choose from the source); ``LD,HD`` → those presets; else a TOML file."""
    if option.strip().lower() == "auto":
        return None
    if option.endswith(".toml") or Path(option).is_file():
        return load_ladder_file(option)
    if Path(option).is_dir():
        raise InputError(f"--ladder {option} is a folder: give a ladder .toml file, auto, or names such as LD,HD.")
    by_name = {d.name.upper(): d for d in PRESETS}
    picked = []
    for name in (n.strip() for n in option.split(",") if n.strip()):
        if name.upper() not in by_name:
            raise InputError(
                f"unknown definition {name!r} in --ladder: use auto, names from {', '.join(PRESET_NAMES)}, or a .toml file."
            )
        picked.append(by_name[name.upper()])
    if not picked:
        raise InputError("--ladder is empty: use auto, names such as LD,HD, or a .toml file.")
    return sorted(set(picked), key=lambda d: d.width)


def cap_to_source(rungs: list[Rung], source_kbps: int | None) -> tuple[list[Rung], list[str]]:
    """Never encode above the source's own video rate (MPS TransConfig ``IsCheckVideoBitrate``): a
    rung aiming higher is encoded at the source's rate; of rungs capped alike only the largest
    picture is kept, since the others would spend the same bits on fewer pixels. Returns the
    rungs and a sentence for each one capped or dropped."""
    if not source_kbps:
        return list(rungs), []
    capped = []
    for r in rungs:
        d = r.definition
        if d.video_kbps <= source_kbps or r.transmux:
            capped.append(r)
            continue
        why = f"capped at the source's own {source_kbps} kb/s (definition {d.video_kbps} kb/s)"
        capped.append(replace(r, definition=replace(d, video_kbps=source_kbps), why=why))
    at_cap = [r for r in capped if r.why]
    # The copied source (SOURCE) is the best picture at its own rate: a rung capped to it adds nothing.
    best = next((r for r in capped if r.transmux), None)
    keep = None if best else max(at_cap, key=lambda r: (r.width * r.height, r.definition.width), default=None)
    twin = best or keep
    notes = [
        f"{r.name} {r.why}"
        if r is keep
        else f"{r.name} dropped: at the source's own {source_kbps} kb/s it would duplicate {twin.name}"
        for r in at_cap
        if twin is not None
    ]
    return [r for r in capped if not (r.why and r is not keep)], notes


def choose_ladder(display_width: int, display_height: int, definitions: list[Definition] | None = None) -> list[Rung]:
    """The ordered rungs for a source (lowest first).

    ``definitions`` None means auto: every preset not wider (along the long edge) than the source,
    and always at least the lowest one, at the source size if the source is smaller. Definitions
    named explicitly are capped at the source size; when capping makes two rungs the same size,
    only the lower one is kept, so nothing is encoded twice.
    """
    long_src = max(display_width, display_height)
    if definitions is None:
        chosen = [d for d in PRESETS if d.width <= long_src] or [PRESETS[0]]
    else:
        chosen = list(definitions)
    rungs: list[Rung] = []
    seen: set[tuple[int, int]] = set()
    for d in chosen:
        rung = resolve(d, display_width, display_height)
        if (rung.width, rung.height) in seen:
            continue  # capped to the same size as a lower rung: it would only waste bits
        seen.add((rung.width, rung.height))
        rungs.append(rung)
    return rungs
