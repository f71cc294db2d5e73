"""MtsEngine through the real aliyun SDK (AcsClient + SubmitJobs/QueryJobList/CancelJob) and oss2,
against the stand-ins on 127.0.0.1 — not live Alibaba Cloud."""

from __future__ import annotations

import base64
import dataclasses
import json
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hlskit.aliyun.mns import parse_job_message
from hlskit.aliyun.rpc import AliyunRpc
from hlskit.domain.errors import ConfigError, HlskitError, InputError, JobError
from hlskit.domain.keys import KeySchedule
from hlskit.domain.ladder import Definition, Rung
from hlskit.domain.plan import Clip, PackageOptions, Watermark
from hlskit.domain.runs import Job, JobState, new_job_id
from hlskit.engines.mts import MtsEngine
from hlskit.pipeline.plan import check_capabilities
from hlskit.stores.jobs import JobStore

SIGNATURE_PARAMS = (
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "AccessKeyId",
    "Timestamp",
    "Version",
    "Format",
    "Action",
)


class RecordingStore(JobStore):
    """The real job store, remembering every state each job passed through."""

    def __init__(self, path):
        super().__init__(path)
        self.states: dict[str, list[str]] = {}

    def update(self, job_id, **changes):
        job = super().update(job_id, **changes)
        seen = self.states.setdefault(job_id, [])
        if not seen or seen[-1] != job.state.value:
            seen.append(job.state.value)
        return job


def engine(settings, **kw) -> MtsEngine:
    e = MtsEngine(settings.mps_config(), poll_interval=0.01, max_poll_interval=0.05, mns_wait_seconds=1, **kw)
    e.rpc.backoff = 0.01
    return e


def b64url_decode(s: str) -> bytes:
    assert not set(s) & set("+/"), "MPS wants URL-safe Base64"
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def upload_source(cloud, source_clip, key="talks/a.mp4") -> str:
    cloud.oss.put("in-bucket", key, source_clip.read_bytes(), "video/mp4")
    return f"oss://in-bucket/{key}"


def submits(cloud) -> list[dict]:
    return [c for c in cloud.mps.calls if c["Action"] == "SubmitJobs"]


@pytest.mark.slow
def test_submit_sends_one_signed_output_per_definition(cloud, source_clip):
    plan = cloud.plan("talk-a", upload_source(cloud, source_clip))
    jobs = engine(cloud.settings).submit(plan, cloud.store)

    [call] = submits(cloud)
    for name in SIGNATURE_PARAMS:
        assert call[name], name
    assert call["Version"] == "2014-06-18" and call["SignatureMethod"] == "HMAC-SHA1"
    assert call["PipelineId"] == cloud.settings.mts_pipeline_id
    assert call["OutputBucket"] == "out-bucket" and call["OutputLocation"] == "oss-cn-shanghai"
    assert json.loads(call["Input"]) == {"Bucket": "in-bucket", "Location": "oss-cn-shanghai", "Object": "talks/a.mp4"}

    outputs = json.loads(call["Outputs"])
    assert [o["TemplateId"] for o in outputs] == [
        "S00000001-100010",
        "S00000001-100020",
        "S00000001-100030",
        "S00000001-100040",
    ]
    key = plan.keys[0]
    for out, rung in zip(outputs, plan.rungs):
        assert unquote(out["OutputObject"]) == f"hls/talk-a/{rung.name}/index.m3u8"
        assert out["Container"] == {"Format": "m3u8"}
        assert out["MuxConfig"] == {"Segment": {"Duration": "2"}}
        assert out["Video"]["Width"] == str(rung.width) and out["Video"]["Height"] == str(rung.height)
        assert out["Video"]["Bitrate"] == str(rung.definition.video_kbps)  # our ladder's rate, per title too
        assert out["Video"]["Codec"] == "H.264" and "Crf" not in out["Video"]
        enc = out["Encryption"]
        assert enc["Type"] == "hls-aes-128" and enc["KeyType"] == "Base64"
        assert b64url_decode(enc["Key"]) == key.key
        assert b64url_decode(enc["KeyUri"]).decode() == f"https://keys.example.com/keys/talk-a/{key.key_id}"
        assert json.loads(out["UserData"]) == {"contentId": "talk-a", "definition": rung.name}
        assert "SkipCnt" not in enc and "WaterMarks" not in out and "Clip" not in out

    assert [j.state for j in jobs] == [JobState.SUBMITTED] * 4
    stored = [cloud.store.get(j.job_id) for j in jobs]
    assert all(j.remote_id in cloud.mps.jobs and j.engine == "mts" for j in stored)
    assert stored[0].output == "oss://out-bucket/hls/talk-a/LD/index.m3u8"


