"""The SubmitJobs request an mts plan becomes (MPS's field names), built from a hand-made plan with
no network: one output per job, encryption with our data key, Video overrides from the ladder,
watermarks and clip; and the refusals that need no request."""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.keys import KeySchedule
from hlskit.domain.ladder import Definition, Rung
from hlskit.domain.plan import Clip, Watermark
from hlskit.engines.mts_formats import check_mts_plan, download_rung, mts_rungs
from hlskit.engines.mts_outputs import (
    MAX_BUFSIZE,
    MIN_BUFSIZE,
    build_submission,
    check_submission,
    mp4_template,
    oss_file,
    video,
    watermark,
)
from tests.plans import plan, with_rung

SOURCE = "oss://in-bucket/videos/talk 1.mp4"
STAGING = "oss://out-bucket/hls/talk/run000000001"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mts_plan(definitions=("LD", "HD"), *, codecs=("h264",), mp4=False, rungs=None, **kw):
    """A plan as the planner makes it for the mts engine: H.264 HLS rungs, downloads per codec."""
    where = {"staging": STAGING, "out": "oss://out-bucket/hls/talk", "engine": "mts"}
    if rungs is None:
        rungs, downloads = mts_rungs(plan(definitions).rungs, codecs, mp4)
    else:
        downloads = []
    p = plan(definitions, rungs=rungs, **where, **kw)
    for r in downloads:
        job = plan(rungs=[r], **where).jobs[r.name]
        job.definition = f"{r.name}.mp4"
        p.mp4_jobs[r.name] = job
    return p


def test_one_hls_output_per_definition_writing_under_the_run_prefix():
    p = mts_plan()
    sub = build_submission(p, SOURCE, [], "oss-cn-shanghai")
    assert sub.input == {"Bucket": "in-bucket", "Location": "oss-cn-shanghai", "Object": "videos/talk%201.mp4"}
    assert sub.output_bucket == "out-bucket" and [j.definition for j in sub.jobs] == ["LD", "HD"]
    assert [unquote(o["OutputObject"]) for o in sub.outputs] == [
        "hls/talk/run000000001/LD/index.m3u8",
        "hls/talk/run000000001/HD/index.m3u8",
    ]
    assert [j.output for j in sub.jobs] == [f"{STAGING}/LD/index.m3u8", f"{STAGING}/HD/index.m3u8"]
    for out, job in zip(sub.outputs, sub.jobs):
        assert out["Container"] == {"Format": "m3u8"} and out["MuxConfig"] == {"Segment": {"Duration": "4"}}
        assert out["TemplateId"].startswith("S00000001-1000")
        assert json.loads(out["UserData"]) == {"contentId": "talk", "definition": job.definition}
        assert out["UserData"] == job.user_data


def test_hls_outputs_carry_our_data_key_base64_url_and_the_clear_lead():
    p = mts_plan(schedule=KeySchedule(clear_lead=2))
    sub = build_submission(p, SOURCE, [], "oss-cn-shanghai")
    key = p.keys[0]
    enc = sub.outputs[0]["Encryption"]
    assert enc["Type"] == "hls-aes-128" and enc["KeyType"] == "Base64" and enc["SkipCnt"] == "2"
    assert unb64(enc["Key"]) == key.key and "=" not in enc["Key"]
    assert unb64(enc["KeyUri"]).decode() == f"https://keys.example.com/keys/talk/{key.key_id}"
    assert all(o["Encryption"] == enc for o in sub.outputs)  # one key per package on MPS
    assert len(p.keys) == 1


def test_a_clear_plan_sends_no_encryption_and_makes_no_key():
    p = mts_plan(schedule=KeySchedule(encrypt=False))
    sub = build_submission(p, SOURCE, [], "oss-cn-shanghai")
    assert all("Encryption" not in o for o in sub.outputs) and p.keys == []


def test_mp4_downloads_are_outputs_of_their_own_clear_with_their_mp4_template():
    p = mts_plan(("LD", "HD"), codecs=("h264", "hevc"), mp4=True)
    sub = build_submission(p, SOURCE, [], "oss-cn-shanghai")
    assert [j.definition for j in sub.jobs] == ["LD", "HD", "LD.mp4", "HD.mp4", "LD-hevc.mp4", "HD-hevc.mp4"]
    mp4s = sub.outputs[2:]
    assert [unquote(o["OutputObject"]).rsplit("/", 2)[1:] for o in mp4s] == [
        ["downloads", "LD.mp4"],
        ["downloads", "HD.mp4"],
        ["downloads", "LD-hevc.mp4"],
        ["downloads", "HD-hevc.mp4"],
    ]
    assert [o["Container"]["Format"] for o in mp4s] == ["mp4"] * 4
    assert [o["TemplateId"] for o in mp4s] == ["S00000001-200010", "S00000001-200030"] * 2
    assert [o["Video"]["Codec"] for o in mp4s] == ["H.264", "H.264", "H.265", "H.265"]
    assert all("Encryption" not in o and "MuxConfig" not in o for o in mp4s)
    assert json.loads(mp4s[3]["UserData"])["container"] == "mp4"


def test_video_overrides_size_gop_and_bitrate_or_a_capped_crf():
    p = mts_plan(("LD", "HD"))
    ld, hd = p.rungs
    assert video(p, ld) == {"Codec": "H.264", "Width": "640", "Height": "360", "Gop": "4s", "Bitrate": "400"}
    capped = video(p, hd, crf=23)
    assert (capped["Crf"], capped["Maxrate"], capped["Bufsize"]) == ("23", "2700", "3600") and "Bitrate" not in capped
    with_rung(p, "HD", crf=27)
    assert video(p, p.rungs[1], crf=23)["Crf"] == "27"  # the rung's per-title CRF wins


