"""The Celery engine's pure parts: how a title is cut into chunks and each chunk's command, the
run file, the chunk rows in the job store, and the manifest a detached engine completes."""

from __future__ import annotations

import shutil
import socket
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from hlskit.domain.chunks import AUDIO, VIDEO, Chunk, ChunkState, summary
from hlskit.domain.configs import CeleryConfig
from hlskit.domain.errors import ConfigError, InputError
from hlskit.domain.keys import KeySchedule
from hlskit.domain.ladder import PRESETS, resolve
from hlskit.domain.manifest import Manifest
from hlskit.domain.manifest_records import KeyEntry, RenditionEntry
from hlskit.domain.media import MediaInfo, VideoStream
from hlskit.domain.names import run_staging
from hlskit.domain.outputs import DefinitionOutput
from hlskit.domain.plan import Clip, PackagePlan
from hlskit.domain.runs import this_owner
from hlskit.domain.tracks import AudioRendition
from hlskit.engines.celery.app import broker_url
from hlskit.engines.celery.chunks import (
    OUT,
    SPRITE_ROW,
    TIMELINE_START,
    audio_args,
    chunk_args,
    chunk_seconds,
    cut,
    sprite_rows,
)
from hlskit.engines.celery.signing import sign, task_secret, verify
from hlskit.engines.celery.work import WORK, RunFile, Task, claim_assembly
from hlskit.engines.thumbnails import layout_for
from hlskit.stores.jobs import JobStore


def _plan(seconds: float, rate: str = "25", clip: Clip | None = None, fmt: str = "ts") -> PackagePlan:
    video = VideoStream("h264", "High", 320, 180, 320, 180, 0, rate, "yuv420p")
    media = MediaInfo("/src/title.mp4", "mov,mp4", seconds, 1, video, None)
    rungs = [resolve(PRESETS[0], 320, 180)]
    return PackagePlan(
        content_id="t",
        run_id="r",
        source="/src/title.mp4",
        media=media,
        rungs=rungs,
        jobs={},
        segment_duration=4,
        key_url="/keys",
        schedule=KeySchedule(),
        keys=[],
        staging="/shared/out/.t.run-r",
        out="/shared/out/t",
        clip=clip,
        format=fmt,
    )


def test_chunks_are_whole_segments_and_the_setting_is_refused_in_one_sentence():
    assert [chunk_seconds(n, 4) for n in (1, 4, 8, 30, 31)] == [4, 4, 8, 32, 32]
    assert chunk_seconds(10, 6) == 12
    for bad in (0, -8, True, "8"):
        with pytest.raises(InputError, match=r"^--chunk-seconds must be a whole number of seconds, 1 or more"):
            chunk_seconds(bad, 4)


def test_a_title_is_cut_on_frames_with_half_a_frame_at_each_edge():
    spans = cut(_plan(60.0), 8)
    assert [s.first for s in spans] == [0, 200, 400, 600, 800, 1000, 1200, 1400]
    assert [s.seek for s in spans] == [0.0, 8.0, 16.0, 24.0, 32.0, 40.0, 48.0, 56.0]
    assert all(s.duration == pytest.approx(7.98) for s in spans[:-1])  # 200 frames less half a frame
    assert spans[-1].duration is None and spans[-1].length == 4.0  # to the end of the source
    assert [s.offset for s in spans] == [TIMELINE_START + 8 * k for k in range(8)]


def test_ntsc_rates_start_each_chunk_on_its_first_frame_to_the_millisecond():
    rate = Fraction(30000, 1001)
    spans = cut(_plan(20.0, "30000/1001"), 4)
    assert [s.first for s in spans] == [0, 120, 240, 360, 480]  # the first frame at or after 4 k s
    for s in spans:
        when = Fraction(s.first) / rate
        assert 0 <= when - Fraction(str(s.seek)) < Fraction(1, 1000)
        assert s.offset == pytest.approx(TIMELINE_START + float(when), abs=1e-9)
    assert [s.frames for s in spans[:-1]] == [120, 120, 120, 120]


def test_a_last_piece_shorter_than_a_segment_joins_the_chunk_before():
    assert len(cut(_plan(61.0), 8)) == 8  # the last 5 s are a chunk of their own
    spans = cut(_plan(58.5), 8)
    assert len(spans) == 7 and spans[-1].start == 48.0 and spans[-1].length == pytest.approx(10.5)


def test_a_clip_and_a_late_first_frame_move_every_seek():
    spans = cut(_plan(60.0, clip=Clip(10.0, 20.0)), 8)
    assert [s.seek for s in spans] == [10.0, 18.0, 26.0]
    assert spans[-1].duration == pytest.approx(4.0)  # up to the clip's end, 30 s into the source
    late = cut(_plan(60.0), 8, video_start=Fraction(33, 1000))
    assert [s.seek for s in late[:3]] == [0.033, 8.033, 16.033]


