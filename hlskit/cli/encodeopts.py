"""Encoder flags of ``hlskit package``: --preset, --rate-control, --crf.

They override the settings x264_preset, rate_control and crf (see samples/hlskit.toml) and reach
FFmpeg's libx264 options in :func:`hlskit.engines.local.build_encode`; the engine checks the ranges.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..domain.errors import InputError
from ..engines.encoders import RATE_CONTROLS, X264_PRESETS

F = TypeVar("F", bound=Callable[..., Any])  # a command function, before click wraps it


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None:
        ctx.meta[f"hlskit.{param.name}"] = value


def encoder_options(f: F) -> F:
    """Adds --preset, --rate-control and --crf; read them back with :func:`encoder_overrides`."""
    f = click.option("--crf", type=int, default=None, expose_value=False, callback=_store, metavar="N",
                     help="x264 CRF, 0-51, lower is better (default 23); implies --rate-control capped-crf.")(f)  # fmt: skip
    f = click.option("--rate-control", default=None, expose_value=False, callback=_store,
                     metavar="|".join(RATE_CONTROLS),
                     help="abr: each definition's rate (-b:v); capped-crf: constant quality (-crf) under the "
                     "same 1.5x -maxrate cap (default: rate_control setting, abr).")(f)  # fmt: skip
    f = click.option("--preset", default=None, expose_value=False, callback=_store, metavar="NAME",
                     help=f"x264 preset: {', '.join(X264_PRESETS)} (default: x264_preset setting, veryfast).")(f)  # fmt: skip
    return f


def encoder_overrides(ctx: click.Context) -> dict[str, Any]:
    """Settings overrides from the flags given (None values are ignored by load_settings)."""
    meta = ctx.meta
    rate_control, crf = meta.get("hlskit.rate_control"), meta.get("hlskit.crf")
    if crf is not None and rate_control == "abr":
        raise InputError("--crf sets constant quality but --rate-control abr aims at a rate: pass only one.")
    if crf is not None and rate_control is None:
        rate_control = "capped-crf"  # --crf alone means constant quality
    return {"x264_preset": meta.get("hlskit.preset"), "rate_control": rate_control, "crf": crf}


# --- --format, --codec, --mp4 ----------------------------------------------------------------


def format_options(f: F) -> F:
    """Adds --format, --codec and --mp4; read them back with :func:`format_choices`."""
    f = click.option("--mp4", is_flag=True, default=None, expose_value=False, callback=_store,
                     help="Also write a progressive, fast-start MP4 per definition (downloads/<definition>.mp4, "
                     "clear), each a job of its own.")(f)  # fmt: skip
    f = click.option("--codec", default=None, expose_value=False, callback=_store, metavar="h264[,hevc][,av1]",
                     help="Video codecs, one variant per definition each; HEVC and AV1 need fMP4 (default h264).")(f)  # fmt: skip
    f = click.option("--format", "segment_format", default=None, expose_value=False, callback=_store,
                     metavar="ts|fmp4",
                     help="Segment format: ts (MPEG-TS) or fmp4 (CMAF fragmented MP4 with EXT-X-MAP). Default: "
                     "ts for H.264 alone, fmp4 when HEVC or AV1 is asked for.")(f)  # fmt: skip
    return f


def format_choices(ctx: click.Context) -> dict[str, Any]:
    """PackageOptions fields from the flags given (format, codecs, mp4); the planner checks them."""
    meta = ctx.meta
    return {
        "format": meta.get("hlskit.segment_format"),
        "codecs": meta.get("hlskit.codec") or "h264",
        "mp4": bool(meta.get("hlskit.mp4")),
    }


def transmux_option(f: F) -> F:
    """Adds --transmux; read it back with :func:`track_choices`."""
    return click.option("--transmux", is_flag=True, default=None, expose_value=False, callback=_store,
                        help="Package the source's own video without re-encoding (one SOURCE definition, cut at "
                        "its keyframes, MPS M3U8-COPY); --ladder auto+source adds it above an encoded ladder.")(f)  # fmt: skip


def track_options(f: F) -> F:
    """Adds --audio, --subtitles, --subtitle-encoding, --default-audio, --audio-renditions; read them
    back with :func:`track_choices`."""
    f = click.option("--audio-renditions", is_flag=True, default=None, expose_value=False, callback=_store,
                     help="Put even a single audio track in an audio rendition (EXT-X-MEDIA) instead of "
                     "muxing it into every definition.")(f)  # fmt: skip
    f = click.option("--default-audio", default=None, expose_value=False, callback=_store, metavar="LANG",
                     help="The audio language players start with (default: the source's default stream).")(f)  # fmt: skip
    f = click.option("--subtitle-encoding", default=None, expose_value=False, callback=_store, metavar="NAME",
                     help="Text encoding of the --subtitles files, e.g. cp1252 (default UTF-8; a BOM is honoured).")(f)  # fmt: skip
    f = click.option("--subtitles", multiple=True, expose_value=False, callback=_store, metavar="FILE:LANG[:NAME]",
                     help="An SRT or WebVTT file as a subtitle rendition, e.g. fr.srt:fr:Français; "
                     "LANG+forced marks forced subtitles, LANG+sdh subtitles for the deaf (repeatable).")(f)  # fmt: skip
    f = click.option("--audio", multiple=True, expose_value=False, callback=_store, metavar="FILE:LANG[:NAME]",
                     help="An audio file as one more audio rendition, e.g. commentary.m4a:en:Commentary "
                     "(repeatable; it must last as long as the video).")(f)  # fmt: skip
    return f


def track_choices(ctx: click.Context) -> dict[str, Any]:
    """PackageOptions fields for the title's audio and subtitle renditions; the planner checks them."""
    meta = ctx.meta
    return {
        "audio": list(meta.get("hlskit.audio") or ()),
        "subtitles": list(meta.get("hlskit.subtitles") or ()),
        "subtitle_encoding": meta.get("hlskit.subtitle_encoding"),
        "default_audio": meta.get("hlskit.default_audio"),
        "audio_renditions": bool(meta.get("hlskit.audio_renditions")),
        "transmux": bool(meta.get("hlskit.transmux")),
    }


