"""Batch submission: one CSV row per source, one package (one job per definition) per row.

The CSV has a header row; only ``source`` is required and an empty cell keeps the default:

==================  ==========================================================================
column              value (same meaning as the ``hlskit package`` flag)
==================  ==========================================================================
source              the video: a path, or ``oss://bucket/key`` with the mts engine
out                 folder receiving ``<out>/<content-id>/`` (default: ``--out``)
ladder              ``auto``, names such as ``LD,HD``, or a ladder ``.toml`` file; ``+source`` adds the source copied
watermark           ``PATH.png[:ReferPos[:Dx[:Dy[:Width]]]]``; several separated by ``|``
text_watermark      ``TEXT[:ReferPos[:Dx[:Dy[:Size]]]]``; several separated by ``|``
clip                ``START+DURATION``, e.g. ``00:01:30+45``
segment_duration    whole seconds, 1 to 60
rotate_key_every    a new data key every N segments
clear_lead          the first N segments unencrypted
key_url             base URL of the key service
content_id          the package's content id (default: file name + random suffix)
notify              webhook URLs or ``exec:`` commands (with arguments), separated by spaces or ``|``
transmux            ``yes``: one SOURCE definition, the source's video copied (no re-encode)
audio               ``FILE:LANG[:NAME]`` audio renditions to add; several separated by ``|``
subtitles           ``FILE:LANG[:NAME]`` subtitle renditions (SRT or WebVTT); several separated by ``|``
==================  ==========================================================================

Relative paths in cells (source, out, watermark images, ladder files) are taken from the CSV
file's folder, so a batch file works from any working directory. Blank lines and lines whose
first cell starts with ``#`` are skipped.

Every row is checked before anything runs; a bad row is reported with its line number and the
other rows go on. Rows run one after another (the local engine already uses every core for one
row's definitions); with ``--engine mts`` each row is submitted without waiting.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..domain.errors import HlskitError, InputError
from ..domain.formats import choose_format, parse_codecs
from ..domain.ladder import parse_ladder_option
from ..domain.options import (
    parse_clip,
    parse_positive_int,
    parse_text_watermark,
    parse_track_spec,
    parse_watermark,
)
from ..domain.plan import PackageOptions, Watermark
from ..domain.runs import Job, JobState
from ..domain.settings import Settings
from ..domain.text import unicode_encoding, unicode_text
from ..engines import capabilities
from ..notify import check_targets
from .plan import check_options
from .run import run_package, submit_package
from .transmux import SUFFIX, split_ladder

COLUMNS = (
    "source",
    "out",
    "ladder",
    "watermark",
    "text_watermark",
    "clip",
    "segment_duration",
    "rotate_key_every",
    "clear_lead",
    "format",
    "codec",
    "mp4",
    "transmux",
    "audio",
    "subtitles",
    "key_url",
    "content_id",
    "notify",
)
LIST_SEPARATOR = "|"


@dataclass
class BatchRow:
    line: int  # line of the CSV file where the row starts (1 = the header)
    source: str
    out: str
    options: PackageOptions


@dataclass
class RowError:
    line: int
    message: str
    exit_code: int = 2

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class RowOutcome:
    row: BatchRow
    state: str  # "published", "partial", "submitted" or "failed"
    content_id: str = ""
    dir: str = ""
    jobs: list[Job] = field(default_factory=list)
    error: RowError | None = None

    @property
    def ok(self) -> bool:
        return self.state in ("published", "submitted")


# --- reading ---------------------------------------------------------------------------------


def read_batch(
    path: str | Path, settings: Settings, *, out: str = "out", engine: str | None = None
) -> tuple[list[BatchRow], list[RowError]]:
    """Parse and check every row; returns the good rows and one error per bad row.

    A file that cannot be read at all (missing, no header, unknown column) is an InputError.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        text = unicode_text(data)  # spreadsheets often write a byte order mark, Windows' "Unicode" UTF-16
    except FileNotFoundError:
        raise InputError(f"batch file {path} does not exist: check the path.")
    except UnicodeDecodeError:
        raise InputError(f"batch file {path} is not {unicode_encoding(data).upper()} text: save it as CSV (UTF-8).")
    except OSError as exc:
        raise InputError(f"cannot read batch file {path} ({exc.strerror}): check its permissions.")
    if "\x00" in text:  # valid UTF-8, but no CSV holds NUL: UTF-16 saved without its byte order mark
        raise InputError(f"batch file {path} holds NUL characters, so it is not UTF-8 text: save it as CSV (UTF-8).")
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(f"batch file {path} is empty: add a header row (source,out,ladder,...) and one row per video.")
    except csv.Error as exc:
        raise InputError(f"batch file {path}, line 1: {exc}; fix the header row.")
    while header and not header[-1]:  # a spreadsheet's empty columns after the last named one
        header.pop()
    if len(header) == 1 and ";" in header[0]:  # spreadsheets in many locales separate with semicolons
        raise InputError(
            f"batch file {path} is separated by semicolons: save it as CSV with commas (source,out,ladder,...)."
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InputError(
            f"batch file {path}: unknown column {unknown[0]!r} in the header; columns are {', '.join(COLUMNS)}."
        )
    if "source" not in header:
        raise InputError(f"batch file {path} has no source column: the header must name at least source.")
    twice = next((h for h in header if header.count(h) > 1), None)
    if twice is not None:
        raise InputError(f"batch file {path} names the column {twice!r} twice in the header: keep one.")

    base = path.resolve().parent
    rows: list[BatchRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(start, f"{exc}; fix the quoting of this row."))
            break  # the csv module cannot resynchronise after a broken quote
        line = reader.line_num
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        while len(cells) > len(header) and not cells[-1].strip():  # trailing empty cells say nothing
            cells.pop()
        if len(cells) > len(header):
            errors.append(
                RowError(start, f"{len(cells)} cells for {len(header)} columns; quote cells that contain commas.")
            )
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells)}
        try:
            row = parse_row(start, values, base, settings, out=out, engine=engine)
        except HlskitError as exc:
            errors.append(RowError(start, exc.message, exc.exit_code))
            continue
        if row.options.content_id:
            # one content id names one package, whatever its folder: its keys are served under that id,
            # and packaging it again revokes the earlier run's (rows with two folders published both,
            # then left the first unplayable)
            key = row.options.content_id
            if key in seen:
                errors.append(
                    RowError(
                        start,
                        f"content id {key!r} is already used on line {seen[key]} (a content id names one "
                        "package, and its keys); give each row its own content_id.",
                    )
                )
                continue
            seen[key] = start
        rows.append(row)
    return rows, errors


