"""Audio renditions and subtitles in real players (issue 21): packages made here by `hlskit package`
(real FFmpeg) from a source with English and French audio (440/880 Hz) and two subtitle streams,
plus --audio (an English commentary) and --subtitles (a German SRT), served by the real app on
127.0.0.1 and played in headless Chromium by the hlskit player (hls.js) and by stock Shaka Player.

The TS title has two definitions (a two-rung ladder file, both small) and lasts long enough for
abr-check; the fMP4 title is 6 s, for subtitle timing in the other segment format; the SOURCE title
is the fMP4 title's source transmuxed (--transmux: its own video copied, one SOURCE definition).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from hlskit.domain.plan import PackageOptions
from hlskit.domain.settings import Settings
from hlskit.keys.tokens import make_token, token_secret
from hlskit.pipeline import run_package
from tests.renditions.packages import make_source
from tests.server.conftest import LiveServer, start_server

from .test_player_teardown import SNAPSHOT, WATCH

pytestmark = [pytest.mark.slow, pytest.mark.browser]

FRAME = 0.04  # 25 fps
# Two definitions no larger than the 320x180 source (a named ladder drops rungs wider than it).
LADDER = """
[[definition]]
name = "LD"
width = 192
video_kbps = 120
audio_kbps = 64

[[definition]]
name = "SD"
width = 320
video_kbps = 400
audio_kbps = 64
"""
DE_SRT = "1\n00:00:01,000 --> 00:00:02,500\nGuten Tag\n"
DE_CUE = ("Guten Tag", 1.0, 2.5)  # the SRT's cue, source time
AUDIO = [("en", "English"), ("fr", "Version française"), ("en", "Commentary")]
SUBTITLES = [("en", "English", False), ("fr", "Français (forced)", True), ("de", "Deutsch", False)]
STATE = "() => hlskitPlayer.state()"


@dataclass
class Title:
    base: str
    content_id: str
    token: str
    dir: Path

    def play_url(self, **query: str) -> str:
        return f"{self.base}/play/{self.content_id}?{urlencode({'token': self.token, **query})}"

    def master_url(self) -> str:
        return f"{self.base}/media/{self.content_id}/master.m3u8?{urlencode({'token': self.token})}"


@dataclass
class Titles:
    server: LiveServer
    ts: Title
    fmp4: Title
    source: Title


@pytest.fixture(scope="module")
def titles(ffmpeg, tmp_path_factory) -> Titles:
    base = tmp_path_factory.mktemp("renditions-player")
    out = base / "out"
    out.mkdir()
    # Shaka's page is on another origin: its key requests need CORS (token in the URL, passed on).
    settings = Settings(home=base / "home", media_root=out, x264_preset="ultrafast").replace(allowed_origins="self,*")
    server = start_server(settings)
    secret = token_secret(settings.token_config())
    (base / "ladder.toml").write_text(LADDER)
    (base / "de.srt").write_text(DE_SRT)
    made = {}
    for fmt, seconds, ladder in (("ts", 30, str(base / "ladder.toml")), ("fmp4", 6, "SD")):
        folder = base / fmt
        folder.mkdir()
        source = make_source(ffmpeg, folder, seconds=seconds)
        commentary = folder / "commentary.m4a"
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=660", "-t", str(seconds)]
            + [str(commentary)],
            check=True,
        )
        options = PackageOptions(
            ladder=ladder,
            segment_duration=2,
            content_id=f"multi-{fmt}",
            format=fmt,
            key_url="/keys",
            audio=[f"{commentary}:en:Commentary"],
            subtitles=[f"{base / 'de.srt'}:de"],
        )
        result = run_package(str(source), str(out), settings, options)
        assert result.ok, [(j.definition, j.message) for j in result.failed]
        token = make_token(secret, options.content_id, 3600)
        made[fmt] = Title(server.url, options.content_id, token, Path(result.dir))
    copy = PackageOptions(transmux=True, segment_duration=2, content_id="multi-source", key_url="/keys")
    result = run_package(str(source), str(out), settings, copy)  # the 6 s source, with its two languages
    assert result.ok, [(j.definition, j.message) for j in result.failed]
    made["source"] = Title(server.url, copy.content_id, make_token(secret, copy.content_id, 3600), Path(result.dir))
    yield Titles(server, made["ts"], made["fmp4"], made["source"])
    server.stop()


def wait_state(page, condition: str, timeout: float = 30) -> dict:
    """Wait until ``condition`` (JS over ``s``, the player's state) holds; fail with the state."""
    try:
        page.wait_for_function(
            f"() => {{ const s = window.hlskitPlayer && hlskitPlayer.state(); return s && ({condition}); }}",
            timeout=timeout * 1000,
            polling=200,
        )
    except Exception:
        s = page.evaluate(STATE)
        brief = {k: s.get(k) for k in ("currentTime", "audioTrack", "subtitleTrack", "errors", "renditionSwitches")}
        pytest.fail(f"player never reached `{condition}`: {brief}; console: {page.console_messages[-8:]}")
    return page.evaluate(STATE)


def audio_fragments(state: dict) -> list[str]:
    """The audio rendition each loaded audio fragment came from (audio/<folder>/...)."""
    return [re.search(r"/audio/([^/]+)/", f["url"]).group(1) for f in state["fragments"] if f["type"] == "audio"]


def fatal(state: dict) -> list[dict]:
    return [e for e in state["errors"] if e["fatal"] or e["blocking"]]


def test_player_lists_renditions_by_language_and_switching_keeps_playing(page, titles):
    title = titles.ts
    page.goto(title.play_url())
    s = wait_state(page, "s.currentTime > 1 && s.audio !== null")
    assert [(t["lang"], t["name"]) for t in s["audioTracks"]] == AUDIO
    assert [(t["lang"], t["name"], t["forced"]) for t in s["subtitleTracks"]] == SUBTITLES
    # The master's defaults: English audio, English subtitles (the source's default stream).
    assert (s["audio"], s["subtitles"]["lang"]) == ({"lang": "en", "name": "English"}, "en")
    assert set(audio_fragments(s)) == {"en"}
    assert [lv["name"] for lv in s["levels"]] == ["LD", "SD"]
    audio_menu = page.locator("#audio-buttons button")
    assert audio_menu.all_inner_texts() == ["English (en)", "Version française (fr)", "Commentary (en)"]
    assert page.locator("#subtitles-buttons button").all_inner_texts() == [
        "Off",
        "English (en)",
        "Français (forced) (fr)",
        "Deutsch (de)",
    ]
    assert page.locator('#audio-buttons button[aria-pressed="true"]').inner_text() == "English (en)"

    page.locator("#audio-buttons button", has_text="Version française").click()
    s = wait_state(page, "s.audioTrack === 1")
    switched_at = s["currentTime"]
    s = wait_state(page, f"s.currentTime > {switched_at + 2}")  # it keeps playing, in French
    assert not fatal(s), fatal(s)
    assert s["audio"] == {"lang": "fr", "name": "Version française"}
    assert page.evaluate("hlskitHls.audioTrack") == 1
    last = s["renditionSwitches"][-1]
    assert (last["kind"], last["from"], last["to"], last["lang"]) == ("audio", 0, 1, "fr")
    # After the switch, audio fragments come from audio/fr/ only; before it, from audio/en/ only.
    asked = next(e["at"] for e in s["events"] if e["name"] == "renditionRequest")
    after = [f for f in s["fragments"] if f["type"] == "audio" and f["at"] > asked]
    assert after and {re.search(r"/audio/([^/]+)/", f["url"]).group(1) for f in after} == {"fr"}
    assert "en-2" not in audio_fragments(s)
    assert page.locator('[data-stat="audio"]').inner_text() == "Version française (fr)"
    assert page.locator('#audio-buttons button[aria-pressed="true"]').inner_text() == "Version française (fr)"
    # The video kept its definitions and the audio its group: nothing stalled for good.
    assert s["stalls"] == [] or all(st["end"] is not None for st in s["stalls"])


def test_page_url_starts_in_french_with_subtitles_off(page, titles):
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(titles.ts.play_url(audio="fr", subtitles="off"))
    s = wait_state(page, "s.currentTime > 1.5 && s.audio !== null")
    assert s["audio"] == {"lang": "fr", "name": "Version française"}
    first = [sw for sw in s["renditionSwitches"] if sw["kind"] == "audio"][0]
    assert (first["from"], first["to"]) == (-1, 1)  # French was the first audio, not a switch from English
    assert set(audio_fragments(s)) == {"fr"}
    assert not [u for u in requested if "/audio/en/" in u], "no English audio was fetched"
    assert s["subtitleTrack"] == -1 and s["subtitles"] is None
    assert not [u for u in requested if "/subtitles/" in u], "no subtitles were fetched"
    modes = page.evaluate("[...document.getElementById('video').textTracks].map(t => t.mode)")
    assert modes and set(modes) == {"disabled"}
    assert page.locator('#subtitles-buttons button[aria-pressed="true"]').inner_text() == "Off"
    assert page.locator('[data-stat="subtitles"]').inner_text() == "off"
    assert not fatal(s)


# Seek the paused video to t, then read what the player shows (the 'showing' track's active cues).
SHOWN_AT = """async (t) => {
  const v = document.getElementById('video');
  await new Promise((done) => { v.addEventListener('seeked', done, { once: true }); v.currentTime = t; });
  await new Promise((done) => setTimeout(done, 100));
  return hlskitPlayer.state().subtitlesShown;
}"""


@pytest.mark.parametrize("fmt", ["ts", "fmp4"])
def test_subtitles_show_over_the_video_at_their_times(page, titles, fmt):
    """The German SRT's cue (1.0-2.5 s of the source) is on the picture from the frame of 1.0 s to
    the frame of 2.5 s, and not a frame before or after. The picture's clock starts where the
    video SourceBuffer starts (hls.js's BUFFER_APPENDED), as in tests/renditions."""
    title = getattr(titles, fmt)
    page.goto(title.play_url(subtitles="de", autostart="0"))
    page.evaluate(
        """() => { window.videoStart = null; hlskitPlayer.start();
        hlskitHls.on(Hls.Events.BUFFER_APPENDED, (_, d) => {
          const r = d.timeRanges && d.timeRanges.video;
          if (window.videoStart === null && r && r.length) window.videoStart = r.start(0); }); }"""
    )
    s = wait_state(page, "s.subtitles !== null && s.bufferAhead > 3 && window.videoStart !== null")
    assert s["subtitles"] == {"lang": "de", "name": "Deutsch", "forced": False}
    page.wait_for_function(
        "() => [...document.getElementById('video').textTracks].some(t => t.language === 'de' && t.cues && t.cues.length)"
    )
    page.evaluate("document.getElementById('video').pause()")
    tracks = page.evaluate(
        """[...document.getElementById('video').textTracks].map(t => ({lang: t.language, mode: t.mode,
        cues: [...(t.cues || [])].map(c => [c.text, c.startTime, c.endTime])}))"""
    )
    shown = [t for t in tracks if t["mode"] == "showing"]
    assert [t["lang"] for t in shown] == ["de"], tracks  # shown over the picture, the others not
    first = page.evaluate("window.videoStart")
    text, start, end = DE_CUE
    [(cue_text, cue_start, cue_end)] = shown[0]["cues"]
    assert cue_text == text
    assert abs(cue_start - (first + start)) <= FRAME, (cue_start, first)
    assert abs(cue_end - (first + end)) <= FRAME, (cue_end, first)
    # On the picture while the playhead is inside the cue, never a frame outside it.
    for t, expected in (
        (first + start - 2 * FRAME, []),
        (first + start + FRAME, [text]),
        (first + (start + end) / 2, [text]),
        (first + end - FRAME, [text]),
        (first + end + 2 * FRAME, []),
    ):
        assert page.evaluate(SHOWN_AT, t) == expected, (fmt, t, first)
    assert not fatal(page.evaluate(STATE))


def test_shaka_player_lists_the_languages_and_switches_while_playing(browser, titles, other_origin):
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url.split("?")[0]))
    try:
        page.goto(f"{other_origin}/stock-shaka.html")
        page.evaluate("src => start(src)", titles.ts.master_url())
        page.wait_for_function(
            "() => seen.errors.length > 0 || document.getElementById('v').currentTime > 1", timeout=30000
        )
        assert page.evaluate("seen.errors") == []
        tracks = page.evaluate("player.getAudioTracks().map(t => [t.language, t.label, t.active])")
        assert tracks == [["en", "English", True], ["fr", "Version française", False], ["en", "Commentary", False]]
        texts = page.evaluate("player.getTextTracks().map(t => [t.language, t.forced])")
        assert texts == [["en", False], ["fr", True], ["de", False]]
        before = page.evaluate("document.getElementById('v').currentTime")
        page.evaluate("player.selectAudioTrack(player.getAudioTracks().find(t => t.language === 'fr'))")
        page.wait_for_function(
            f"() => seen.errors.length > 0 || document.getElementById('v').currentTime > {before + 2}",
            timeout=30000,
        )
        assert page.evaluate("seen.errors") == []
        active = page.evaluate("player.getAudioTracks().filter(t => t.active).map(t => t.language)")
        assert active == ["fr"]
        assert any("/audio/fr/index-" in u for u in requested), "French audio segments were fetched"
        assert page.evaluate("document.getElementById('v').paused") is False
    finally:
        context.close()


