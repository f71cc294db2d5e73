"""`hlskit package` on a title with several audio languages and subtitles (issue 21), end to end:
real FFmpeg encodes, the real app on 127.0.0.1, Debian's own FFmpeg as an independent client.

The source has English and French audio (440 and 880 Hz) and two subtitle streams (mov_text:
English, default; French, forced SDH); --audio adds a commentary (660 Hz) and --subtitles two
files (German SRT, Spanish WebVTT). Each language's sound is told apart by its tone.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from hlskit.domain.plan import PackageOptions
from hlskit.domain.settings import Settings
from hlskit.hls.crypto import decrypt_segment
from hlskit.hls.model import MasterPlaylist, MediaPlaylist
from hlskit.hls.playlist import parse
from hlskit.hls.validate import validate
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from hlskit.stores.keys import KeyStore
from tests.renditions.packages import make_source
from tests.server.conftest import LiveServer, start_server
from tests.tiers import debian_ffmpeg, debian_ffprobe

pytestmark = pytest.mark.slow
DE_SRT = "1\n00:00:00,400 --> 00:00:01,600\nGuten Tag\n\n2\n00:00:03,200 --> 00:00:04,400\nAuf Wiedersehen\n"
ES_VTT = "WEBVTT\n\n00:00:02.100 --> 00:00:02.900\nHola\n"


@dataclass
class Title:
    server: LiveServer
    dir: Path
    settings: Settings
    token: str

    def url(self, path: str = "master.m3u8") -> str:
        return f"{self.server.url}/media/{self.dir.name}/{path}?token={self.token}"


def _package(ffmpeg, base: Path, fmt: str) -> Title:
    src = make_source(ffmpeg, base)
    commentary = base / "commentary.m4a"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=660", "-t", "8", str(commentary)],
        check=True,
    )
    (base / "de.srt").write_text(DE_SRT)
    (base / "es.vtt").write_text(ES_VTT)
    out = base / "out"
    out.mkdir()
    settings = Settings(home=base / "home", media_root=out, x264_preset="ultrafast")
    server = start_server(settings)
    options = PackageOptions(
        ladder="LD",
        segment_duration=2,
        content_id=f"title-{fmt}",
        format=fmt,
        rotate_every=2,
        key_url=server.url + "/keys",
        audio=[f"{commentary}:en:Commentary"],
        subtitles=[f"{base / 'de.srt'}:de", f"{base / 'es.vtt'}:es:Español"],
    )
    result = run_package(str(src), str(out), settings, options)
    assert result.ok, [(j.definition, j.message) for j in result.failed]
    return Title(
        server, Path(result.dir), settings, make_token(token_secret(settings.token_config()), options.content_id, 600)
    )


@pytest.fixture(scope="module", params=["ts", "fmp4"])
def title(request, ffmpeg, tmp_path_factory):
    made = _package(ffmpeg, tmp_path_factory.mktemp(f"title-{request.param}"), request.param)
    yield made
    made.server.stop()


def test_master_names_every_language_once_with_one_default_per_group(title):
    master = parse((title.dir / "master.m3u8").read_text(), str(title.dir / "master.m3u8"))
    assert isinstance(master, MasterPlaylist)
    audio = [(r.language, r.name, r.default, r.autoselect) for r in master.media if r.type == "AUDIO"]
    assert audio == [("en", "English", True, True), ("fr", "Version française", False, True)] + [
        ("en", "Commentary", False, False)  # a second English track is chosen by hand, not by language
    ]
    subs = [(r.language, r.default, r.forced, r.characteristics) for r in master.media if r.type == "SUBTITLES"]
    assert subs == [
        ("en", True, False, None),
        (
            "fr",
            False,
            True,
            "public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound",
        ),
        ("de", False, False, None),
        ("es", False, False, None),
    ]
    [variant] = master.variants
    assert variant.attrs["AUDIO"] == "audio" and variant.attrs["SUBTITLES"] == "subs"
    assert variant.attrs["CODECS"].split(",")[1] == "mp4a.40.2"  # the audio group's codec is listed
    manifest = json.loads((title.dir / "hlskit.json").read_text())
    folders = sorted(r["type"] + ":" + r["slug"] for r in manifest["renditions"])
    assert folders == [
        "AUDIO:en",
        "AUDIO:en-2",
        "AUDIO:fr",
        "SUBTITLES:de",
        "SUBTITLES:en",
        "SUBTITLES:es",
        "SUBTITLES:fr",
    ]
    assert all(r["state"] == "TranscodeSuccess" and r["segments"] >= 3 for r in manifest["renditions"])


def test_the_package_validates_and_bandwidth_counts_the_largest_audio(title):
    keys = KeyStore.open(title.settings.store_config()).resolver()
    report = validate(str(title.dir / "master.m3u8"), key_resolver=keys)
    assert report.must == [], [f"{f.rule}: {f.message}" for f in report.must]
    master = json.loads((title.dir / "hlskit.json").read_text())["master"]
    [variant] = master["variants"]
    loudest = max(r["bandwidth"] for r in master["renditions"] if r["type"] == "AUDIO")
    video = report.variants[0]
    assert variant["bandwidth"] >= loudest and variant["bandwidth"] == video.declared_bandwidth


def test_every_rendition_ends_with_the_video(title):
    # the commentary file is 8 s beside 6 s of video: it ran on for 2 s past the picture
    def seconds(path: Path) -> float:
        playlist = parse(path.read_text(), str(path))
        assert isinstance(playlist, MediaPlaylist)
        return sum(s.duration for s in playlist.segments)

    video = seconds(title.dir / "LD" / "index.m3u8")
    audio = {p.parent.name: seconds(p) for p in (title.dir / "audio").glob("*/index.m3u8")}
    assert len(audio) == 3 and all(abs(a - video) < 0.1 for a in audio.values()), (video, audio)


def test_definitions_carry_no_audio_and_audio_is_encrypted_like_video(title):
    keys = KeyStore.open(title.settings.store_config()).resolver()
    video = parse((title.dir / "LD" / "index.m3u8").read_text(), str(title.dir / "LD" / "index.m3u8"))
    audio = parse((title.dir / "audio" / "fr" / "index.m3u8").read_text(), str(title.dir / "audio/fr/index.m3u8"))
    assert isinstance(video, MediaPlaylist) and isinstance(audio, MediaPlaylist)
    # Rotation every 2 segments: the audio segment that plays beside video segment i has its key.
    pairs = list(zip(video.segments, audio.segments))
    assert [v.key.uri for v, _ in pairs] == [a.key.uri for _, a in pairs] and len({v.key.uri for v, _ in pairs}) >= 2
    first = video.segments[0]
    data = decrypt_segment((title.dir / "LD" / first.raw_uri).read_bytes(), keys(first.key.uri), first.iv)
    init = first.map
    if init is not None:  # fMP4: the init section (decrypted when its EXT-X-KEY says so) before the fragment
        raw = (title.dir / "LD" / "init.mp4").read_bytes()
        data = (decrypt_segment(raw, keys(init.key.uri), init.key.iv) if init.key else raw) + data
    probe = subprocess.run(
        [debian_ffprobe(), "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    assert set(probe.stdout.decode().split()) == {"video"}  # (ffprobe lists a TS program's streams twice)


def _tone(title: Title, index: int) -> int:
    """Zero crossings per second of audio rendition ``index`` decoded by Debian's FFmpeg via the master."""
    pcm = subprocess.run(
        [debian_ffmpeg(), "-v", "error", "-i", title.url(), "-map", f"0:a:{index}", "-t", "2"]
        + ["-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
        capture_output=True,
        timeout=120,
        check=True,
    ).stdout
    samples = memoryview(pcm).cast("h")
    return sum(1 for a, b in zip(samples, samples[1:]) if a < 0 <= b) // 2


def test_debian_ffmpeg_lists_the_languages_and_each_carries_its_own_sound(title):
    listed = subprocess.run(
        [debian_ffprobe(), "-v", "error", "-show_streams", "-of", "json", title.url()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    streams = json.loads(listed)["streams"]
    audio = [s.get("tags", {}).get("language") for s in streams if s["codec_type"] == "audio"]
    assert audio == ["en", "fr", "en"]
    tones = [_tone(title, i) for i in range(3)]
    assert [round(t / 10) * 10 for t in tones] == [440, 880, 660], tones


def test_subtitle_segments_line_up_with_the_video(title):
    video = parse((title.dir / "LD" / "index.m3u8").read_text(), "LD/index.m3u8")
    subs = parse((title.dir / "subtitles" / "de" / "index.m3u8").read_text(), "subtitles/de/index.m3u8")
    assert isinstance(video, MediaPlaylist) and isinstance(subs, MediaPlaylist)
    assert [s.duration for s in subs.segments] == [s.duration for s in video.segments]
    first = (title.dir / "subtitles" / "de" / subs.segments[0].raw_uri).read_text()
    assert first.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:") and "Guten Tag" in first
    third = (title.dir / "subtitles" / "de" / subs.segments[1].raw_uri).read_text()  # 2-4 s
    assert "Auf Wiedersehen" in third and "Guten Tag" not in third
    assert all(not s.encrypted for s in subs.segments)  # subtitles are clear