def _local(value: str, base: Path) -> str:
    """A relative local path is taken from the batch file's folder; URIs stay as they are."""
    if "://" in value or Path(value).is_absolute():
        return value
    return str(base / value)


def _yes(value: str, column: str) -> bool:
    word = value.strip().lower()
    if word not in ("", "yes", "no", "true", "false", "1", "0"):
        raise InputError(f"the {column} cell must be yes or no, got {value!r}: fix that cell.")
    return word in ("yes", "true", "1")


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]


def _targets(cell: str) -> list[str]:
    """The notify cell's targets: separated by ``|``, or by spaces, an ``exec:`` command keeping the
    words after it (its arguments) up to the next URL or ``exec:``."""
    if LIST_SEPARATOR in cell:
        return _split(cell)
    out: list[str] = []
    for word in cell.split():
        if out and out[-1].lower().startswith("exec:") and not re.match(r"(?i)(https?|exec|mns):", word):
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def parse_row(
    line: int, values: dict[str, str], base: Path, settings: Settings, *, out: str = "out", engine: str | None = None
) -> BatchRow:
    """One CSV row → a BatchRow, or an HlskitError naming the bad cell."""
    get = lambda name: values.get(name, "")  # noqa: E731 (a missing column is an empty cell)
    source = get("source")
    if not source:
        raise InputError("the source cell is empty: give the video's path.")
    source = _local(source, base)
    if "://" not in source and not Path(source).is_file():
        raise InputError(
            f"source {source} does not exist: check the path (relative paths start at the batch file's folder)."
        )

    ladder, with_source = split_ladder(get("ladder") or "auto")
    if ladder.endswith(".toml"):
        ladder = _local(ladder, base)
    if not ladder.lower().startswith("per-title"):
        parse_ladder_option(ladder)  # refuse an unknown definition now, not after other rows ran
    ladder += SUFFIX if with_source else ""

    marks: list[Watermark] = [parse_watermark(w, base) for w in _split(get("watermark"))]
    marks += [parse_text_watermark(t) for t in _split(get("text_watermark"))]
    notify = _targets(get("notify"))
    check_targets(notify)  # as parse_target refuses, making nothing: --check and --dry-run write no secret

    options = PackageOptions(
        ladder=ladder,
        segment_duration=parse_positive_int(get("segment_duration"), "segment_duration")
        if get("segment_duration")
        else None,
        key_url=get("key_url") or None,
        rotate_every=parse_positive_int(get("rotate_key_every"), "rotate_key_every")
        if get("rotate_key_every")
        else None,
        clear_lead=parse_positive_int(get("clear_lead"), "clear_lead", minimum=0) if get("clear_lead") else 0,
        watermarks=marks,
        clip=parse_clip(get("clip")) if get("clip") else None,
        content_id=get("content_id") or None,
        notify=notify,
        engine=engine,
        format=get("format") or None,
        codecs=parse_codecs(get("codec").replace(LIST_SEPARATOR, ",") or "h264"),
        mp4=_yes(get("mp4"), "mp4"),
        transmux=_yes(get("transmux"), "transmux"),
        audio=[_local(spec, base) for spec in _split(get("audio"))],
        subtitles=[_local(spec, base) for spec in _split(get("subtitles"))],
    )
    for spec in options.audio:
        parse_track_spec(spec, "audio")  # FILE:LANG[:NAME] and the language, checked now
    for spec in options.subtitles:
        parse_track_spec(spec, "subtitles")
    choose_format(options.format, options.codecs)
    check_options(options, settings)  # the package command's own checks: same rules, same words
    row_out = _local(get("out"), base) if get("out") else out
    return BatchRow(line=line, source=source, out=row_out, options=options)


