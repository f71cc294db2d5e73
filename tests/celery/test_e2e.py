"""Issue 23's "done when", end to end: a 60 s title packaged with `hlskit package --engine celery
--chunk-seconds 8` on two real workers behind a real Redis, once as is and once with one worker
killed with -9 mid-run. Both packages validate, Debian's FFmpeg decodes every frame of the source
from them (through the real key service), hls.js in Chromium plays each to its end with one
buffered range (no gap at a chunk edge). Sound and picture: test_sync.py."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from hlskit.domain.chunks import VIDEO, ChunkState
from hlskit.hls.crypto import decrypt_segment
from hlskit.hls.model import MediaPlaylist
from hlskit.hls.playlist import parse
from hlskit.hls.validate import validate
from hlskit.hls.vttsegments import media_start
from hlskit.keys.tokens import make_token, token_secret
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore
from tests.celery.conftest import Cluster, frames_of, make_source
from tests.conftest import HLSKIT
from tests.server.conftest import LiveServer, start_server
from tests.tiers import debian_ffmpeg

pytestmark = [pytest.mark.slow, pytest.mark.db]
SECONDS, FPS, CHUNK, SEGMENT = 60, 25, 8, 4


@dataclass
class Title:
    dir: Path
    run_id: str
    manifest: dict
    killed_chunk: str | None = None


@pytest.fixture(scope="module")
def source(ffmpeg, tmp_path_factory) -> Path:
    return make_source(ffmpeg, tmp_path_factory.mktemp("src") / "title.mp4", SECONDS, FPS)


@pytest.fixture(scope="module")
def server(cluster):
    live = start_server(cluster.settings())
    yield live
    live.stop()


def _running_on(store: JobStore, run_id: str, worker: str) -> str | None:
    for c in store.chunks.of_run(run_id):
        if c.kind == VIDEO and c.state == ChunkState.RUNNING and c.worker == worker:
            return c.name
    return None


def _package(cluster: Cluster, server: LiveServer, source: Path, content_id: str, kill: str | None = None) -> Title:
    cluster.workers.ensure(["w1", "w2"])
    args = [str(source), "--engine", "celery", "--chunk-seconds", str(CHUNK), "--ladder", str(cluster.ladder)]
    args += ["--out", str(cluster.out), "--content-id", content_id, "--key-url", f"{server.url}/keys"]
    # A chunk must still be running when the test sees it and kills its worker: at ultrafast a
    # chunk of this title takes 0.3 s (a loaded run killed w1 after its chunk had ended), at veryslow seconds.
    slow = {"HLSKIT_X264_PRESET": "veryslow"} if kill else {}
    proc = subprocess.Popen(
        [*HLSKIT, "package", *args],
        env={**os.environ, **cluster.env(), **slow},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    if kill is not None:
        store = JobStore(cluster.home / "jobs.db")
        node = cluster.workers.node(kill)
        deadline = time.monotonic() + 300
        while killed is None and time.monotonic() < deadline and proc.poll() is None:
            runs = store.runs(content_id)
            killed = _running_on(store, runs[-1].run_id, node) if runs else None
            time.sleep(0.1)
        assert killed is not None, f"no chunk ever ran on {kill}"
        cluster.workers.kill(kill)  # kill -9, mid-chunk
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, f"{out}\n{err}"
    folder = cluster.out / content_id
    manifest = json.loads((folder / "hlskit.json").read_text())
    return Title(folder, manifest["run_id"], manifest, killed)


@pytest.fixture(scope="module")
def clean(cluster, server, source) -> Title:
    return _package(cluster, server, source, "film")


@pytest.fixture(scope="module")
def killed(cluster, server, source) -> Title:
    title = _package(cluster, server, source, "film-killed", kill="w1")
    cluster.workers.ensure(["w1", "w2"])  # for the tests that follow
    return title


@pytest.fixture(params=["clean", "killed"])
def title(request) -> Title:
    return request.getfixturevalue(request.param)


def _url(cluster: Cluster, server: LiveServer, title: Title, path: str = "master.m3u8") -> str:
    token = make_token(token_secret(cluster.settings().token_config()), title.dir.name, 600)
    return f"{server.url}/media/{title.dir.name}/{path}?token={token}"


def _playlist(title: Title, folder: str) -> MediaPlaylist:
    playlist = parse((title.dir / folder / "index.m3u8").read_text(), f"{folder}/index.m3u8")
    assert isinstance(playlist, MediaPlaylist)
    return playlist


def test_the_package_validates(cluster, title):
    keys = KeyStore.open(cluster.settings().store_config()).resolver()
    report = validate(str(title.dir / "master.m3u8"), key_resolver=keys)
    assert report.must == [], [f"{f.rule}: {f.message}" for f in report.must]
    for folder in ("lo", "hi", "audio/und"):
        text = (title.dir / folder / "index.m3u8").read_text()
        assert "#EXT-X-DISCONTINUITY" not in text


def test_each_definition_is_every_chunk_once_in_order(title, clean):
    """15 segments of 4 s per definition, the same EXTINFs whether or not a worker was killed:
    no chunk missing, none twice (a chunk run twice counts once: its folder is renamed into place)."""
    for name in ("lo", "hi"):
        durations = [s.duration for s in _playlist(title, name).segments]
        assert len(durations) == SECONDS // SEGMENT
        assert durations == [s.duration for s in _playlist(clean, name).segments]
        assert abs(sum(durations) - SECONDS) < 1e-3
        assert len({p.name for p in (title.dir / name).glob("index-*.ts")}) == len(durations)
    assert [d["state"] for d in title.manifest["definitions"]] == ["TranscodeSuccess", "TranscodeSuccess"]


def test_debian_ffmpeg_decodes_every_frame_of_the_source(cluster, server, source, title):
    expected = frames_of(source)
    assert expected == SECONDS * FPS
    for name in ("lo", "hi"):
        assert frames_of(_url(cluster, server, title, f"{name}/index.m3u8")) == expected, name
    # Through the master, as a player would: the first variant with its audio rendition.
    decoded = subprocess.run(
        [debian_ffmpeg(), "-v", "error", "-i", _url(cluster, server, title), "-map", "0:v:0", "-map", "0:a:0"]
        + ["-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert decoded.returncode == 0 and decoded.stderr.strip() == "", decoded.stderr


def test_chunks_ran_on_both_workers_and_the_killed_one_ran_again(cluster, clean, killed):
    store = JobStore(cluster.home / "jobs.db")
    video = [c for c in store.chunks.of_run(clean.run_id) if c.kind == VIDEO]
    assert len(video) == SECONDS // CHUNK + 1  # 7 chunks of 8 s and one of 4 s (a whole segment)
    assert all(c.state == ChunkState.DONE for c in video)
    # Which worker takes which chunk is the queue's business (a worker busy with the audio task may
    # see its twin take every video chunk of a short title). Both workers encoded video in the
    # killed run: the test saw its chunk running on w1 (_package), and it ended on w2.
    assert {c.worker.split("@")[0] for c in video} <= {"w1", "w2"}
    again = store.chunks.get(killed.run_id, killed.killed_chunk)
    assert again is not None and again.state == ChunkState.DONE
    assert again.attempts >= 2 and again.worker.startswith("w2@"), again


def test_chunks_continue_each_other_to_the_tick(cluster, title):
    """Chunk 1's first frame is exactly 8 s after chunk 0's (MPEG-TS PTS, 90 kHz), in every definition."""
    keys = KeyStore.open(cluster.settings().store_config()).resolver()

    def first_pts(folder: str, index: int) -> int:
        seg = _playlist(title, folder).segments[index]
        return media_start(decrypt_segment((title.dir / folder / seg.raw_uri).read_bytes(), keys(seg.key.uri), seg.iv))

    for name in ("lo", "hi"):
        assert first_pts(name, CHUNK // SEGMENT) - first_pts(name, 0) == CHUNK * 90000
        assert first_pts(name, SECONDS // SEGMENT - 1) - first_pts(name, 0) == (SECONDS - SEGMENT) * 90000


@pytest.mark.browser
def test_hls_js_plays_to_the_last_frame_without_a_gap(browser, cluster, server, title):
    context = browser.new_context(viewport={"width": 640, "height": 360})
    page = context.new_page()
    try:
        token = make_token(token_secret(cluster.settings().token_config()), title.dir.name, 600)
        page.goto(f"{server.url}/play/{title.dir.name}?token={token}")
        page.wait_for_function("() => { const v = document.querySelector('video'); return v && v.currentTime > 0.5; }")
        page.evaluate("() => { document.querySelector('video').playbackRate = 4; }")
        page.wait_for_function("() => document.querySelector('video').ended", timeout=120_000, polling=250)
        state = page.evaluate(
            """() => { const v = document.querySelector('video'); const b = v.buffered;
              return {time: v.currentTime, duration: v.duration, ranges: Array.from({length: b.length}, (_, i) => [b.start(i), b.end(i)]),
                      errors: window.hlskitPlayer ? window.hlskitPlayer.state().errors : []}; }"""
        )
    finally:
        context.close()
    assert not [e for e in state["errors"] if e.get("fatal")], state["errors"]
    assert abs(state["duration"] - SECONDS) < 0.1 and state["time"] >= state["duration"] - 0.05, state
    [(start, end)] = state["ranges"]  # one range: no hole where two chunks meet
    assert start < 0.1 and end >= SECONDS - 0.1, state