def test_abr_check_judges_the_definitions_of_a_package_with_audio_renditions(titles):
    """abr-check sees the two definitions (not the audio tracks) and their automatic switch up."""
    title = titles.ts
    master = (title.dir / "master.m3u8").read_text()
    bws = sorted(int(b) for b in re.findall(r"#EXT-X-STREAM-INF:.*?\bBANDWIDTH=(\d+)", master))
    assert len(bws) == 2 and 'AUDIO="audio"' in master
    slow = round(math.sqrt(bws[0] * bws[1]) / 1000)  # between the two, BANDWIDTH counting the audio
    done = subprocess.run(
        [sys.executable, "-m", "hlskit", "abr-check", f"{title.base}/media/{title.content_id}/master.m3u8"]
        + ["--token", title.token, "--profile", f"{slow}x10,0x14", "--ewma", "1,2", "--json"],
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stderr + done.stdout[-3000:]
    report = json.loads(done.stdout)
    assert report["ok"], report["verdict"]
    assert [lv["name"] for lv in report["levels"]] == ["LD", "SD"]
    state = report["state"]
    # The player loaded audio beside the video (an audio fragment's level is its track id, 0 like
    # LD's), and the judgement counted only the video: one load switch per change of definition.
    assert {f["type"] for f in state["fragments"]} >= {"main", "audio"}
    video = [f["level"] for f in state["fragments"] if f["type"] == "main"]
    changes = [(a, b) for a, b in zip(video, video[1:]) if a != b]
    assert [(s["from_name"], s["to_name"]) for s in report["load_switches"]] == [
        (("LD", "SD")[a], ("LD", "SD")[b]) for a, b in changes
    ]
    assert any(s["to_name"] == "SD" and s["phase"] == 1 for s in report["load_switches"])
    assert state["audio"] == {"lang": "en", "name": "English"}


def test_transmuxed_package_plays_to_the_end_and_the_menu_shows_source(page, titles):
    title = titles.source
    segments = (title.dir / "SOURCE" / "index.m3u8").read_text().count("#EXTINF")
    page.goto(title.play_url())
    s = wait_state(page, "s.ended", timeout=45)
    assert not fatal(s), fatal(s)
    assert [(lv["name"], lv["width"], lv["height"]) for lv in s["levels"]] == [("SOURCE", 320, 180)]
    assert s["duration"] and s["currentTime"] >= s["duration"] - 0.1
    assert sorted({f["sn"] for f in s["fragments"] if f["type"] == "main"}) == list(range(segments))
    assert s["audio"] == {"lang": "en", "name": "English"}  # the source's audio streams as renditions
    button = page.locator('#menu-buttons button[data-level="0"]')
    assert button.inner_text().startswith("SOURCE · 320×180 · ")
    assert "the source's own video, copied without re-encoding" in button.get_attribute("title")
    assert page.locator('[data-stat="definition"]').inner_text() == "SOURCE · 320×180"


def test_recreating_and_destroying_a_player_with_renditions_leaves_nothing_behind(page, titles):
    """The rendition menus and hls.js's text tracks go with the player (issue 20 item 7's rule)."""
    title = titles.ts
    page.add_init_script(WATCH)
    page.goto(title.play_url(subtitles="de"))
    wait_state(page, "s.audio !== null && s.subtitles !== null && s.currentTime > 0.5")
    one = page.evaluate(SNAPSHOT)
    assert one["debug"]["byEvent"].get("renditions", 0) == 2  # the two menus; the state and the panel read the store
    for _ in range(2):
        page.evaluate(
            "([src, token]) => hlskitPlayer.load(src, token)", [f"/media/{title.content_id}/master.m3u8", title.token]
        )
        s = wait_state(page, "s.audio !== null && s.subtitles !== null && s.currentTime > 0.5")
        assert s["subtitles"]["lang"] == "de" and not fatal(s)  # the page's ?subtitles= holds for the next one
        assert page.locator("#audio-buttons button").count() == 3
        assert page.evaluate("document.querySelectorAll('#video track').length") == 3
    again = page.evaluate(SNAPSHOT)
    assert again["debug"]["byEvent"] == one["debug"]["byEvent"]
    assert again["watched"]["listeners"] == one["watched"]["listeners"]

    page.evaluate("hlskitPlayer.destroy()")
    page.wait_for_function("() => watched().timeouts === 0", timeout=10_000)
    gone = page.evaluate(SNAPSHOT)
    assert gone["debug"]["listeners"] == 0 and gone["watched"] == {"intervals": 0, "timeouts": 0, "listeners": {}}
    assert page.locator("#audio-buttons button, #subtitles-buttons button").count() == 0
    assert page.locator("#audio-menu").is_hidden() and page.locator("#subtitles-menu").is_hidden()
    # hls.js took its <track> elements away: no cue is left on the picture.
    assert page.evaluate("document.querySelectorAll('#video track').length") == 0
    assert (
        page.evaluate("[...document.getElementById('video').textTracks].filter(t => t.mode === 'showing').length") == 0
    )