# --- running ---------------------------------------------------------------------------------

RowProgress = Callable[[BatchRow, float], None]


def _row_percent(seen: dict[str, float]) -> float:
    # The local engine reports "*" while one FFmpeg encodes every definition, else per definition.
    return seen["*"] if "*" in seen else sum(seen.values()) / max(1, len(seen))


def run_row(row: BatchRow, settings: Settings, engine: str, progress: RowProgress | None = None) -> RowOutcome:
    """Package one row (local: blocks until published; mts: submits and returns)."""
    seen: dict[str, float] = {}

    def report(name: str, pct: float, speed: float | None = None) -> None:
        seen[name] = pct
        if progress:
            progress(row, _row_percent(seen))

    options = replace(row.options, engine=engine)
    try:
        if capabilities(engine).detached:
            jobs = submit_package(row.source, row.out, settings, options)
            content_id = jobs[0].content_id
            refused = [j for j in jobs if j.state == JobState.FAIL]
            if refused:
                reasons = "; ".join(f"{j.definition}: {j.code} {j.message}".strip() for j in refused)
                return RowOutcome(
                    row,
                    "failed",
                    content_id,
                    row.out,
                    jobs,
                    RowError(row.line, f"MPS refused {len(refused)} of {len(jobs)} jobs ({reasons}).", 1),
                )
            return RowOutcome(row, "submitted", content_id, row.out, jobs)
        result = run_package(row.source, row.out, settings, options, progress=report)
    except HlskitError as exc:
        return RowOutcome(
            row, "failed", row.options.content_id or "", error=RowError(row.line, exc.message, exc.exit_code)
        )
    except Exception as exc:  # one broken row must not stop the batch
        return RowOutcome(
            row,
            "failed",
            row.options.content_id or "",
            error=RowError(row.line, f"unexpected {type(exc).__name__}: {exc}; report this as a bug.", 1),
        )
    if progress:
        progress(row, 100.0)
    if result.ok:
        return RowOutcome(row, "published", result.content_id, result.dir, result.jobs)
    failed = "; ".join(f"{j.definition}: {j.message or j.state.value}" for j in result.failed)
    return RowOutcome(
        row,
        "partial",
        result.content_id,
        result.dir,
        result.jobs,
        RowError(row.line, f"{failed}; the other definitions were published to {result.dir}.", 1),
    )


def run_batch(
    rows: list[BatchRow],
    settings: Settings,
    engine: str,
    *,
    progress: RowProgress | None = None,
    on_start: Callable[[BatchRow], None] | None = None,
    on_done: Callable[[RowOutcome], None] | None = None,
) -> list[RowOutcome]:
    """Run every row in order; a failing row is recorded and the next one starts."""
    outcomes = []
    for row in rows:
        if on_start:
            on_start(row)
        outcome = run_row(row, settings, engine, progress)
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    return outcomes


def exit_code(errors: list[RowError], outcomes: list[RowOutcome]) -> int:
    """0 when every row went through; else the highest code among failures (2 = bad input)."""
    codes = [e.exit_code for e in errors] + [o.error.exit_code for o in outcomes if o.error]
    return max(codes, default=0)
