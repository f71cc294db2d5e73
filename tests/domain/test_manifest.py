"""The typed manifest: every manifest written so far reads, a rewrite keeps what it does not know,
and the values readers ask for come from the right fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hlskit.domain.keys import KeySchedule
from hlskit.domain.manifest import (
    VERSION,
    DefinitionRecord,
    DownloadRecord,
    Manifest,
    build_manifest,
    download_uri,
    media_dir,
    playlist_of,
)
from hlskit.domain.outputs import DefinitionOutput, DownloadOutput
from hlskit.domain.plan import Clip
from hlskit.domain.runs import JobState
from tests.plans import plan

DATA = Path(__file__).resolve().parents[1] / "data" / "manifests"
V1_LOCAL = DATA / "v1-local-2026-11-24.json"
V1_MTS = DATA / "v1-mts-oss-2026-12-06.json"


# --- manifests written by earlier versions -----------------------------------------------------


def test_the_first_v1_manifest_reads_with_defaults_for_what_it_lacked():
    m = Manifest.read(V1_LOCAL)
    assert m.version == 1 and m.content_id == "talk" and m.engine == "local"
    # Fields added after it was written take their defaults.
    assert (m.run_id, m.format, m.media_dir, m.start_definition) == ("", "ts", "", "lowest")
    assert m.downloads == [] and m.thumbnails is None and m.warnings == [] and m.extra == {}
    assert [d.codec for d in m.definitions] == ["h264", "h264"]
    assert m.encryption.method == "AES-128" and m.encryption.rotate_every == 2 and m.encryption.clear_lead == 1
    assert m.keys[0].iv == "0x000102030405060708090a0b0c0d0e0f" and m.keys[1].first_segment is None


def test_the_first_v1_manifest_answers_what_readers_ask():
    m = Manifest.read(V1_LOCAL)
    assert [d.name for d in m.done()] == ["LD"]
    assert m.failed_notes() == ["HD: TranscodeFail"]
    assert m.key_ids() == {"3f2a9c1d00b14e6a", "8c1e44aa09d2f301"}
    assert m.source_path() == "/srv/videos/talk.mp4"
    assert m.clip_span() == (1.5, 4.5)
    assert m.master is not None and m.master.variants[0].iframe == {
        "uri": "LD/iframes.m3u8",
        "bandwidth": 98000,
        "average_bandwidth": 41000,
    }


def test_validation_counts_of_the_first_manifests_become_findings_of_that_number():
    """The first schema-1 manifests wrote {"must_fix": 0, "should_fix": 1}: numbers, not lists."""
    v = Manifest.read(V1_LOCAL).validation
    assert v is not None and v.must_fix == [] and len(v.should_fix) == 1
    assert "not recorded" in v.should_fix[0]


def test_an_mts_v1_manifest_on_oss_reads_media_dir_downloads_and_quality():
    m = Manifest.read(V1_MTS)
    assert m.version == 1 and m.media_dir == "5e0c1a9b7f32/" and m.start_definition == "SD"
    assert [k.iv for k in m.keys] == [None]  # MPS takes no IV
    assert m.downloads == [
        DownloadRecord(
            "SD", "33333333333333333333333333333333", "TranscodeSuccess", "5e0c1a9b7f32/downloads/SD.mp4", 61865984
        )
    ]
    assert m.source_path() is None and m.source == {"uri": "oss://in-bucket/videos/lecture-7.mp4"}
    assert m.quality == {"metric": "vmaf", "definitions": {"LD": {"vmaf": 81.2}, "SD": {"vmaf": 90.4}}}
    assert m.validation is not None and m.validation.should_fix == ["AHS-1.21: frame rates differ between variants"]
    assert [v.definition for v in m.master.variants] == ["SD", "LD"]


@pytest.mark.parametrize("path", [V1_LOCAL, V1_MTS], ids=["v1-local", "v1-mts"])
def test_a_v1_manifest_rewritten_is_version_2_and_reads_back_the_same(path):
    m = Manifest.read(path)
    text = m.dumps()
    assert json.loads(text)["hlskit"] == VERSION == 2
    again = Manifest.loads(text)
    assert again.version == 2 and again.to_dict() == m.to_dict()
    assert Manifest.loads(again.dumps()) == again


@pytest.mark.parametrize("path", [V1_LOCAL, V1_MTS], ids=["v1-local", "v1-mts"])
def test_every_field_a_v1_manifest_had_survives_a_rewrite(path):
    """Nothing the old writer recorded is dropped (the validation counts excepted: now lists)."""
    old = json.loads(path.read_text())
    new = Manifest.read(path).to_dict()
    for key, value in old.items():
        if key in ("hlskit", "validation"):
            continue
        if key == "definitions":
            for before, after in zip(value, new[key]):
                assert {k: after[k] for k in before} == before
        elif key in ("master", "downloads", "keys"):
            assert _contains(new[key], value), key
        else:
            assert new[key] == value, key


def _contains(new, old) -> bool:
    """Every key/value of ``old`` is in ``new`` (new may have more keys with their defaults)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(k in new and _contains(new[k], v) for k, v in old.items())
    if isinstance(old, list):
        return isinstance(new, list) and len(new) == len(old) and all(_contains(n, o) for n, o in zip(new, old))
    return new == old


