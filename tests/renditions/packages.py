"""Rendition packages assembled by hand from FFmpeg-made pieces, for the slow tests: a source with
two tagged audio streams and two subtitle streams, a video-only variant (TS or fMP4), one audio
rendition per audio stream, and one WebVTT rendition per subtitle stream cut by hlskit's segmenter.
This is what the pipeline will do; here each step is spelled out with the core pieces only."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hlskit.domain.languages import display_name, language_tag
from hlskit.domain.names import segment_name
from hlskit.engines.subtitles import extract_webvtt, source_tracks
from hlskit.hls.master import RenditionInfo, characteristics
from hlskit.hls.measure import measure
from hlskit.hls.playlist import parse
from hlskit.hls.vttsegments import media_start, segment_cues, subtitle_playlist
from hlskit.hls.webvtt import parse_webvtt
from hlskit.hls.write import master_playlist
from hlskit.pipeline.master import stitch_playlists

SRT_EN = "1\n00:00:00,500 --> 00:00:01,500\n<i>Hello</i> & bye\n\n2\n00:00:01,800 --> 00:00:02,600\nAcross\n"
SRT_FR = "1\n00:00:03,000 --> 00:00:04,000\nBonjour\n"
# Fixed 2 s GOPs at 25 fps, two B-frames: the first PTS is two frames after the first DTS.
VIDEO = "-c:v libx264 -preset ultrafast -g 50 -keyint_min 50 -sc_threshold 0 -bf 2".split()


def run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


def make_source(ffmpeg: str, folder: Path, seconds: int = 6) -> Path:
    """src.mp4, 320x180: English and French audio (440 and 880 Hz), English subtitles (default)
    and French forced SDH subtitles as mov_text; and src.mkv, the same with subrip and ASS."""
    (folder / "en.srt").write_text(SRT_EN)
    (folder / "fr.srt").write_text(SRT_FR)
    mp4 = folder / "src.mp4"
    inputs = "-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440 -f lavfi -i sine=frequency=880"
    maps = "-map 0:v -map 1:a -map 2:a -map 3 -map 4 -c:a aac -c:s mov_text"
    tags = "-metadata:s:a:0 language=eng -metadata:s:a:1 language=fre -metadata:s:s:0 language=eng"
    tags += " -metadata:s:s:1 language=fre -disposition:s:0 default -disposition:s:1 forced+hearing_impaired"
    run(
        [ffmpeg, "-v", "error", "-y", *inputs.split(), "-i", str(folder / "en.srt"), "-i", str(folder / "fr.srt")]
        + ["-t", str(seconds), *maps.split(), *VIDEO, *tags.split(), "-metadata:s:a:1", "title=Version française"]
        + [str(mp4)]
    )
    run(
        [ffmpeg, "-v", "error", "-y", "-i", str(mp4), *"-map 0 -c copy -c:s:0 subrip -c:s:1 ass".split()]
        + [str(folder / "src.mkv")]
    )
    return mp4


def hls(ffmpeg: str, src: Path, out: Path, maps: list[str], codec: list[str], fmt: str = "mpegts") -> Path:
    """FFmpeg's hls muxer: 2 s segments named like hlskit's (index-00001.ts|.m4s); returns index.m3u8."""
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".ts" if fmt == "mpegts" else ".m4s"
    run(
        [ffmpeg, "-v", "error", "-y", "-i", str(src), *maps, *codec, "-f", "hls", "-hls_time", "2"]
        + ["-hls_playlist_type", "vod", "-hls_segment_type", fmt, "-start_number", "1"]
        + ["-hls_segment_filename", str(out / f"index-%05d{suffix}"), str(out / "index.m3u8")]
    )
    return out / "index.m3u8"


def build_package(ffmpeg: str, source: Path, out: Path, fmt: str = "mpegts") -> Path:
    """The package in ``out``; returns its master.m3u8."""
    video = hls(ffmpeg, source, out / "video", ["-map", "0:v"], VIDEO, fmt)
    tracks = source_tracks(source)
    figures, renditions = [], []
    for t in (t for t in tracks if t.kind == "audio"):
        lang = language_tag(t.language, source=f"audio stream 0:a:{t.index}")
        playlist = hls(
            ffmpeg, source, out / "audio" / lang, ["-map", f"0:a:{t.index}"], ["-c:a", "aac", "-b:a", "64k"], fmt
        )
        apl = parse(playlist.read_text(), str(playlist))
        sizes = [(playlist.parent / s.raw_uri).stat().st_size for s in apl.segments]
        figures.append(measure(sizes, [s.duration_us for s in apl.segments], apl.target_duration))
        name = t.title or display_name(lang)
        renditions.append(
            RenditionInfo("AUDIO", "aud", name, f"audio/{lang}/index.m3u8", lang, t.default, channels=str(t.channels))
        )
    vpl = parse(video.read_text(), str(video))
    durations = [s.duration for s in vpl.segments]
    first = (video.parent / vpl.segments[0].raw_uri).read_bytes()
    init = (video.parent / "init.mp4").read_bytes() if fmt == "fmp4" else None
    mpegts = media_start(first, init)
    for t in (t for t in tracks if t.kind == "subtitle"):
        lang = language_tag(t.language)
        folder = out / "subtitles" / (lang + ("-forced" if t.forced else ""))
        folder.mkdir(parents=True)
        cues = parse_webvtt(extract_webvtt(ffmpeg, source, t), f"{source.name} 0:s:{t.index}")
        names = [segment_name(i, ".vtt") for i in range(len(durations))]
        for name, text in zip(names, segment_cues(cues, durations, mpegts=mpegts).texts):
            (folder / name).write_text(text)
        (folder / "index.m3u8").write_text(subtitle_playlist(durations, names, target=vpl.target_duration))
        sdh = characteristics("SUBTITLES", hearing_impaired=t.hearing_impaired)
        uri = f"subtitles/{folder.name}/index.m3u8"
        renditions.append(
            RenditionInfo("SUBTITLES", "subs", display_name(lang), uri, lang, forced=t.forced, characteristics=sdh)
        )
    master = out / "master.m3u8"
    info = stitch_playlists([str(video)], str(master))  # the video variant measured, its I-frame playlist written
    (v,) = info.variants
    v.bandwidth += max(f.peak for f in figures)  # RFC 8216 §4.3.4.2: the largest audio rendition added
    v.average_bandwidth += max(f.average for f in figures)
    v.codecs += ",mp4a.40.2"
    v.audio_group, v.subtitles_group = "aud", "subs"
    master.write_text(master_playlist([v], None, renditions))
    return master