def test_a_chunks_command_is_build_encode_with_its_range_and_place_on_the_timeline():
    plan = _plan(60.0)
    plan.rungs = [resolve(PRESETS[0], 320, 180), resolve(PRESETS[1], 848, 480)]
    span = cut(plan, 8)[1]
    commands = chunk_args(plan, span, "ffmpeg", "veryfast", Path("/shared/text"), "abr", 23)
    assert len(commands) == 3  # every definition at once, then each alone
    shared = " ".join(commands[0])
    assert "-ss 8.000 -t 7.980 -i /src/title.mp4" in shared
    assert shared.endswith(f"-output_ts_offset 18.000000 {OUT}/%v/ffmpeg.m3u8")
    assert "-var_stream_map v:0,name:LD v:1,name:SD" in shared and "-map 0:a" not in shared
    assert "-var_stream_map v:0,name:SD" in " ".join(commands[2])
    fmp4 = chunk_args(_plan(60.0, fmt="fmp4"), span, "ffmpeg", "veryfast", Path("/t"), "abr", 23)[0]
    assert fmp4[fmp4.index("-hls_segment_options") + 1] == "movflags=+frag_discont+negative_cts_offsets"


def test_an_audio_rendition_is_the_whole_title_and_never_seeks_to_zero():
    plan = _plan(60.0)
    rendition = AudioRendition("en", "/src/title.mp4", 0, "en", "English", True)
    whole = audio_args(plan, rendition, cut(plan, 8)[0], "ffmpeg", "veryfast", Path("/t"))
    assert "-ss" not in whole and "-t" not in whole and "-output_ts_offset" in whole
    clipped = _plan(60.0, clip=Clip(10.0, 20.0))
    part = audio_args(clipped, rendition, cut(clipped, 8)[0], "ffmpeg", "veryfast", Path("/t"))
    assert " ".join(part).count("-ss 10.000 -t 20.000 -i /src/title.mp4") == 1


def test_the_sprite_is_made_in_rows_each_decoding_only_its_stretch():
    plan = _plan(250.0, clip=Clip(5.0, None))  # 245 s: a tile every 3 s, 82 tiles, 9 rows of 10
    layout = layout_for(245.0, 320, 180)
    assert (layout.interval, layout.tiles, layout.rows) == (3, 82, 9)
    rows = [" ".join(c) for c in sprite_rows(plan, layout, "ffmpeg")]
    assert len(rows) == 9
    assert "-ss 5.000 -t 30.000 -i /src/title.mp4" in rows[0] and "-ss 245.000 -t 5.000 " in rows[8]
    assert all("tile=10x1" in r and r.endswith(f"-frames:v 1 -q:v 5 {OUT}/{SPRITE_ROW}") for r in rows)


def test_the_broker_must_be_a_redis_url_and_its_password_never_shows():
    with pytest.raises(ConfigError, match=r"^the celery engine needs a broker: set broker_url"):
        broker_url(CeleryConfig())
    with pytest.raises(ConfigError) as refused:
        broker_url(CeleryConfig("amqp://guest:hunter2@rabbit:5672//"))
    assert "hunter2" not in refused.value.message and "is not a redis:// URL" in refused.value.message
    assert broker_url(CeleryConfig("redis://:pw@h:6379/0")) == "redis://:pw@h:6379/0"
    assert "pw" not in repr(CeleryConfig("redis://:pw@h:6379/0"))
    # each was a ValueError traceback from redis-py in `hlskit worker`, `doctor` and `package`
    for bad in ("redis://[::1", "redis://:hunter2@127.0.0.1:abc/0", "redis://127.0.0.1:99999/0"):
        with pytest.raises(ConfigError) as refused:
            broker_url(CeleryConfig(bad))
        assert "is not a valid URL" in refused.value.message and "hunter2" not in refused.value.message


def test_a_task_verifies_only_with_its_own_arguments_and_secret():
    kwargs = {"run_id": "r1", "name": "c00000", "commands": [["-i", "in.mp4", "out.ts"]], "seconds": 8.0}
    signature = sign(b"s" * 32, kwargs)
    assert verify(b"s" * 32, dict(kwargs), signature)  # JSON's key order and a copy do not matter
    assert not verify(b"t" * 32, kwargs, signature)  # another secret
    assert not verify(b"s" * 32, {**kwargs, "commands": [["-i", "in.mp4", "/etc/cron.d/x"]]}, signature)
    assert not verify(b"s" * 32, kwargs, None) and not verify(b"s" * 32, kwargs, signature.upper())