@pytest.mark.slow
def test_batch_of_three_sources_progresses_and_one_failure_keeps_mps_code(cloud, source_clip):
    store = RecordingStore(cloud.settings.job_db)
    e = engine(cloud.settings)
    plans = [cloud.plan(f"talk-{c}", upload_source(cloud, source_clip, f"talks/{c}.mp4")) for c in "abc"]
    submitted = [job for plan in plans for job in e.submit(plan, store)]
    assert len(submitted) == 12 and len(submits(cloud)) == 3  # one SubmitJobs per source (one Input each)
    bad = plans[1].jobs["HD"].job_id
    bad_remote = store.get(bad).remote_id
    cloud.mps.fail_rule = lambda job: (
        ("InvalidParameter.ResourceContentBad", "The resource operated InputFile is bad")
        if job["JobId"] == bad_remote
        else None
    )
    seen = []
    ended = e.wait(store, [store.get(j.job_id) for j in submitted], lambda name, pct: seen.append((name, pct)))

    assert len(ended) == 12
    for job in ended:
        if job.job_id == bad:
            assert job.state == JobState.FAIL
            assert (job.code, job.message) == (
                "InvalidParameter.ResourceContentBad",
                "The resource operated InputFile is bad",
            )
            assert store.states[job.job_id] == ["Submitted", "Transcoding", "TranscodeFail"]
        else:
            assert job.state == JobState.SUCCESS and job.percent == 100
            assert store.states[job.job_id] == ["Submitted", "Transcoding", "TranscodeSuccess"]
    queries = [c for c in cloud.mps.calls if c["Action"] == "QueryJobList"]
    assert queries and all(len(c["JobIds"].split(",")) <= 10 for c in queries)
    assert ("talk-a/LD", 100.0) in seen and any(0 < pct < 100 for _, pct in seen)

    # What the MPS stand-in wrote is MPS-shaped HLS, encrypted with our data key (IV = sequence number).
    playlist = cloud.oss.get("out-bucket", "hls/talk-a/FHD/index.m3u8").decode()
    uri = plans[0].keys[0].uri(plans[0].key_url)
    assert f'#EXT-X-KEY:METHOD=AES-128,URI="{uri}"' in playlist and "index-00001.ts" in playlist
    segment = cloud.oss.get("out-bucket", "hls/talk-a/FHD/index-00001.ts")
    dec = Cipher(algorithms.AES(plans[0].keys[0].key), modes.CBC((0).to_bytes(16, "big"))).decryptor()
    unpad = padding.PKCS7(128).unpadder()
    plain = unpad.update(dec.update(segment) + dec.finalize()) + unpad.finalize()
    assert plain[0] == 0x47 and plain[188] == 0x47
    assert not cloud.oss.keys_under("out-bucket", "hls/talk-b/HD/")
    # Finishing (stitch, validate, publish) is the pipeline's: tests/mts/test_package_cli.py.


@pytest.mark.slow
def test_per_output_refusal_fails_only_that_job(cloud, source_clip):
    plan = cloud.plan("talk-r", upload_source(cloud, source_clip), definitions=("LD", "SD"))
    custom = Definition("XX", 256, 300, 64, "S00000001-999999")  # no such template
    plan.rungs.append(Rung(custom, 256, 144))
    plan.jobs["XX"] = cloud.store.add(Job(new_job_id(), "talk-r", "XX", engine="mts", run_id=plan.run_id))
    jobs = {j.definition: j for j in engine(cloud.settings).submit(plan, cloud.store)}
    assert jobs["XX"].state == JobState.FAIL and jobs["XX"].code == "InvalidParameter.TemplateNotFound"
    assert "TemplateId" in jobs["XX"].message and not jobs["XX"].remote_id
    assert jobs["LD"].state == jobs["SD"].state == JobState.SUBMITTED


