"""Fixtures for the mts engine: the MPS/KMS/MNS and OSS stand-ins on 127.0.0.1, real HLS renditions.

The renditions are real FFmpeg HLS encodes made once per session (one per MPS template, tiny
sizes); the MPS stand-in "transcodes" by writing them, encrypted, into the OSS stand-in.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from hlskit.config import load_settings
from hlskit.domain.keys import KeySchedule
from hlskit.domain.ladder import PRESETS, choose_ladder
from hlskit.domain.names import MP4_SUFFIX
from hlskit.domain.plan import PackagePlan
from hlskit.domain.runs import Job, Run, new_job_id, new_run_id
from hlskit.domain.settings import Settings
from hlskit.engines.mts_formats import mts_rungs
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore
from tests.mts.mts_standins import AK, KMS_KEY, PIPELINE, QUEUE, SECRET, AliyunStandIn, OssStandIn

SIZES = {
    "S00000001-100010": (192, 108),
    "S00000001-100020": (256, 144),
    "S00000001-100030": (320, 180),
    "S00000001-100040": (384, 216),
}


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture(scope="session")
def renditions(tmp_path_factory) -> dict[str, list[tuple[float, bytes]]]:
    """template id → [(EXTINF duration, plain TS bytes)]: 4 s at 2 s segments, H.264 + AAC."""
    base = tmp_path_factory.mktemp("renditions")
    out: dict[str, list[tuple[float, bytes]]] = {}
    for template, (w, h) in SIZES.items():
        d = base / template
        d.mkdir()
        subprocess.run(
            [
                _ffmpeg(),
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size={w}x{h}:rate=24:duration=4",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=4",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "48",
                "-keyint_min",
                "48",
                "-sc_threshold",
                "0",
                "-c:a",
                "aac",
                "-b:a",
                "64k",
                "-f",
                "hls",
                "-hls_time",
                "2",
                "-hls_playlist_type",
                "vod",
                "-hls_segment_filename",
                str(d / "seg-%05d.ts"),
                str(d / "index.m3u8"),
            ],
            check=True,
            capture_output=True,
        )
        text = (d / "index.m3u8").read_text()
        durations = [float(x) for x in re.findall(r"#EXTINF:([\d.]+),", text)]
        names = [line for line in text.splitlines() if line.endswith(".ts")]
        out[template] = [(dur, (d / n).read_bytes()) for dur, n in zip(durations, names)]
    return out


@pytest.fixture(scope="session")
def mp4_maker(renditions, tmp_path_factory):
    """(M3U8 template id, MPS Video.Codec) → a progressive MP4 of that rendition, made on first use:
    H.264 remuxed from the TS segments, H.265 encoded with libx265 (hvc1), audio copied."""
    base = tmp_path_factory.mktemp("mp4")
    made: dict[tuple[str, str], bytes] = {}

    def make(template: str, codec: str) -> bytes:
        if (template, codec) not in made:
            ts = base / f"{template}.ts"
            ts.write_bytes(b"".join(data for _, data in renditions[template]))
            out = base / f"{template}-{codec}.mp4"
            video = (
                ["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1"] if codec == "H.265" else ["-c:v", "copy"]
            )
            subprocess.run(
                [_ffmpeg(), "-loglevel", "error", "-y", "-i", str(ts), *video, "-c:a", "copy"]
                + ["-movflags", "+faststart", str(out)],
                check=True,
                capture_output=True,
            )
            made[template, codec] = out.read_bytes()
        return made[template, codec]

    return make


@pytest.fixture(scope="session")
def source_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("src") / "talk.mp4"
    subprocess.run(
        [
            _ffmpeg(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=24:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    return path


@dataclass
class Cloud:
    oss: OssStandIn
    mps: AliyunStandIn
    settings: Settings
    store: JobStore
    keystore: KeyStore

    def plan(
        self,
        content_id: str,
        source: str,
        definitions=("LD", "SD", "HD", "FHD"),
        *,
        codecs=("h264",),
        mp4=False,
        run_prefix=False,
        **kw,
    ) -> PackagePlan:
        """A plan as the planner makes it for the mts engine (jobs in the store, one data key):
        HLS in H.264, and with ``mp4`` one ``<definition>.mp4`` job per definition per codec
        (:func:`hlskit.engines.mts_formats.mts_rungs`). ``run_prefix``: write under
        ``<out>/<run-id>`` as the planner does for OSS (else straight under ``<out>``)."""
        by_name = {d.name: d for d in PRESETS}
        hls, downloads = mts_rungs(choose_ladder(1920, 1080, [by_name[n] for n in definitions]), codecs, mp4)
        run = Run(new_run_id(), content_id, engine="mts")
        jobs = {r.name: Job(new_job_id(), content_id, r.name, run_id=run.run_id, engine="mts") for r in hls}
        mp4_jobs = {
            r.name: Job(new_job_id(), content_id, f"{r.name}{MP4_SUFFIX}", run_id=run.run_id, engine="mts")
            for r in downloads
        }
        self.store.start_run(run, [*jobs.values(), *mp4_jobs.values()])
        out = f"oss://out-bucket/hls/{content_id}"
        plan = PackagePlan(
            content_id=content_id,
            run_id=run.run_id,
            source=source,
            media=None,
            rungs=hls,
            jobs=jobs,
            mp4_jobs=mp4_jobs,
            segment_duration=kw.pop("segment_duration", 2),
            key_url="https://keys.example.com/keys",
            schedule=kw.pop("schedule", KeySchedule()),
            keys=[],
            staging=f"{out}/{run.run_id}" if run_prefix else out,
            out=out,
            user_data={"contentId": content_id},
            **kw,
        )
        plan.make_key = lambda: self.keystore.create(content_id)
        plan.key(0)
        return plan


@pytest.fixture
def cloud(tmp_path, monkeypatch, renditions, mp4_maker) -> Cloud:
    oss = OssStandIn({AK: SECRET}).start()
    for name in ("in-bucket", "out-bucket"):
        oss.create_bucket(name)
    mps = AliyunStandIn(
        {AK: SECRET}, oss, renditions, {PIPELINE}, kms_keys={KMS_KEY}, queue=QUEUE, mp4=mp4_maker
    ).start()
    env = {
        "HLSKIT_HOME": str(tmp_path / "home"),
        "HLSKIT_MTS_ACCESS_KEY_ID": AK,
        "HLSKIT_MTS_ACCESS_KEY_SECRET": SECRET,
        "HLSKIT_MTS_REGION": "cn-shanghai",
        "HLSKIT_MTS_ENDPOINT": mps.url,
        "HLSKIT_MTS_PIPELINE_ID": PIPELINE,
        "HLSKIT_OSS_ENDPOINT": oss.url,
        "HLSKIT_OSS_LOCATION": "oss-cn-shanghai",
        "HLSKIT_ENGINE": "mts",
    }
    monkeypatch.delenv("HLSKIT_CONFIG", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings = load_settings()
    settings.ensure_home()
    yield Cloud(oss, mps, settings, JobStore.open(settings.store_config()), KeyStore.open(settings.store_config()))
    mps.stop()
    oss.stop()