# --- newer and broken manifests ------------------------------------------------------------------


def test_keys_a_newer_hlskit_wrote_are_kept_through_a_rewrite():
    data = json.loads(V1_MTS.read_text())
    data.update(hlskit=3, audio_renditions=[{"group": "aud", "language": "fr"}], signature="abc")
    m = Manifest.from_dict(data)
    assert m.version == 3 and m.extra == {"audio_renditions": [{"group": "aud", "language": "fr"}], "signature": "abc"}
    out = m.to_dict()
    assert out["audio_renditions"] == [{"group": "aud", "language": "fr"}] and out["signature"] == "abc"


def test_unknown_fields_inside_records_are_ignored_not_fatal():
    data = json.loads(V1_MTS.read_text())
    data["definitions"][0]["hdr"] = "PQ"
    data["keys"][0]["kms"] = True
    m = Manifest.from_dict(data)
    assert m.definitions[0].name == "LD" and m.keys[0].key_id == "a1b2c3d4e5f60718"


@pytest.mark.parametrize(
    "data, words",
    [
        ([], "no content_id"),
        ({"definitions": []}, "no content_id"),
        ({"content_id": 7}, "no content_id"),
        ({"content_id": "c", "definitions": {}}, "definitions is not a list"),
        ({"content_id": "c", "definitions": ["LD"]}, "DefinitionRecord entry is not an object"),
        ({"content_id": "c", "keys": [{"uri": "x"}]}, "not an hlskit manifest"),  # key_id is required
        ({"content_id": "c", "encryption": "AES-128"}, "Encryption entry is not an object"),
        ({"content_id": "c", "validation": {"must_fix": "none"}}, "validation must_fix is not a list"),
    ],
)
def test_what_is_not_a_manifest_is_one_value_error(data, words):
    with pytest.raises(ValueError, match=words):
        Manifest.from_dict(data)


