"""Issue 14 on the mts engine: MP4 downloads, H.265 and per-rung CRF mapped into SubmitJobs outputs;
fMP4, AV1 and HEVC-in-HLS refused before any request.

The real aliyun SDK (SubmitJobs/QueryJobList) and oss2 talk to the local MPS and OSS stand-ins on
127.0.0.1 (tests/mts/mts_standins.py), which check the signed requests as MPS documents them and
record the parameters they accepted; the assertions read the JSON the stand-in received. This is
not live Alibaba Cloud: what MPS itself does with these fields is to be verified on an account.
"""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import unquote

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.formats import codec_rungs
from hlskit.domain.ladder import SOURCE, Definition, Rung, choose_ladder
from hlskit.domain.outputs import DownloadOutput
from hlskit.domain.runs import JobState
from hlskit.engines.mts_formats import (
    AV1_REFUSED,
    FMP4_REFUSED,
    HEVC_HLS_REFUSED,
    NO_H264_REFUSED,
    check_mts_options,
    mts_rungs,
)
from hlskit.engines.mts_outputs import mp4_template
from hlskit.pipeline.transmux import COPY_TEMPLATE
from tests.mts.test_mts_engine import engine, submits, upload_source

MP4_MAGIC = b"ftyp"


def outputs_sent(cloud) -> list[dict]:
    """Every Outputs entry of every SubmitJobs request the MPS stand-in accepted, in order."""
    return [out for call in submits(cloud) for out in json.loads(call["Outputs"])]


@pytest.mark.slow
def test_mp4_adds_one_mp4_output_per_definition_with_its_mp4_template(cloud, source_clip):
    plan = cloud.plan("dl", upload_source(cloud, source_clip), definitions=("LD", "HD"), mp4=True, run_prefix=True)
    e = engine(cloud.settings)
    report = e.run(plan, cloud.store, lambda *a: None)
    jobs = report.jobs

    hls_ld, hls_hd, mp4_ld, mp4_hd = outputs_sent(cloud)  # one SubmitJobs: four outputs, one job each
    assert len(submits(cloud)) == 1
    assert [o["Container"] for o in (hls_ld, hls_hd)] == [{"Format": "m3u8"}] * 2
    assert [(o["TemplateId"], o["Container"]) for o in (mp4_ld, mp4_hd)] == [
        ("S00000001-200010", {"Format": "mp4"}),  # MPS's MP4-LD preset, twin of M3U8-LD S00000001-100010
        ("S00000001-200030", {"Format": "mp4"}),
    ]
    for hls, mp4, rung in ((hls_ld, mp4_ld, plan.rungs[0]), (hls_hd, mp4_hd, plan.rungs[1])):
        assert unquote(mp4["OutputObject"]) == f"hls/dl/{plan.run_id}/downloads/{rung.name}.mp4"
        assert mp4["Video"] == hls["Video"]  # the same size, rate and GOP as the definition's HLS
        assert mp4["Video"]["Codec"] == "H.264" and mp4["Video"]["Bitrate"] == str(rung.definition.video_kbps)
        assert "Encryption" not in mp4 and "MuxConfig" not in mp4  # MPS encrypts m3u8 outputs only
        assert hls["Encryption"]["Type"] == "hls-aes-128"
        assert json.loads(mp4["UserData"]) == {"contentId": "dl", "definition": rung.name, "container": "mp4"}

    assert [(j.definition, j.state) for j in jobs] == [
        ("LD", JobState.SUCCESS),
        ("HD", JobState.SUCCESS),
        ("LD.mp4", JobState.SUCCESS),
        ("HD.mp4", JobState.SUCCESS),
    ]
    stored = cloud.store.get(plan.mp4_jobs["HD"].job_id)
    assert stored.output == f"oss://out-bucket/hls/dl/{plan.run_id}/downloads/HD.mp4" and stored.remote_id
    # Finished downloads: uri relative to the package, bytes from OSS, duration from MPS's Output.Properties.
    for name in ("LD", "HD"):
        data = cloud.oss.get("out-bucket", f"hls/dl/{plan.run_id}/downloads/{name}.mp4")
        assert data[4:8] == MP4_MAGIC
        made = report.downloads[name]
        assert (made.uri, made.bytes) == (f"{plan.run_id}/downloads/{name}.mp4", len(data))
        assert made.duration == pytest.approx(4.0, abs=0.1)