@pytest.mark.slow
def test_more_than_thirty_outputs_are_split(cloud, source_clip):
    plan = cloud.plan("talk-w", upload_source(cloud, source_clip), definitions=("LD",))
    for i in range(31):
        d = Definition(f"R{i:02d}", 200 + 2 * i, 300, 64, "S00000001-100010")
        plan.rungs.append(Rung(d, 200 + 2 * i, 128))
        plan.jobs[d.name] = cloud.store.add(Job(new_job_id(), "talk-w", d.name, engine="mts"))
    jobs = engine(cloud.settings).submit(plan, cloud.store)
    assert [len(json.loads(c["Outputs"])) for c in submits(cloud)] == [30, 2]
    assert len(jobs) == 32 and all(j.state == JobState.SUBMITTED for j in jobs)


@pytest.mark.slow
def test_throttling_is_retried_with_backoff_then_reported(cloud, source_clip):
    plan = cloud.plan("talk-t", upload_source(cloud, source_clip), definitions=("LD",))
    cloud.mps.throttle["SubmitJobs"] = 2
    jobs = engine(cloud.settings).submit(plan, cloud.store)
    assert cloud.mps.throttle["SubmitJobs"] == 0 and jobs[0].state == JobState.SUBMITTED

    cloud.mps.throttle["QueryJobList"] = 100
    with pytest.raises(JobError, match="still throttled .*Throttling.User"):
        engine(cloud.settings).query([jobs[0].remote_id])


@pytest.mark.slow
def test_a_lost_submit_answer_is_not_sent_again_but_passing_errors_of_queries_are(cloud, source_clip):
    # SubmitJobs takes no client token: sent again after a lost answer, it made every job twice
    plan = cloud.plan("talk-l", upload_source(cloud, source_clip), definitions=("LD",))
    cloud.mps.lose_answer["SubmitJobs"] = 1
    with pytest.raises(JobError, match="was lost .*may have made the jobs: look in its console"):
        engine(cloud.settings).submit(plan, cloud.store)
    assert len(submits(cloud)) == 1 and len(cloud.mps.jobs) == 1  # one set of jobs on MPS, not two
    plan = cloud.plan("talk-m", upload_source(cloud, source_clip, "talks/m.mp4"), definitions=("LD",))
    [job] = engine(cloud.settings).submit(plan, cloud.store)
    cloud.mps.transient["QueryJobList"] = 2  # a server's passing 500s: a query is asked again
    assert engine(cloud.settings).query([job.remote_id])[job.remote_id] is not None


@pytest.mark.slow
def test_unknown_job_ids_end_as_failed(cloud):
    job = cloud.store.add(Job(new_job_id(), "ghost", "LD", engine="mts", remote_id="f" * 32))
    [ended] = engine(cloud.settings).wait(cloud.store, [job], lambda *a: None)
    assert ended.state == JobState.FAIL and ended.code == "NonExistJob" and "f" * 32 in ended.message


@pytest.mark.slow
def test_cancel_only_while_submitted(cloud, source_clip):
    e = engine(cloud.settings)
    jobs = e.submit(cloud.plan("talk-c", upload_source(cloud, source_clip), definitions=("LD", "SD")), cloud.store)
    e.cancel(jobs[0])
    assert cloud.mps.jobs[jobs[0].remote_id]["State"] == "TranscodeCancelled"
    e.query([jobs[1].remote_id])  # one look: the stand-in moves it to Transcoding
    with pytest.raises(
        JobError,
        match=r"cannot cancel this job \(PermissionDenied.JobInRunning: The job is running.\): MPS cancels only jobs still Submitted",
    ):
        e.cancel(jobs[1])
    assert cloud.mps.jobs[jobs[1].remote_id]["State"] == "Transcoding"


