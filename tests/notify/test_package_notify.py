"""A real package run (FFmpeg, two tiny definitions) tells a webhook on 127.0.0.1 about each job."""

from __future__ import annotations

import pytest

from hlskit.notify import SIGNATURE_HEADER, verify_signature
from hlskit.stores.jobs import JobStore

pytestmark = pytest.mark.slow


def test_one_signed_event_per_job_then_one_for_the_package(tmp_path, settings, receiver, make_clip):
    from hlskit.domain.plan import PackageOptions
    from hlskit.pipeline import run_package

    source = make_clip(tmp_path / "a.mp4", width=320, height=180, seconds=2)
    ladder = tmp_path / "tiny.toml"
    ladder.write_text(
        '[[definition]]\nname = "T1"\nwidth = 160\nvideo_kbps = 150\n\n'
        '[[definition]]\nname = "T2"\nwidth = 320\nvideo_kbps = 300\n'
    )
    result = run_package(
        str(source),
        str(tmp_path / "out"),
        settings,
        PackageOptions(ladder=str(ladder), segment_duration=1, content_id="hooked", notify=[receiver.url]),
    )
    assert result.ok

    jobs = {j.job_id: j for j in JobStore.open(settings.store_config()).list("hooked")}
    assert sorted(j.definition for j in jobs.values()) == ["T1", "T2"]
    events = receiver.bodies()
    transcode = [e for e in events if e["type"] == "Transcode"]
    assert sorted(e["jobId"] for e in transcode) == sorted(jobs)  # exactly one per job
    for e in transcode:
        assert (e["state"], e["contentId"], e["definition"]) == ("Success", "hooked", jobs[e["jobId"]].definition)
    (package,) = [e for e in events if e["type"] == "Package"]
    assert package["state"] == "Success" and sorted(j["jobId"] for j in package["jobs"]) == sorted(jobs)
    assert package["output"].endswith("hooked/master.m3u8")
    assert len(receiver.requests) == 3 and receiver.processed == 3  # no retries, no repeats
    for r in receiver.requests:
        assert verify_signature(receiver.secret, r["body"], r["headers"][SIGNATURE_HEADER])