@pytest.mark.parametrize("kbps, bufsize", [(100, MIN_BUFSIZE), (1800, 3600), (90000, MAX_BUFSIZE)])
def test_bufsize_stays_within_mps_bounds(kbps, bufsize):
    p = mts_plan(("LD",))
    r = Rung(Definition("X", 640, kbps, 64, "T"), 640, 360)
    assert video(p, r, crf=20)["Bufsize"] == str(bufsize)


def test_watermarks_and_clip_reach_every_output():
    text = Watermark("text", refer_pos="BottomLeft", dx=0.05, dy=12, width=0.05, text="Preview {definition}")
    image = Watermark(
        "image", refer_pos="TopRight", dx=0.02, dy=0, width=0.125, image="oss://out-bucket/marks/logo.png"
    )
    p = mts_plan(("LD", "HD"), clip=Clip(90.5, 30.0))
    sub = build_submission(p, SOURCE, [image, text], "oss-cn-shanghai")
    for out, rung in zip(sub.outputs, p.rungs):
        assert out["Clip"] == {"TimeSpan": {"Seek": "90.500", "Duration": "30.000"}}
        img, txt = out["WaterMarks"]
        assert img == {
            "ReferPos": "TopRight",
            "Dx": "0.02",
            "Dy": "8",  # 0 pixels: MPS's integer offsets are [8, 4096]
            "Type": "Image",
            "InputFile": {"Bucket": "out-bucket", "Location": "oss-cn-shanghai", "Object": "marks/logo.png"},
            "Width": "0.125",
        }
        t = txt["TextWaterMark"]
        assert base64.b64decode(t["Content"], validate=True).decode() == f"Preview {rung.name}"
        assert (
            t["FontSize"] == round(0.05 * rung.height)
            and t["Left"] == str(round(0.05 * rung.width))
            and t["Top"] == "12"
        )


def test_a_clip_without_duration_runs_to_the_end():
    sub = build_submission(mts_plan(("LD",), clip=Clip(3.0)), SOURCE, [], "oss-cn-shanghai")
    assert sub.outputs[0]["Clip"] == {"TimeSpan": {"Seek": "3.000"}}


def test_pixel_watermark_values_stay_whole_pixels():
    w = Watermark("image", dx=10, dy=0, width=64, image="oss://b/w.png")
    entry = watermark(w, mts_plan(("LD",)).rungs[0], "oss-cn-shanghai")
    assert (entry["Dx"], entry["Dy"], entry["Width"]) == ("10", "8", "64")  # pixel offsets start at 8


@pytest.mark.parametrize(
    "template, mp4",
    [
        ("S00000001-100010", "S00000001-200010"),
        ("S00000001-100070", "S00000001-200070"),
        ("S00000001-100080", "S00000001-100080"),  # not a static M3U8 preset: the rung's own
        ("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
    ],
)
def test_the_mp4_twin_of_a_static_m3u8_preset(template, mp4):
    assert mp4_template(template) == mp4


def test_object_keys_are_url_encoded_and_bad_oss_uris_refused():
    assert oss_file("oss://b/a dir/ü.mp4", "oss-cn-beijing") == {
        "Bucket": "b",
        "Location": "oss-cn-beijing",
        "Object": "a%20dir/%C3%BC.mp4",
    }
    with pytest.raises(InputError, match="is not an OSS location"):
        oss_file("/local/file.mp4", "x")
    with pytest.raises(InputError, match="names no bucket"):
        oss_file("oss:///key", "x")


def test_a_rung_without_a_template_id_is_refused_before_any_request():
    p = mts_plan(("LD",), rungs=[Rung(Definition("custom", 640, 500, 64), 640, 360)])
    with pytest.raises(InputError, match="definition custom has no MPS template id: add template_id"):
        check_submission(p)


def test_user_data_longer_than_mps_allows_is_refused():
    p = mts_plan(("LD",))
    p.user_data = {"note": "x" * 1100}
    with pytest.raises(InputError, match="exceeds MPS's 1024 bytes"):
        build_submission(p, SOURCE, [], "oss-cn-shanghai")


def test_an_hevc_download_rung_is_rebuilt_from_its_h264_rung():
    p = mts_plan(("LD", "HD"), codecs=("h264", "hevc"), mp4=True)
    hevc = download_rung(p, "HD-hevc")
    assert (hevc.codec, hevc.width, hevc.height, hevc.definition.video_kbps) == ("hevc", 1280, 720, 1170)
    assert download_rung(p, "LD") is p.rungs[0]
    with pytest.raises(InputError, match="MP4 download FHD-hevc names no definition"):
        download_rung(p, "FHD-hevc")
    with pytest.raises(InputError, match="names no definition"):
        download_rung(p, "HD-vp9")


def test_a_plan_that_puts_hevc_or_av1_into_hls_is_refused_by_the_engine_guard():
    hevc_hls = plan(("LD",), codecs=("h264", "hevc"), fmt="fmp4", staging=STAGING, out="oss://out-bucket/hls/talk")
    with pytest.raises(InputError, match="^HEVC in HLS needs fMP4 segments"):
        check_mts_plan(hevc_hls)
    av1 = plan(("LD",), codecs=("h264", "av1"), fmt="fmp4")
    with pytest.raises(InputError, match="^MPS does not encode AV1"):
        check_mts_plan(av1)
    check_mts_plan(mts_plan(("LD",), codecs=("h264", "hevc"), mp4=True))  # HEVC as downloads: fine
