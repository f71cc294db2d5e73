"""Hand-made plans for unit tests: a MediaInfo as the probe would report it and a PackagePlan as
the planner would make it, with no source file, no FFmpeg and no store behind them."""

from __future__ import annotations

import dataclasses
import secrets

from hlskit.domain.formats import codec_rungs
from hlskit.domain.keys import DataKey, KeySchedule
from hlskit.domain.ladder import PRESETS, Rung, choose_ladder
from hlskit.domain.media import AudioStream, MediaInfo, VideoStream
from hlskit.domain.names import MP4_SUFFIX
from hlskit.domain.plan import Clip, PackagePlan, Watermark
from hlskit.domain.runs import Job, new_job_id

BY_NAME = {d.name: d for d in PRESETS}


def media(
    width: int = 1280,
    height: int = 720,
    *,
    frame_rate: str = "30/1",
    duration: float = 12.0,
    audio: bool = True,
    sample_rate: int = 48000,
    transfer: str | None = None,
    path: str = "/videos/talk.mp4",
) -> MediaInfo:
    return MediaInfo(
        path=path,
        format="mov,mp4,m4a,3gp,3g2,mj2",
        duration=duration,
        size=1_000_000,
        video=VideoStream("h264", "High", width, height, width, height, 0, frame_rate, "yuv420p", transfer),
        audio=AudioStream("aac", "LC", sample_rate, 2) if audio else None,
    )


def data_key(content_id: str = "talk", n: int = 0) -> DataKey:
    """A data key with a recognisable id and IV, random key bytes."""
    return DataKey(content_id, f"key{n:013d}", bytes([n]) * 16, secrets.token_bytes(16))


def plan(
    definitions: tuple[str, ...] = ("LD", "SD", "HD"),
    *,
    info: MediaInfo | None = None,
    codecs: tuple[str, ...] = ("h264",),
    mp4: bool = False,
    fmt: str = "ts",
    schedule: KeySchedule | None = None,
    segment_duration: int = 4,
    staging: str = "/out/.talk.partial-1",
    out: str = "/out/talk",
    key_url: str = "https://keys.example.com/keys",
    watermarks: list[Watermark] | None = None,
    clip: Clip | None = None,
    rungs: list[Rung] | None = None,
    engine: str = "local",
) -> PackagePlan:
    """A plan for ``info`` (default: 1280x720, 30 fps, 12 s, AAC) with a key maker in memory."""
    info = info or media()
    if rungs is None:
        ladder = choose_ladder(info.video.display_width, info.video.display_height, [BY_NAME[n] for n in definitions])
        rungs = codec_rungs(ladder, codecs)
    run_id = "run000000001"

    def job(name: str) -> Job:
        return Job(new_job_id(), "talk", name, run_id=run_id, engine=engine)

    made: list[DataKey] = []
    p = PackagePlan(
        content_id="talk",
        run_id=run_id,
        source=info.path,
        media=info,
        rungs=list(rungs),
        jobs={r.name: job(r.name) for r in rungs},
        mp4_jobs={r.name: job(f"{r.name}{MP4_SUFFIX}") for r in rungs} if mp4 else {},
        segment_duration=segment_duration,
        key_url=key_url,
        schedule=schedule or KeySchedule(),
        keys=made,
        staging=staging,
        out=out,
        watermarks=list(watermarks or []),
        clip=clip,
        user_data={"contentId": "talk"},
        format=fmt,
    )
    p.make_key = lambda: data_key("talk", len(made))
    return p


def with_rung(p: PackagePlan, name: str, **changes) -> PackagePlan:
    """``p`` with one rung changed (e.g. a per-title crf)."""
    p.rungs = [dataclasses.replace(r, **changes) if r.name == name else r for r in p.rungs]
    return p
