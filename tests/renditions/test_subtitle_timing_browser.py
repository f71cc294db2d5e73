"""Subtitles line up with the picture in a real player: stock hls.js in headless Chromium plays the
hand-assembled rendition packages (TS and fMP4) and shows each cue when the frame of its source
time is shown. The picture's clock is where the video SourceBuffer starts (the first frame, as
hls.js's BUFFER_APPENDED reports it); the cues' is what hls.js made of X-TIMESTAMP-MAP
(RFC 8216 §3.5) against the video's timestamps."""

from __future__ import annotations

import functools
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.renditions.packages import build_package, make_source
from tests.staticsite import QuietFiles

pytestmark = [pytest.mark.slow, pytest.mark.browser]
REPO = Path(__file__).resolve().parents[2]
FRAME = 0.04  # 25 fps
PAGE = """<!doctype html><html><body>
<video id="v" muted playsinline width="320" height="180"></video>
<script src="/hls.min.js"></script>
<script>
window.seen = {videoStart: null, errors: [], audio: [], subtitles: []};
window.start = (src) => {
  const video = document.getElementById('v');
  const hls = new Hls();
  window.hls = hls;
  hls.on(Hls.Events.BUFFER_APPENDED, (_, d) => {
    const video = d.timeRanges && d.timeRanges.video;
    if (seen.videoStart === null && video && video.length) seen.videoStart = video.start(0);
  });
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) seen.errors.push(d.details); });
  hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => {
    seen.audio = d.audioTracks.map(t => [t.lang, t.name, t.default]);
    seen.subtitles = d.subtitleTracks.map(t => [t.lang, t.name, t.forced]);
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => setTimeout(() => {
    hls.subtitleTrack = hls.allSubtitleTracks.findIndex(t => t.lang === 'en' && !t.forced);
  }));
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(e => seen.errors.push(String(e)));
};
window.cues = () => {
  const out = [];
  for (const track of document.getElementById('v').textTracks) {
    for (const c of (track.cues || [])) out.push([track.language, c.startTime, c.endTime, c.text]);
  }
  return out;
};
</script></body></html>"""


@pytest.fixture(scope="module")
def site(ffmpeg, tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    source = make_source(ffmpeg, tmp_path_factory.mktemp("source"))
    for fmt in ("mpegts", "fmp4"):
        build_package(ffmpeg, source, root / fmt, fmt)
    (root / "page.html").write_text(PAGE)
    hls_js = REPO / "player" / "node_modules" / "hls.js" / "dist" / "hls.min.js"
    assert hls_js.is_file(), "run `cd player && npm ci` (make test does) first"
    (root / "hls.min.js").write_bytes(hls_js.read_bytes())

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietFiles, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("fmt", ["mpegts", "fmp4"])
def test_hlsjs_shows_each_cue_with_its_frame(browser, site, fmt):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{site}/page.html")
        page.evaluate("src => start(src)", f"{site}/{fmt}/master.m3u8")
        page.wait_for_function(
            "seen.errors.length > 0 || (seen.videoStart !== null && cues().length >= 2)", timeout=30000
        )
        seen = page.evaluate("seen")
        assert seen["errors"] == []
        assert seen["audio"] == [["en", "English", True], ["fr", "Version française", False]]
        assert seen["subtitles"] == [["en", "English", False], ["fr", "Français", True]]
        shown = [(text, start, end) for lang, start, end, text in page.evaluate("cues()") if lang == "en"]
        cues = {text: (start, end) for text, start, end in shown}
        assert len(shown) == 2, shown  # the cue repeated in two segments is shown once
        first = seen["videoStart"]  # media time of the source's first frame: 0.08 s (the B-frame delay)
        # The source's cues: 0.5-1.5 s and 1.8-2.6 s (the second spans a segment boundary: shown once).
        assert set(cues) == {"<i>Hello</i> & bye", "Across"}, cues
        for text, (start, end) in (("<i>Hello</i> & bye", (0.5, 1.5)), ("Across", (1.8, 2.6))):
            assert abs(cues[text][0] - (first + start)) <= FRAME, (fmt, text, cues[text], first)
            assert abs(cues[text][1] - (first + end)) <= FRAME, (fmt, text, cues[text], first)
    finally:
        context.close()
