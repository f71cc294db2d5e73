"""Plan a title's audio and subtitle renditions: which streams, in which language, named how.

Renditions are used whenever the source has more than one audio stream or text subtitle
streams, or ``--audio``/``--subtitles`` is given, or ``--audio-renditions`` asks for them; a plain
single-audio source keeps its audio muxed into each definition, as before. Everything a user can
get wrong (an unreadable or empty subtitle file, a cue with bad timing, an unknown language code,
an audio file shorter than the video, a text that is not in its declared encoding) is refused
here in one sentence, before anything is created.

Audio renditions form one group (``audio``) at the highest audio rate of the ladder: every
definition's variant names it, each language's audio is encoded and stored once, and a player
keeps the language it chose while it switches definitions (Apple's HLS authoring spec lists
the audio renditions of a group for every variant). Its one DEFAULT=YES is the source's default
stream (else its first), or the language of ``--default-audio``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import av

from ..domain.errors import InputError
from ..domain.ladder import Rung
from ..domain.languages import display_name, language_tag, source_language_tag
from ..domain.media import MediaInfo
from ..domain.options import TrackSpec, parse_track_spec
from ..domain.plan import Clip, PackageOptions
from ..domain.tracks import AudioRendition, SubtitleRendition, slugs
from ..engines.subtitles import SourceTrack, extract_webvtt, source_tracks
from ..hls.master import characteristics, quotable, unique_names, unquotable
from ..hls.subtitles import load_subtitles, to_webvtt_text
from ..hls.webvtt import Cue, WebVTT, format_timestamp, parse_webvtt, write_webvtt

SHORT_AUDIO_SLACK = 0.5  # seconds an added audio file may be shorter than the video (encoder padding, rounding)


@dataclass(frozen=True)
class Tracks:
    audio: list[AudioRendition]
    subtitles: list[SubtitleRendition]
    warnings: list[str] = field(default_factory=list)  # sentences for the run's warnings


def plan_tracks(
    source: str, media: MediaInfo, options: PackageOptions, rungs: list[Rung], ffmpeg: str, length: float
) -> Tracks:
    """The renditions of the title (empty lists: audio stays muxed and there are no subtitles).
    ``length`` is the seconds of video the package covers (the clip's)."""
    found = source_tracks(source) if Path(source).is_file() else []
    audio_src = [t for t in found if t.kind == "audio"]
    subs_src = [t for t in found if t.kind == "subtitle" and t.text]
    warnings = [
        f"subtitle stream {t.index} ({t.codec}{', ' + t.language if t.language else ''}) of {source} is pictures, "
        "which WebVTT cannot carry: left out (convert it to SubRip text with an OCR tool and add it with --subtitles)"
        for t in found
        if t.kind == "subtitle" and not t.text
    ]
    added_audio = [_track_spec(s, "--audio") for s in options.audio]
    added_subs = [_track_spec(s, "--subtitles") for s in options.subtitles]
    wanted = len(audio_src) > 1 or subs_src or added_audio or added_subs or options.audio_renditions
    if not wanted:
        if options.default_audio:
            raise InputError(
                "--default-audio picks among audio renditions, but this source has one audio stream and no "
                "--audio: drop it, or add --audio-renditions."
            )
        return Tracks([], [], warnings)
    kbps = max((r.definition.audio_kbps for r in rungs), default=128)
    audio = _audio(source, audio_src, added_audio, options, kbps, length)
    subtitles = _subtitles(source, subs_src, added_subs, options, ffmpeg, length, warnings)
    return Tracks(audio, subtitles, warnings)


def _track_spec(spec: str, option: str) -> TrackSpec:
    """``--audio``/``--subtitles`` read, its NAME refused where a playlist could not carry it."""
    track = parse_track_spec(spec, option)
    if track.name and unquotable(track.name):
        raise InputError(
            f"{option} {spec!r}: its NAME holds a double quote, a line break or another control character, "
            "which a playlist's NAME cannot carry (RFC 8216 §4.2): write the name without them."
        )
    return track


def _title(track: SourceTrack) -> str | None:
    """A source stream's title as a NAME (its double quotes and control characters replaced)."""
    return quotable(track.title or "") or None


def _source_language(track: SourceTrack, source: str) -> str | None:
    """A source stream's language (languages.source_language_tag); one that is no tag is left out."""
    return source_language_tag(track.language, source=f"stream {track.kind} {track.index} of {source}")


def _audio(
    source: str,
    streams: list[SourceTrack],
    added: list[TrackSpec],
    options: PackageOptions,
    kbps: int,
    length: float,
) -> list[AudioRendition]:
    entries: list[tuple[str, int, str | None, str | None, str | None]] = []  # input, stream, lang, title, chars
    for t in streams:
        chars = characteristics("AUDIO", visual_impaired=t.visual_impaired)
        entries.append((source, t.index, _source_language(t, source), _title(t), chars))
    for spec in added:
        _check_added_audio(spec, length, options.clip)
        entries.append((str(Path(spec.path).resolve()), 0, spec.language, spec.name, None))
    if not entries:
        raise InputError(
            f"{source} has no audio stream to make renditions of: add --audio FILE:LANG, or drop --audio-renditions."
        )
    names = unique_names([title or _default_name(lang, i) for i, (_, _, lang, title, _) in enumerate(entries)])
    comments = [t.comment for t in streams] + [False] * len(added)
    default = _default_index(streams, [e[2] for e in entries], comments, options.default_audio)
    return [
        AudioRendition(
            slug,
            input_,
            stream,
            lang,
            name,
            default=i == default,
            characteristics=chars,
            kbps=kbps,
            commentary=comments[i],
        )
        for i, ((input_, stream, lang, _, chars), slug, name) in enumerate(
            zip(entries, slugs([e[2] for e in entries]), names)
        )
    ]


def _default_name(language: str | None, i: int) -> str:
    return display_name(language) if language else f"Audio {i + 1}"


def _default_index(
    streams: list[SourceTrack], languages: list[str | None], comments: list[bool], asked: str | None
) -> int:
    """DEFAULT=YES: among the renditions (of the ``--default-audio`` language, when asked), the one the
    source flags default, else the first that is not a commentary, else the first."""
    candidates = list(range(len(languages)))
    if asked:
        tag = language_tag(asked, source="--default-audio")
        candidates = [i for i, lang in enumerate(languages) if lang == tag]
        if not candidates:
            have = ", ".join(sorted({lang or "und" for lang in languages}))
            raise InputError(f"--default-audio {asked}: no audio rendition is in that language (they are {have}).")
    flagged = [i for i in candidates if i < len(streams) and streams[i].default]
    plain = [i for i in candidates if not comments[i]]
    return (flagged or plain or candidates)[0]


def _check_added_audio(spec: TrackSpec, length: float, clip: Clip | None) -> None:
    """An --audio file must be readable, hold audio, and last as long as the video it accompanies."""
    path = Path(spec.path)
    if not path.is_file():
        raise InputError(f"--audio file {spec.path} does not exist: check the path.")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise InputError(f"--audio file {spec.path} has no audio stream: give an audio file.")
            seconds = float(container.duration / av.time_base) if container.duration else 0.0
    except av.FFmpegError as exc:
        raise InputError(f"--audio file {spec.path} is not a readable media file ({exc.strerror or exc}).") from None
    available = seconds - (clip.seek if clip else 0.0)
    if available + SHORT_AUDIO_SLACK < length:
        raise InputError(
            f"--audio file {spec.path} lasts {seconds:.2f} s, shorter than the {length:.2f} s of video it would "
            "accompany: give a track as long as the video (pad it with silence if it ends early)."
        )


def _subtitles(
    source: str,
    streams: list[SourceTrack],
    added: list[TrackSpec],
    options: PackageOptions,
    ffmpeg: str,
    length: float,
    warnings: list[str],
) -> list[SubtitleRendition]:
    clip = options.clip
    tracks: list[tuple[WebVTT, str | None, str | None, bool, bool, bool]] = []  # doc, lang, title, default, forced, sdh
    for t in streams:
        where = f"subtitle stream {t.index} of {source}"
        instant: list[int] = []  # the source's own track: a cue that ends as it starts must not cost the title
        doc = parse_webvtt(extract_webvtt(ffmpeg, source, t), where, instant)
        if instant:
            first = format_timestamp(instant[0])
            warnings.append(f"{where}: {len(instant)} cue(s) ending as they start left out (the first at {first})")
        if not doc.cues:
            warnings.append(f"{where} holds no cue: left out")
            continue
        if t.codec != "webvtt":  # FFmpeg writes other codecs' text as it is, and only <i>, <b>, <u> as tags
            ass = t.codec in ("ass", "ssa")
            doc.cues = [dataclasses.replace(c, text=_as_cue_text(c.text, ass)) for c in doc.cues]
            doc.cues = [c for c in doc.cues if c.text.strip()]  # an ASS drawing alone: nothing to read
        tracks.append((doc, _source_language(t, source), _title(t), t.default, t.forced, t.hearing_impaired))
    for spec in added:
        path = Path(spec.path)
        if not path.is_file():
            raise InputError(f"--subtitles file {spec.path} does not exist: check the path.")
        doc = load_subtitles(path, options.subtitle_encoding)
        if clip is None:  # a clip cuts the film's subtitles on purpose
            warnings += _cues_past_the_end(doc.cues, spec.path, length)
        tracks.append((doc, spec.language, spec.name, False, spec.forced, spec.sdh))
    names = unique_names(
        [title or _subtitle_name(lang, forced, i) for i, (_, lang, title, _, forced, _) in enumerate(tracks)]
    )
    defaults = [i for i, track in enumerate(tracks) if track[3]][:1]  # at most one DEFAULT=YES (RFC 8216 §4.3.4.1.1)
    out = []
    for i, ((doc, lang, _, _, forced, sdh), slug, name) in enumerate(zip(tracks, slugs([t[1] for t in tracks]), names)):
        out.append(
            SubtitleRendition(
                slug,
                lang,
                name,
                write_webvtt(_shift(doc.cues, clip), styles=doc.styles, regions=doc.regions),
                default=i in defaults,
                forced=forced,
                characteristics=characteristics("SUBTITLES", hearing_impaired=sdh),
            )
        )
    return out


def _as_cue_text(text: str, ass: bool = False) -> str:
    """Text FFmpeg converted from SubRip, ASS or mov_text as WebVTT cue text: its <i>, <b> and <u>
    kept, any other '<' and '&' escaped (a literal "5 < 6" would open a tag and hide the text). From
    ASS, FFmpeg keeps two things as words: the hard space ``\\h`` (a no-break space here) and a drawing's
    commands (``{\\p1}m 0 0 l 100 0 …``; a line of nothing else is dropped)."""
    lines = text.split("\n")
    if ass:
        lines = [ln.replace("\\h", "\u00a0").strip(" ") for ln in lines if not _ASS_DRAWING.fullmatch(ln)]
    return "\n".join(to_webvtt_text(line) for line in lines)


# An ASS vector drawing (Advanced SubStation Alpha, "Drawing commands"): m/n/l/b/s/p/c and coordinates
_ASS_DRAWING = re.compile(r"\s*m\s+-?\d+(?:\.\d+)?\s+-?\d+(?:\.\d+)?(?:\s+(?:[mnlbspc]|-?\d+(?:\.\d+)?))*\s*")


def _cues_past_the_end(cues: list[Cue], path: str, length: float) -> list[str]:
    """A warning when some cues of an added file start after the video ends (they are left out);
    InputError when all do: the file is another video's, or its times are offset."""
    end = round(length * 1000)
    late = [c for c in cues if c.start >= end]
    if late and len(late) == len(cues):
        raise InputError(
            f"--subtitles file {path}: none of its {len(cues)} cues starts before the video ends at "
            f"{format_timestamp(end)} (the first starts at {format_timestamp(min(c.start for c in cues))}): "
            "give this video's subtitles, or shift their times."
        )
    if late:
        return [
            f"--subtitles file {path}: {len(late)} of its {len(cues)} cues start after the video ends "
            f"({format_timestamp(end)}) and are left out"
        ]
    return []


def _subtitle_name(language: str | None, forced: bool, i: int) -> str:
    base = display_name(language) if language else f"Subtitles {i + 1}"
    return f"{base} (forced)" if forced else base


def _shift(cues: list[Cue], clip: Clip | None) -> list[Cue]:
    """Cues in the package's time: a --clip starts the package at its seek; cues before it go."""
    if clip is None:
        return list(cues)
    start = round(clip.seek * 1000)
    end = None if clip.duration is None else start + round(clip.duration * 1000)
    out = []
    for c in cues:
        if c.end <= start or (end is not None and c.start >= end):
            continue
        out.append(Cue(max(0, c.start - start), c.end - start, c.text, c.identifier, c.settings, c.line))
    return out