@pytest.mark.slow
def test_a_job_cancelled_in_the_store_is_dropped_by_wait(cloud, source_clip):
    e = engine(cloud.settings)
    jobs = e.submit(cloud.plan("talk-d", upload_source(cloud, source_clip), definitions=("LD",)), cloud.store)
    cloud.store.cancel(jobs[0].job_id)
    [ended] = e.wait(cloud.store, jobs, lambda *a: None)
    assert ended.state == JobState.CANCELLED


@pytest.mark.slow
def test_errors_are_one_clear_sentence_without_the_secret(cloud, source_clip, capfd):
    source = upload_source(cloud, source_clip)
    secret = cloud.settings.mts_access_key_secret

    no_secret = cloud.settings.replace(mts_access_key_secret=None)
    with pytest.raises(ConfigError, match="credentials are missing"):
        engine(no_secret)

    with pytest.raises(ConfigError, match="pipeline not found .*mts_pipeline_id"):
        engine(cloud.settings.replace(mts_pipeline_id="0" * 32)).submit(cloud.plan("e1", source), cloud.store)
    with pytest.raises(ConfigError, match="no MPS pipeline configured"):
        engine(cloud.settings.replace(mts_pipeline_id=None)).submit(cloud.plan("e2", source), cloud.store)

    for changes, code in (
        ({"mts_access_key_secret": "not-the-secret"}, "InvalidAccessKeySecret"),
        ({"mts_access_key_id": "LTAIunknown"}, "InvalidAccessKeyId.NotFound"),
    ):
        with pytest.raises(ConfigError) as err:
            engine(cloud.settings.replace(**changes)).query(["a" * 32])
        assert code in err.value.message and "refused the credentials" in err.value.message
        assert secret not in err.value.message and "not-the-secret" not in err.value.message

    rpc = AliyunRpc(cloud.settings.aliyun_config(), cloud.settings.mts_endpoint, "MPS")
    from aliyunsdkmts.request.v20140618.QueryJobListRequest import QueryJobListRequest

    req = QueryJobListRequest()
    req.set_JobIds(",".join(["a" * 32] * 11))  # more than MPS takes
    with pytest.raises(InputError, match=r"rejected a parameter \(InvalidParameter.ListSizeExceed"):
        rpc.call(req)

    with pytest.raises(InputError, match="oss://in-bucket/missing.mp4 does not exist"):
        engine(cloud.settings).submit(cloud.plan("e3", "oss://in-bucket/missing.mp4"), cloud.store)

    with pytest.raises(HlskitError, match="cannot reach MPS at http://127.0.0.1:9"):
        engine(cloud.settings.replace(mts_endpoint="http://127.0.0.1:9")).query(["a" * 32])
    out, err = capfd.readouterr()
    assert out == err == ""  # nothing but the error itself (the SDK's own error log stays quiet)


@pytest.mark.slow
def test_local_source_is_uploaded_to_the_output_bucket_first(cloud, source_clip):
    plan = cloud.plan("talk-l", str(source_clip), definitions=("LD",))
    engine(cloud.settings).submit(plan, cloud.store)
    assert cloud.oss.get("out-bucket", "hlskit-sources/talk-l/talk.mp4") == source_clip.read_bytes()
    assert json.loads(submits(cloud)[0]["Input"])["Object"] == "hlskit-sources/talk-l/talk.mp4"


@pytest.mark.slow
def test_mns_messages_are_received_deleted_and_followed_by_a_query(cloud, source_clip):
    settings = cloud.settings.replace(mts_mns_queue="mts-standin-queue", mts_mns_endpoint=cloud.mps.url)
    cloud.mps.advance_on_query = False  # like the live service: jobs move on their own, not when asked
    store = RecordingStore(settings.job_db)
    e = engine(settings, mns_poll_every=3600)  # one poll at the start; after that only messages
    jobs = e.submit(cloud.plan("talk-m", upload_source(cloud, source_clip), definitions=("LD", "SD")), store)
    foreign = {"id": "FOREIGN", "body": json.dumps({"JobId": "9" * 32, "State": "Success", "Type": "Transcode"})}
    cloud.mps.messages.append(foreign)

    ended = e.wait(store, jobs, lambda *a: None)
    assert [j.state for j in ended] == [JobState.SUCCESS, JobState.SUCCESS]
    assert all(store.states[j.job_id] == ["Submitted", "Transcoding", "TranscodeSuccess"] for j in jobs)
    both = {j.remote_id for j in jobs}
    queried = [set(c["JobIds"].split(",")) for c in cloud.mps.calls if c["Action"] == "QueryJobList"]
    assert queried == [both, both]  # the first look, then the look the two completion messages asked for
    left = [m for m, _ in cloud.mps.inflight.values()] + cloud.mps.messages
    assert left == [foreign]  # our messages deleted; another store's left for its owner