def test_the_task_secret_is_made_once_0600_and_refused_in_production_when_missing(tmp_path):
    made = task_secret(CeleryConfig(home=tmp_path))
    assert len(made) >= 32 and (tmp_path / "task.secret").stat().st_mode & 0o777 == 0o600
    assert task_secret(CeleryConfig(home=tmp_path)) == made  # every process of one home: the same secret
    assert task_secret(CeleryConfig(task_secret="x" * 40, home=tmp_path)) == b"x" * 40
    with pytest.raises(ConfigError, match=r"^no task secret in production: set HLSKIT_TASK_SECRET"):
        task_secret(CeleryConfig(home=tmp_path / "elsewhere", production=True))
    assert not (tmp_path / "elsewhere").exists()
    for weak in ("short", " " * 40, "x" * 40):
        with pytest.raises(ConfigError, match=r"^task_secret is too weak for production"):
            task_secret(CeleryConfig(task_secret=weak, home=tmp_path, production=True))


def test_the_run_file_round_trips_and_names_keys_only_by_id():
    run = RunFile("0.1.0", "r", "t", "/s", "ts", 4, 60.0, ["LD"], {"LD": "j"}, [], [], {}, None, "/keys", {}, [], 8)
    run.tasks = [Task("c00000", VIDEO, [["-i", "x"]], ["LD"], ["j"], 8.0)]
    run.keys = [{"key_id": "k1", "iv": "00" * 16}]
    again = RunFile.loads(run.dumps())
    assert again == run and again.task("c00000").outputs == ["LD"]
    assert set(again.keys[0]) == {"key_id", "iv"}


def test_chunk_rows_start_once_per_delivery_and_an_ended_chunk_never_changes(tmp_path):
    chunks = JobStore(tmp_path / "jobs.db").chunks
    chunks.add(
        [Chunk("r", "c00001", VIDEO, 8.0, 8.0), Chunk("r", "c00000", VIDEO, 0.0, 8.0), Chunk("r", "audio/en", AUDIO)]
    )
    assert [c.name for c in chunks.of_run("r")] == ["c00000", "c00001", "audio/en"]
    first = chunks.start("r", "c00000", "w1@h", "t1")
    assert first.state == ChunkState.RUNNING and first.attempts == 1 and first.worker == "w1@h"
    again = chunks.start("r", "c00000", "w2@h", "t1")  # redelivered after w1 died
    assert again.attempts == 2 and again.worker == "w2@h"
    chunks.update("r", "c00000", state=ChunkState.DONE, percent=100)
    assert chunks.start("r", "c00000", "w1@h", "t1") is None  # a late duplicate: nothing changes
    chunks.update("r", "c00000", state=ChunkState.FAILED, message="late")
    done = chunks.get("r", "c00000")
    assert done.state == ChunkState.DONE and done.finished_at is not None and done.message == ""
    with pytest.raises(ValueError, match="not chunk fields"):
        chunks.update("r", "c00000", **{"state=state; --": 1})
    assert summary(chunks.of_run("r")) == "1/2 chunks done on w2@h (1)"


def test_a_detached_runs_manifest_takes_what_was_made_and_keeps_only_the_keys_in_use():
    manifest = Manifest.from_dict(
        {
            "content_id": "t",
            "encryption": {"method": "AES-128", "rotate_every": 2},
            "keys": [{"key_id": k} for k in ("a", "b", "c")],
            "definitions": [{"name": "LD"}],
            "renditions": [{"type": "SUBTITLES", "slug": "fr", "name": "Français", "state": "TranscodeFail"}],
        }
    )
    made = DefinitionOutput("LD/index.m3u8", 3, 12.0, 1000, 4, ("a", "b"))
    subs = DefinitionOutput("subtitles/fr/index.m3u8", 3, 12.0, 90, 4, ())
    manifest.record_outputs({"LD": made}, {}, {"fr": subs})
    assert (manifest.definitions[0].segments, manifest.definitions[0].bytes) == (3, 1000)
    assert manifest.keys == [KeyEntry("a", first_segment=0), KeyEntry("b", first_segment=2)]  # c: never used
    [fr] = manifest.renditions
    assert isinstance(fr, RenditionEntry) and fr.succeeded and fr.playlist == "subtitles/fr/index.m3u8"


def test_a_detached_run_stages_beside_its_package_by_run_id():
    assert run_staging("/shared/out/talk", "5f0c2a9e1b7d") == "/shared/out/.talk.run-5f0c2a9e1b7d"


def test_one_follower_assembles_a_run_and_a_dead_ones_claim_is_taken_over(tmp_path):
    staging = tmp_path / ".t.run-r"
    (staging / WORK).mkdir(parents=True)
    claim = staging / WORK / "assembling"
    claim.write_text("another-host:1")  # a live follower elsewhere (another host: assumed alive)
    assert claim_assembly(staging) is False
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid of this host that no longer runs
    claim.write_text(f"{socket.gethostname()}:{gone.pid}")
    assert claim_assembly(staging) is True and claim.read_text() == this_owner()
    assert claim_assembly(staging) is True  # its own claim
    shutil.rmtree(staging / WORK)
    assert claim_assembly(staging) is False  # the run was assembled: its work folder is gone