def test_text_that_is_not_json_or_not_utf8_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^not valid JSON \("):
        Manifest.loads("{'content_id': 'c'}")
    path = tmp_path / "hlskit.json"
    path.write_bytes(b'{"content_id": "\xff"}')
    with pytest.raises(ValueError, match="^not text$"):
        Manifest.read(path)
    with pytest.raises(OSError):
        Manifest.read(tmp_path / "missing.json")


# --- written from a plan, then brought up to date -----------------------------------------------


def _outputs(p, segments=3) -> dict[str, DefinitionOutput]:
    return {
        r.name: DefinitionOutput(f"{r.name}/index.m3u8", segments, 11.5, 1000 * (i + 1), 4, ())
        for i, r in enumerate(p.rungs)
    }


def test_build_manifest_records_definitions_keys_and_where_each_key_starts():
    p = plan(("LD", "HD"), schedule=KeySchedule(rotate_every=2, clear_lead=1), clip=Clip(1.0, 10.0))
    keys = [p.key(0), p.key(1)]
    jobs = list(p.jobs.values())
    jobs[0].state, jobs[1].state = JobState.SUCCESS, JobState.FAIL
    jobs[1].code, jobs[1].message = "TranscodeFail", "FFmpeg exited with status 1"
    m = build_manifest(p, jobs, _outputs(p, segments=5), engine="local")
    assert m.version == VERSION and m.run_id == p.run_id and m.engine == "local"
    assert [(d.name, d.state, d.playlist) for d in m.definitions] == [
        ("LD", "TranscodeSuccess", "LD/index.m3u8"),
        ("HD", "TranscodeFail", None),
    ]
    assert m.definitions[1].message == "FFmpeg exited with status 1" and m.definitions[1].bytes == 2000
    # Segment 0 is clear, key 0 covers 1-2, key 1 covers 3-4 (RFC 8216 §4.3.2.4: a new EXT-X-KEY each time).
    assert [(k.key_id, k.first_segment, k.iv) for k in m.keys] == [
        (keys[0].key_id, 1, keys[0].iv_hex),
        (keys[1].key_id, 3, keys[1].iv_hex),
    ]
    assert m.keys[0].uri == f"https://keys.example.com/keys/talk/{keys[0].key_id}"
    assert (m.encryption.method, m.encryption.rotate_every, m.encryption.clear_lead) == ("AES-128", 2, 1)
    assert m.clip_span() == (1.0, 10.0) and m.source["video"]["display_width"] == 1280
    text = m.dumps()  # the manifest names keys, never holds them
    assert all(k.key.hex() not in text and k.key.hex().upper() not in text for k in keys)


def test_an_engine_without_explicit_ivs_leaves_them_out_and_a_clear_plan_says_none():
    p = plan(("LD",))
    p.key(0)
    jobs = list(p.jobs.values())
    assert build_manifest(p, jobs, engine="mts", explicit_iv=False).keys[0].iv is None
    clear = plan(("LD",), schedule=KeySchedule(encrypt=False))
    m = build_manifest(clear, list(clear.jobs.values()), engine="local")
    assert m.encryption.method == "NONE" and m.keys == []


def test_on_oss_definitions_and_downloads_live_under_the_run_prefix():
    p = plan(("LD", "SD"), mp4=True, staging="oss://out/hls/talk/run000000001", out="oss://out/hls/talk")
    assert media_dir(p) == "run000000001/" and playlist_of(p, "SD") == "run000000001/SD/index.m3u8"
    jobs = p.all_jobs()
    for j in jobs:
        j.state = JobState.SUCCESS
    p.mp4_jobs["LD"].state = JobState.FAIL
    m = build_manifest(p, jobs, downloads={"SD": DownloadOutput(4096, duration=11.9)}, engine="mts")
    assert [d.playlist for d in m.definitions] == ["run000000001/LD/index.m3u8", "run000000001/SD/index.m3u8"]
    # Each download is a job of its own (MPS: one output per job); its URI is the one rule's (download_uri).
    assert [(d.name, d.state, d.uri, d.bytes, d.duration) for d in m.downloads] == [
        ("LD", "TranscodeFail", None, 0, None),
        ("SD", "TranscodeSuccess", "run000000001/downloads/SD.mp4", 4096, 11.9),
    ]
    assert download_uri("", "HD-hevc") == "downloads/HD-hevc.mp4"
    assert media_dir(plan(staging="/out/.talk.partial-9", out="/out/talk")) == ""


def test_refresh_brings_a_submit_time_manifest_up_to_the_jobs_final_states():
    p = plan(("LD", "SD"), mp4=True, staging="oss://out/hls/talk/run000000001", out="oss://out/hls/talk")
    jobs = p.all_jobs()
    m = Manifest.loads(build_manifest(p, jobs, engine="mts").dumps())  # as `hlskit status --wait` reads it
    assert all(d.state == "Submitted" and d.playlist is None for d in m.definitions)
    jobs[0].state = JobState.SUCCESS
    jobs[1].state, jobs[1].code, jobs[1].message = JobState.FAIL, "InvalidParameter", "bad template"
    jobs[2].state = JobState.SUCCESS  # LD.mp4
    m.refresh(jobs)
    assert [(d.state, d.code, d.playlist) for d in m.definitions] == [
        ("TranscodeSuccess", "", "run000000001/LD/index.m3u8"),
        ("TranscodeFail", "InvalidParameter", None),
    ]
    assert [(d.name, d.state, d.uri) for d in m.downloads] == [
        ("LD", "TranscodeSuccess", "run000000001/downloads/LD.mp4"),
        ("SD", "Submitted", None),
    ]
    assert [d.name for d in m.done()] == ["LD"] and m.failed_notes() == ["SD: TranscodeFail"]


def test_refresh_ignores_jobs_of_another_run_and_record_downloads_fills_measures():
    p = plan(("LD",), mp4=True)
    m = build_manifest(p, p.all_jobs(), engine="local")
    stranger = plan(("LD",)).jobs["LD"]
    stranger.state = JobState.SUCCESS
    m.refresh([stranger])
    assert m.definitions[0].state == "Submitted"
    m.record_downloads({"LD": DownloadOutput(123, "elsewhere/LD.mp4", 9.5), "HD": DownloadOutput(1)})
    assert (m.downloads[0].bytes, m.downloads[0].uri, m.downloads[0].duration) == (123, "elsewhere/LD.mp4", 9.5)


def test_a_definition_record_succeeds_only_as_transcode_success():
    assert DefinitionRecord("LD", state="TranscodeSuccess").succeeded
    assert not DefinitionRecord("LD", state="Transcoding").succeeded
    m = Manifest("c", definitions=[DefinitionRecord("LD", state="TranscodeSuccess", playlist=None)])
    assert m.done() == []  # succeeded but nothing to play: not done