@pytest.mark.slow
def test_hevc_rungs_become_h265_mp4_downloads_and_hls_stays_h264(cloud, source_clip):
    check_mts_options(None, ("h264", "hevc"), True)  # allowed: HEVC as MP4 downloads
    plan = cloud.plan(
        "hv", upload_source(cloud, source_clip), definitions=("LD", "HD"), codecs=("h264", "hevc"), mp4=True
    )
    assert [r.name for r in plan.rungs] == ["LD", "HD"] and list(plan.mp4_jobs) == ["LD", "HD", "LD-hevc", "HD-hevc"]
    report = engine(cloud.settings).run(plan, cloud.store, lambda *a: None)
    jobs = report.jobs

    sent = outputs_sent(cloud)
    hls = [o for o in sent if o["Container"] == {"Format": "m3u8"}]
    mp4 = {unquote(o["OutputObject"]).rsplit("/", 1)[1]: o for o in sent if o["Container"] == {"Format": "mp4"}}
    assert [o["Video"]["Codec"] for o in hls] == ["H.264", "H.264"]  # no HEVC in TS HLS
    assert {name: o["Video"]["Codec"] for name, o in mp4.items()} == {
        "LD.mp4": "H.264",
        "HD.mp4": "H.264",
        "LD-hevc.mp4": "H.265",
        "HD-hevc.mp4": "H.265",
    }
    assert mp4["HD-hevc.mp4"]["TemplateId"] == "S00000001-200030"  # the same ladder rung's MP4 preset
    hd, hd_hevc = mp4["HD.mp4"]["Video"], mp4["HD-hevc.mp4"]["Video"]
    assert (hd_hevc["Width"], hd_hevc["Height"]) == (hd["Width"], hd["Height"])
    assert int(hd_hevc["Bitrate"]) < int(hd["Bitrate"])  # HEVC spends fewer bits (domain.formats.RATE_FACTOR)

    assert all(j.state == JobState.SUCCESS for j in jobs) and len(jobs) == 6
    data = cloud.oss.get("out-bucket", "hls/hv/downloads/HD-hevc.mp4")
    assert b"hvc1" in data  # the stand-in encoded what Video.Codec asked for
    assert report.downloads["HD-hevc"].bytes == len(data) and report.downloads["HD-hevc"].uri == "downloads/HD-hevc.mp4"


@pytest.mark.parametrize(
    ("fmt", "codecs", "mp4", "sentence"),
    [
        ("fmp4", ("h264",), False, FMP4_REFUSED),
        ("fmp4", ("h264", "hevc"), True, FMP4_REFUSED),
        ("ts", ("h264", "av1"), True, AV1_REFUSED),
        (None, ("h264", "hevc"), False, HEVC_HLS_REFUSED),
        (None, ("hevc",), True, NO_H264_REFUSED),
    ],
)
def test_what_mps_cannot_make_is_refused_in_one_sentence(fmt, codecs, mp4, sentence):
    with pytest.raises(InputError) as err:
        check_mts_options(fmt, codecs, mp4)
    assert err.value.message == sentence
    assert sentence.count(". ") == 0 and sentence.endswith(".")  # one sentence, naming the fix after the colon
    assert ": " in sentence


@pytest.mark.slow
def test_engine_refuses_fmp4_av1_and_hevc_hls_plans_before_any_request(cloud, source_clip):
    source = upload_source(cloud, source_clip)  # put straight into the stand-in's bucket, no request
    e = engine(cloud.settings)

    fmp4 = cloud.plan("r-fmp4", source, definitions=("LD",), format="fmp4")
    av1 = cloud.plan("r-av1", source, definitions=("LD",))
    av1.rungs = codec_rungs(av1.rungs, ("h264", "av1"))
    hevc = cloud.plan("r-hevc", source, definitions=("LD",))
    hevc.rungs = codec_rungs(hevc.rungs, ("h264", "hevc"))
    for plan, sentence in ((fmp4, FMP4_REFUSED), (av1, AV1_REFUSED), (hevc, HEVC_HLS_REFUSED)):
        with pytest.raises(InputError) as err:
            e.submit(plan, cloud.store)
        assert err.value.message == sentence
    assert cloud.mps.calls == [] and cloud.oss.log == []  # neither MPS nor OSS saw a request
    assert all(cloud.store.get(j.job_id).remote_id == "" for p in (fmp4, av1, hevc) for j in p.jobs.values())


@pytest.mark.slow
def test_rung_crf_becomes_video_crf_capped_like_the_local_engine(cloud, source_clip):
    plan = cloud.plan("crf", upload_source(cloud, source_clip), definitions=("LD", "HD"), mp4=True)
    plan.rungs[1] = dataclasses.replace(plan.rungs[1], crf=28)  # per-title: HD at CRF 28
    jobs = engine(cloud.settings).submit(plan, cloud.store)
    assert all(j.state == JobState.SUBMITTED for j in jobs)  # the stand-in took Crf/Maxrate/Bufsize in range

    hls_ld, hls_hd, mp4_ld, mp4_hd = outputs_sent(cloud)
    for video in (hls_hd["Video"], mp4_hd["Video"]):
        assert video["Crf"] == "28" and "Bitrate" not in video  # MPS ignores Bitrate when Crf is set
        assert (video["Maxrate"], video["Bufsize"]) == ("2700", "3600")  # 1.5x / 2x HD's 1800 kb/s
    for video in (hls_ld["Video"], mp4_ld["Video"]):
        assert video["Bitrate"] == "400" and "Crf" not in video and "Maxrate" not in video

    # The run's capped-CRF setting reaches MPS too; a rung's own CRF still wins.
    capped = cloud.settings.replace(rate_control="capped-crf", crf=30)
    plan = cloud.plan("crf2", upload_source(cloud, source_clip, "talks/b.mp4"), definitions=("LD", "HD"))
    plan.rungs[1] = dataclasses.replace(plan.rungs[1], crf=28)
    engine(capped).submit(plan, cloud.store)
    ld, hd = (json.loads(submits(cloud)[-1]["Outputs"])[i]["Video"] for i in (0, 1))
    assert (ld["Crf"], ld["Maxrate"], ld["Bufsize"]) == ("30", "600", "1000")  # MPS's smallest Bufsize
    assert hd["Crf"] == "28"