@pytest.mark.slow
def test_messages_of_jobs_a_poll_saw_end_are_still_consumed(cloud, source_clip):
    settings = cloud.settings.replace(mts_mns_queue="mts-standin-queue", mts_mns_endpoint=cloud.mps.url)
    e = engine(settings, mns_poll_every=0)  # poll every round: the poll sees the end first
    jobs = e.submit(cloud.plan("talk-n", upload_source(cloud, source_clip), definitions=("LD",)), cloud.store)
    [ended] = e.wait(cloud.store, jobs, lambda *a: None)
    assert ended.state == JobState.SUCCESS
    assert not cloud.mps.messages and not cloud.mps.inflight


@pytest.mark.slow
def test_mns_refuses_a_wrong_signature(cloud):
    from hlskit.aliyun.mns import MnsQueue

    with pytest.raises(ConfigError, match="MNS refused receiving .*SignatureDoesNotMatch"):
        MnsQueue(cloud.mps.url, "mts-standin-queue", cloud.settings.mts_access_key_id, "wrong").receive(0)
    with pytest.raises(ConfigError, match="queue nope does not exist"):
        MnsQueue(cloud.mps.url, "nope", cloud.settings.mts_access_key_id, cloud.settings.mts_access_key_secret).receive(
            0
        )


def test_job_messages_parse_keys_in_either_case():
    lower = parse_job_message('{"jobId":"abc","state":"Fail","type":"Transcode","code":"X","msg":"y"}')
    upper = parse_job_message('{"JobId":"abc","State":"Success","Type":"Transcode"}')
    wrapped = parse_job_message(base64.b64encode(b'{"JobId":"abc","State":"Success"}').decode())
    assert lower["jobid"] == upper["jobid"] == wrapped["jobid"] == "abc"
    assert (lower["state"], lower["code"], lower["msg"]) == ("Fail", "X", "y")
    assert parse_job_message("not json") == {}


# --- issue 7: the same options, mapped into MPS's fields ----------------------------------


