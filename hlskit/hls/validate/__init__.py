"""Validate an HLS stream (master or media playlist, on disk, in a Storage or over HTTP).

Checks are those of RFC 8216 and Apple's HLS authoring specification that apply to VOD in TS or
fMP4; each finding names a rule of the one catalogue, :data:`hlskit.hls.validate.rules.RULES`,
which holds its severity and the spec text it enforces. Modules: ``read`` (I/O), ``media`` (media
playlists and TS segments), ``cmaf`` (fMP4 init sections and segments), ``crypto`` (decryption),
``master`` (master playlists), ``report`` (findings).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ...domain.errors import InputError
from ...storage import Storage
from ..fetch import FETCH_SECONDS, RUN_SECONDS, Budget
from ..playlist import MasterPlaylist, MediaPlaylist, parse
from ..source import KeyResolver, Keys, Source, require
from .master import check_master
from .media import check_media
from .read import EXAMPLES, Context, chain, file_key_resolver, http_key_resolver, open_location
from .report import Finding, Report, VariantReport, format_report
from .rules import MUST, RULES, SHOULD, Rule

PLAYLIST_TYPES = ("application/vnd.apple.mpegurl", "audio/mpegurl", "application/x-mpegurl")


def validate(
    location: str,
    *,
    storage: Storage | None = None,
    key_resolver: KeyResolver | None = None,
    key_token: str | None = None,
    master_text: str | None = None,
    fetch_timeout: float | None = FETCH_SECONDS,
    time_budget: float | None = RUN_SECONDS,
) -> Report:
    """Validate a master or media playlist. Raises InputError when the stream cannot be read at all.

    ``location`` is a local path or an http(s) URL, or with ``storage`` a path inside it (e.g. an
    OSS object key). With ``master_text`` that text is validated as the playlist at ``location``
    (relative URIs resolve against it) without reading ``location`` itself: a master can be
    checked before it is written. Keys: ``key_resolver`` first, then the key URI over HTTP (with
    ``Authorization: Bearer <key_token>`` when given). Keys that cannot be had leave decryption
    unchecked (a note); key URIs that are file paths are read beside a playlist that is not on HTTP.

    Bounded: each fetch ends within ``fetch_timeout`` seconds and the whole run within
    ``time_budget`` (None: no limit); a run that runs out raises InputError saying so. Bodies are
    capped (16 MiB per playlist) and only regular files are opened (hlskit.hls.fetch).
    """
    budget = Budget(fetch_timeout, time_budget)
    source, ref = open_location(location, storage, budget)
    text = master_text if master_text is not None else require(source, ref)
    pl = parse(text, ref)
    if "#EXT" not in text or (
        isinstance(pl, MediaPlaylist) and not pl.segments and any(p.rule == "M1" for p in pl.problems)
    ):
        raise InputError(f"{location} is not an HLS playlist (no #EXT tags): pass a .m3u8 master or media playlist.")
    files = None if Source.is_url(ref) else file_key_resolver(source)
    keys = Keys(chain(key_resolver, http_key_resolver(key_token, budget=budget), files))
    report = Report(location, "master" if isinstance(pl, MasterPlaylist) else "media")
    ctx = Context(source, keys, report)
    if isinstance(pl, MasterPlaylist):
        check_master(ctx, pl, ref)
    else:
        m = check_media(ctx, ref, ref.rsplit("/", 1)[-1], playlist=pl)
        if m is not None:
            report.variants.append(m.report)
            report.notes.append(
                "a media playlist alone: master-level checks (BANDWIDTH, CODECS, I-frames) were not run"
            )
    if report.kind == "master" and source.content_types:
        bad = {
            u: t
            for u, t in source.content_types.items()
            if urlsplit(u).path.endswith(".m3u8") and t.split(";")[0].strip().lower() not in PLAYLIST_TYPES
        }
        for u, t in list(bad.items())[:EXAMPLES]:
            ctx.add("F2", f"playlist served as {t or 'no Content-Type'}; use application/vnd.apple.mpegurl", u)
    if budget.out_of_time:
        raise InputError(
            f"validating {location} did not finish within its {time_budget:g} s time budget "
            f"({budget.fetches} reads): allow more with --time-budget, or check why the server is slow."
        )
    return report


__all__ = ["validate", "format_report", "Report", "Finding", "VariantReport", "Rule", "RULES", "MUST", "SHOULD"]