@pytest.mark.slow
def test_downloads_of_jobs_another_process_followed(cloud, source_clip):
    """`hlskit status --wait` finishes a run it did not submit: one QueryJobList fetches the MP4 jobs'
    Output.Properties; without a Duration there the plan's duration is used."""
    plan = cloud.plan("later", upload_source(cloud, source_clip), definitions=("LD",), mp4=True)
    report = engine(cloud.settings).run(plan, cloud.store, lambda *a: None)
    jobs = cloud.store.run_jobs(plan.run_id)
    before = len(cloud.mps.calls)

    made = engine(cloud.settings).downloads(jobs, plan.out, duration=9.5)
    [query] = cloud.mps.calls[before:]
    assert query["Action"] == "QueryJobList"
    assert query["JobIds"] == cloud.store.get(plan.mp4_jobs["LD"].job_id).remote_id  # only the MP4 job
    assert made == {"LD": DownloadOutput(report.downloads["LD"].bytes, "downloads/LD.mp4", 4.0)}

    for job in cloud.mps.jobs.values():
        job["Output"].pop("Properties", None)
    assert engine(cloud.settings).downloads(jobs, plan.out, duration=9.5)["LD"].duration == 9.5


@pytest.mark.slow
def test_a_copied_source_is_m3u8_copy_and_its_download_mp4_copy_without_video_overrides(cloud, source_clip):
    plan = cloud.plan("copy", upload_source(cloud, source_clip), definitions=("LD",), mp4=True)
    source = Rung(Definition(SOURCE, 1920, 0, 128, COPY_TEMPLATE), 1920, 1080, transmux=True)
    plan.rungs[0] = source
    plan.jobs = {SOURCE: plan.jobs.pop("LD")}
    plan.mp4_jobs = {SOURCE: plan.mp4_jobs.pop("LD")}
    jobs = engine(cloud.settings).submit(plan, cloud.store)
    assert all(j.state == JobState.SUBMITTED for j in jobs), [j.message for j in jobs]
    hls, mp4 = outputs_sent(cloud)
    assert hls["TemplateId"] == "S00000001-100000" and "Video" not in hls
    # it went out on M3U8-COPY with Container mp4 and re-encode settings, which a copy template refuses
    assert mp4["TemplateId"] == "S00000001-200000" and "Video" not in mp4 and mp4["Container"] == {"Format": "mp4"}


def test_mp4_template_and_custom_rungs():
    assert mp4_template("S00000001-100070") == "S00000001-200070"  # M3U8-4K → MP4-4K
    assert mp4_template("S00000001-100000") == "S00000001-200000"  # M3U8-COPY → MP4-COPY
    custom = "0123456789abcdef0123456789abcdef"
    assert mp4_template(custom) == custom  # a custom template: Container "mp4" overrides its format
    rungs = [Definition("LD", 640, 400, 64, "S00000001-100010")]
    hls, downloads = mts_rungs(choose_ladder(1920, 1080, rungs), ("h264", "hevc"), True)
    assert [r.name for r in hls] == ["LD"] and [r.name for r in downloads] == ["LD", "LD-hevc"]
    assert mts_rungs(choose_ladder(1920, 1080, rungs), ("h264",), False)[1] == []


@pytest.mark.slow
def test_custom_rung_mp4_keeps_its_template_and_video_overrides(cloud, source_clip):
    plan = cloud.plan("cu", upload_source(cloud, source_clip), definitions=("LD",), mp4=True)
    custom = Definition("LD", 640, 450, 64, "0123456789abcdef0123456789abcdef")
    plan.rungs[0] = dataclasses.replace(plan.rungs[0], definition=custom)
    engine(cloud.settings).submit(plan, cloud.store)
    hls, mp4 = outputs_sent(cloud)
    assert mp4["TemplateId"] == hls["TemplateId"] == custom.template_id
    assert mp4["Container"] == {"Format": "mp4"} and mp4["Video"] == hls["Video"]
    assert mp4["Video"]["Bitrate"] == "450"
