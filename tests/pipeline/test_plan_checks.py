"""What the planner refuses before anything is created, each in one sentence: options, what the
engine cannot make (naming an engine that can), the start definition, the output folder."""

from __future__ import annotations

import os
import re

import pytest

from hlskit.domain.configs import FFmpegConfig, MpsConfig
from hlskit.domain.errors import InputError
from hlskit.domain.plan import PackageOptions, Watermark
from hlskit.domain.settings import Settings
from hlskit.engines.local import LocalEngine
from hlskit.engines.mts import MtsEngine
from hlskit.pipeline.plan import (
    _locations,
    check_capabilities,
    check_options,
    check_out_folder,
    default_content_id,
    start_definition,
)

LOCAL, MTS = LocalEngine(FFmpegConfig()), MtsEngine(MpsConfig())


def refusal(call) -> str:
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.exit_code == 2 and "\n" not in caught.value.message
    return caught.value.message


def test_options_fall_back_to_the_settings(tmp_path):
    s = Settings(home=tmp_path, segment_duration=6, key_url="https://k.example/keys")
    assert check_options(PackageOptions(), s) == (6, "https://k.example/keys")
    assert check_options(PackageOptions(segment_duration=2, key_url="/keys"), s) == (2, "/keys")


@pytest.mark.parametrize(
    "options, sentence",
    [
        (
            PackageOptions(segment_duration=0),
            "--segment-duration must be a whole number of seconds from 1 to 60, got 0.",
        ),
        (
            PackageOptions(segment_duration=61),
            "--segment-duration must be a whole number of seconds from 1 to 60, got 61.",
        ),
        (
            PackageOptions(segment_duration=True),
            "--segment-duration must be a whole number of seconds from 1 to 60, got True.",
        ),
        (PackageOptions(rotate_every=0), "--rotate-key-every must be a whole number of segments, 1 or more, got 0."),
        (PackageOptions(clear_lead=-1), "--clear-lead must be a whole number of segments, 0 or more, got -1."),
        (
            PackageOptions(given_key=b"k" * 16, encrypt=False),
            "--key-file gives a key but --no-encrypt writes clear segments: pass only one.",
        ),
        (
            PackageOptions(given_key=b"k" * 16, rotate_every=2),
            "--rotate-key-every makes new keys but --key-file gives one key: pass only one.",
        ),
        (
            PackageOptions(given_key=b"k" * 15),
            "a given key and its IV must be 16 bytes each: give 32 hex characters for each.",
        ),
        (
            PackageOptions(given_key=b"k" * 16, given_iv=b"i" * 8),
            "a given key and its IV must be 16 bytes each: give 32 hex characters for each.",
        ),
        (PackageOptions(content_id="a/b"), "content id 'a/b' is not valid"),
    ],
)
def test_bad_options_are_one_sentence(tmp_path, options, sentence):
    assert refusal(lambda: check_options(options, Settings(home=tmp_path))).startswith(sentence)


@pytest.mark.parametrize("key_url", ["ftp://k/keys", "keys", "//cdn.example/keys", "http://", "/keys with space", ""])
def test_a_key_url_must_be_http_or_root_relative(tmp_path, key_url):
    message = refusal(lambda: check_options(PackageOptions(key_url=key_url), Settings(home=tmp_path, key_url="")))
    assert message.startswith(
        "--key-url must be an http(s) URL such as http://127.0.0.1:8000/keys or a root-relative path"
    )


def test_a_clear_package_takes_any_key_url_and_kms_refuses_a_given_key(tmp_path):
    assert check_options(PackageOptions(encrypt=False, key_url="anything"), Settings(home=tmp_path))[1] == "anything"
    kms = Settings(home=tmp_path, mts_kms_key_id="kms-1")
    assert "cannot be wrapped by KMS" in refusal(lambda: check_options(PackageOptions(given_key=b"k" * 16), kms))


def test_a_missing_local_watermark_is_refused_but_an_oss_one_is_left_to_mps(tmp_path):
    missing = PackageOptions(watermarks=[Watermark("image", image=str(tmp_path / "logo.png"))])
    assert refusal(lambda: check_options(missing, Settings(home=tmp_path))) == (
        f"watermark image {tmp_path / 'logo.png'} does not exist: check the path."
    )
    remote = PackageOptions(watermarks=[Watermark("image", image="oss://b/logo.png")])
    check_options(remote, Settings(home=tmp_path))