@pytest.mark.slow
def test_watermarks_clip_and_clear_lead_map_into_outputs(cloud, source_clip, tmp_path):
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    cloud.oss.put("in-bucket", "marks/corner.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
    marks = [
        Watermark("image", "TopRight", 0.05, 0.05, 0.12, image=str(png)),
        Watermark("image", "BottomLeft", 16, 16, 100, image="oss://in-bucket/marks/corner.png"),
        Watermark("text", "TopLeft", 0, 0.03, 0.05, text="Preview ~~~ {definition}"),  # ~~~: "fn5+" in Base64
    ]
    plan = cloud.plan(
        "talk-7",
        upload_source(cloud, source_clip),
        definitions=("LD", "HD"),
        schedule=KeySchedule(clear_lead=1),
        watermarks=marks,
        clip=Clip(90.0, 45.0),
    )
    jobs = engine(cloud.settings).submit(plan, cloud.store)
    assert all(j.state == JobState.SUBMITTED for j in jobs)  # the stand-in accepted every entry

    outputs = json.loads(submits(cloud)[0]["Outputs"])
    for out, rung in zip(outputs, plan.rungs):
        assert out["Clip"] == {"TimeSpan": {"Seek": "90.000", "Duration": "45.000"}}
        assert out["Encryption"]["SkipCnt"] == "1"
        image, pixels, text = out["WaterMarks"]
        assert image == {
            "Type": "Image",
            "ReferPos": "TopRight",
            "Dx": "0.05",
            "Dy": "0.05",
            "Width": "0.12",
            "InputFile": {
                "Bucket": "out-bucket",
                "Location": "oss-cn-shanghai",
                "Object": "hlskit-sources/talk-7/logo.png",
            },
        }
        assert (pixels["Dx"], pixels["Width"], pixels["InputFile"]["Object"]) == ("16", "100", "marks/corner.png")
        tw = text["TextWaterMark"]
        assert base64.b64decode(tw["Content"], validate=True).decode() == f"Preview ~~~ {rung.name}"  # standard
        assert tw["FontSize"] == round(0.05 * rung.height) and tw["Top"] == str(round(0.03 * rung.height))
        assert tw["Left"] == "8" and text["Dx"] == "8"  # MPS's pixel offsets start at 8 (sent "0": refused)
    assert cloud.oss.get("out-bucket", "hlskit-sources/talk-7/logo.png") == png.read_bytes()

    # The stand-in honours SkipCnt like the local engine's clear lead: first segment plain.
    e = engine(cloud.settings)
    e.wait(cloud.store, jobs, lambda *a: None)
    playlist = cloud.oss.get("out-bucket", "hls/talk-7/LD/index.m3u8").decode()
    assert (
        playlist.index("#EXT-X-KEY:METHOD=NONE") < playlist.index("index-00001.ts") < playlist.index("METHOD=AES-128")
    )
    assert cloud.oss.get("out-bucket", "hls/talk-7/LD/index-00001.ts")[0] == 0x47


@pytest.mark.slow
def test_options_mps_cannot_express_are_refused_before_submitting(cloud, source_clip, tmp_path):
    source = upload_source(cloud, source_clip)
    with pytest.raises(InputError, match=r"MPS cuts segments of 1 to 10 s .* pass --segment-duration 10 or less"):
        engine(cloud.settings).submit(cloud.plan("long-segments", source, segment_duration=12), cloud.store)
    small = cloud.plan("small", source, definitions=("LD",))
    small.rungs[0] = dataclasses.replace(small.rungs[0], width=192, height=108)
    with pytest.raises(InputError, match=r"definition LD is 192x108, outside MPS's 128 to 4096 pixels a side"):
        engine(cloud.settings).submit(small, cloud.store)
    assert submits(cloud) == []
    with pytest.raises(InputError, match="single key: drop --rotate-key-every, or use --engine local"):
        check_capabilities(engine(cloud.settings), PackageOptions(rotate_every=2), cloud.settings.key_url, "oss://b/p")
    jpeg = tmp_path / "logo.png"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0 not a png")
    with pytest.raises(InputError, match="is not a PNG image"):
        engine(cloud.settings).submit(
            cloud.plan("r2", source, watermarks=[Watermark("image", image=str(jpeg))]), cloud.store
        )
    assert not submits(cloud)


@pytest.mark.slow
def test_clear_package_sends_no_encryption(cloud, source_clip):
    plan = cloud.plan(
        "talk-p", upload_source(cloud, source_clip), definitions=("LD",), schedule=KeySchedule(encrypt=False)
    )
    engine(cloud.settings).submit(plan, cloud.store)
    assert "Encryption" not in json.loads(submits(cloud)[0]["Outputs"])[0]


@pytest.mark.slow
def test_mns_notification_target_sends_the_event(cloud):
    from hlskit.aliyun.mns import MnsQueue
    from hlskit.notify import parse_target

    settings = cloud.settings.replace(mts_mns_endpoint=cloud.mps.url)
    target = parse_target("mns:mts-standin-queue", settings.notify_config())
    assert target.label == "mns:mts-standin-queue"
    body = json.dumps({"type": "Transcode", "state": "Success", "jobId": "j1", "contentId": "c1"}).encode()
    target.deliver({"id": "e1"}, body, 1)
    [msg] = MnsQueue.from_config(settings.mns_config(), "mts-standin-queue").receive(0)
    assert msg.raw == body.decode() and msg.job_id == "j1" and msg.state == "Success"