# --- --dry-run ---------------------------------------------------------------------------------


def dry_run_option(f: F) -> F:
    """Adds --dry-run; read it back with :func:`is_dry_run`."""
    return click.option("--dry-run", is_flag=True, default=None, expose_value=False, callback=_store,
                        help="Print the plan (ladder, rates, segments, key URL, outputs, the FFmpeg command) "
                        "and touch nothing: no folder, run, job or key.")(f)  # fmt: skip


def is_dry_run(ctx: click.Context) -> bool:
    return bool(ctx.meta.get("hlskit.dry_run"))


def print_plan(plan: dict[str, Any], as_json: bool) -> None:
    """The dry-run plan: JSON, or lines a person reads (the FFmpeg command shell-quoted, to paste)."""
    if as_json:
        click.echo(json.dumps(plan, indent=2))
        return
    click.echo("dry run: nothing was written, no run, job or key was made")
    click.echo(f"content id: {plan['content_id']}  engine: {plan['engine']}  source: {plan['source']}")
    click.echo(f"segments: {plan['format']}, {plan['segment_duration']} s  duration: {plan['duration']:.2f} s")
    rc = plan["rate_control"] + (f" crf {plan['crf']}" if plan["crf"] is not None else "")
    click.echo(f"x264: preset {plan['x264_preset']}, {rc}")
    click.echo(f"encryption: AES-128, keys at {plan['key_url']}" if plan["encrypt"] else "encryption: none")
    for r in plan["ladder"]:
        audio = f" + {r['audio_kbps']} kb/s audio" if r["audio_kbps"] else ""
        video = "copied, not re-encoded" if r["transmux"] else f"{r['video_kbps']} kb/s video (max {r['maxrate_kbps']})"
        why = f"  [{r['why']}]" if r["why"] else ""
        click.echo(f"{r['name']:>4}  {r['width']}x{r['height']}  {r['codec']} {video}{audio}{why}")
    for note in plan["notes"]:
        click.echo(f"note: {note}")
    for line in per_title_lines(plan.get("per_title")):
        click.echo(line)
    for r in plan["renditions"]:
        flags = [f for f, on in (("default", r["default"]), ("forced", r.get("forced"))) if on]
        what = f"{r['kbps']} kb/s from {r['from']}" if r["type"] == "AUDIO" else "WebVTT"
        click.echo(
            f"{r['type'].lower():>9}  {r['folder']}  {r['language'] or 'und'} {r['name']!r} {what}"
            + (f" ({', '.join(flags)})" if flags else "")
        )
    for path in plan["outputs"]:
        click.echo(f"output: {path}")
    if plan["ffmpeg"]:
        click.echo("ffmpeg: " + shlex.join(plan["ffmpeg"]))


def per_title_lines(analysis: dict[str, Any] | None) -> list[str]:
    """What the per-title analysis chose for each definition (size, CRF and cap, or why not), for a person."""
    if not analysis:
        return []
    out = [f"per-title analysis ({analysis['seconds']:.1f} s):"]
    for c in analysis["rungs"]:
        if "fixed_width" not in c:  # a package made before sizes were chosen (per-title v2)
            out.append(f"{c['definition']:>4}  CRF {c['crf']} under {c['chosen_kbps']} kb/s, kept: {c['kept']}")
            continue
        size = f"{c['width']}x{c['height']}"
        if (c["width"], c["height"]) != (c["fixed_width"], c["fixed_height"]):
            size += f" (fixed {c['fixed_width']}x{c['fixed_height']})"
        how = (
            f"CRF {c['crf']} under {c['chosen_kbps']} kb/s" if c["crf"] is not None else f"ABR {c['chosen_kbps']} kb/s"
        )
        # a dropped definition's reason says so itself ("dropped: ...")
        out.append(f"{c['definition']:>4}  " + (f"{size}, {how}: {c['why']}" if c["kept"] else c["why"]))
    return out