def test_each_engine_is_refused_what_it_cannot_make_with_the_engine_that_can():
    enc = PackageOptions()
    assert refusal(lambda: check_capabilities(LOCAL, enc, "https://k/keys", "oss://b/p")) == (
        "the local engine writes to a folder: give --out DIR, or use --engine mts for an oss:// output."
    )
    assert refusal(lambda: check_capabilities(MTS, enc, "https://k/keys", "/srv/out")) == (
        "the mts engine writes to OSS: give --out oss://bucket/prefix/."
    )
    assert refusal(lambda: check_capabilities(MTS, enc, "/keys", "oss://b/p")) == (
        "the mts engine needs an absolute --key-url, got '/keys': give one such as https://keys.example.com/keys."
    )
    assert refusal(lambda: check_capabilities(MTS, PackageOptions(rotate_every=3), "https://k/keys", "oss://b/p")) == (
        "the mts engine encrypts each definition with a single key: drop --rotate-key-every, or use --engine local or --engine celery."
    )


def test_what_each_engine_can_make_passes():
    check_capabilities(LOCAL, PackageOptions(rotate_every=2), "/keys", "/srv/out")
    check_capabilities(MTS, PackageOptions(), "https://k/keys", "oss://b/p")
    # A clear package has no key URL to check and nothing to rotate.
    check_capabilities(MTS, PackageOptions(encrypt=False, rotate_every=2), "/keys", "oss://b/p")


@pytest.mark.parametrize(
    "asked, setting, names, start",
    [
        (None, "lowest", ["LD", "SD", "HD"], "lowest"),
        ("hd", "lowest", ["LD", "SD", "HD"], "HD"),  # any case, the ladder's spelling
        (None, "FHD", ["LD", "SD"], "lowest"),  # a setting falls back where the ladder lacks it
        (None, "SD", ["LD", "SD"], "SD"),
        ("LOWEST", "HD", ["LD", "HD"], "lowest"),
        ("", "HD", ["LD", "HD"], "lowest"),
    ],
)
def test_the_start_definition(tmp_path, asked, setting, names, start):
    s = Settings(home=tmp_path, start_definition=setting)
    assert start_definition(PackageOptions(start_definition=asked), s, names) == start


def test_a_start_definition_outside_the_ladder_names_the_ladder(tmp_path):
    message = refusal(
        lambda: start_definition(PackageOptions(start_definition="FHD"), Settings(home=tmp_path), ["LD", "SD"])
    )
    assert (
        message
        == "--start-definition FHD is not a definition of this package's ladder (LD, SD): give one of them or lowest."
    )


def test_the_out_folder_must_be_a_folder_we_can_write(tmp_path):
    check_out_folder(str(tmp_path / "new" / "deeper"))  # created later: its existing parent is checked
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert (
        refusal(lambda: check_out_folder(str(afile)))
        == f"--out {afile} is a file, not a folder: give a folder path (it is created if missing)."
    )
    under = afile / "sub"
    assert f"lies under {afile}, which is a file" in refusal(lambda: check_out_folder(str(under)))
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "source, stem",
    [
        ("/v/My Talk (final).mp4", "my-talk-final"),
        ("/v/__.mov", "video"),
        ("oss://b/a/Lecture_7.mkv", "lecture-7"),
        ("/v/" + "x" * 60 + ".mp4", "x" * 40),
    ],
)
def test_a_default_content_id_is_the_file_stem_plus_a_random_suffix(source, stem):
    cid = default_content_id(source)
    assert re.fullmatch(re.escape(stem) + r"-[0-9a-f]{6}", cid) and cid != default_content_id(source)


def test_a_local_run_stages_beside_the_package_and_an_oss_run_under_its_own_prefix(tmp_path):
    final, staging = _locations(str(tmp_path / "out"), "talk", "run1")
    assert final == str(tmp_path / "out" / "talk")
    assert staging == str(tmp_path / "out" / f".talk.partial-{os.getpid()}")
    assert _locations("oss://b/hls/", "talk", "run1") == ("oss://b/hls/talk", "oss://b/hls/talk/run1")
