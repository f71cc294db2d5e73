"""The engine registry and what each engine declares it can make; the planning hooks that refuse
what it cannot. No engine runs here: capabilities are read without credentials or FFmpeg."""

from __future__ import annotations

import pytest

from hlskit.domain.configs import FFmpegConfig, MpsConfig
from hlskit.domain.errors import InputError
from hlskit.domain.settings import Settings
from hlskit.engines import ENGINES, capabilities, engines_where, get_engine
from hlskit.engines.base import ABSOLUTE, FOLDER, OSS, ROOT_RELATIVE, Engine
from hlskit.engines.local import LocalEngine
from hlskit.engines.mts import MtsEngine
from tests.plans import plan


def test_the_registry_names_each_engine_once_by_its_own_name():
    assert set(ENGINES) == {"local", "mts", "celery"}
    for name, (cls, _) in ENGINES.items():
        assert cls.name == name and issubclass(cls, Engine) and capabilities(name) is cls.capabilities


def test_the_local_engine_declares_a_folder_every_codec_rotation_ivs_and_thumbnails():
    c = capabilities("local")
    assert c.formats == ("ts", "fmp4") and c.codecs == ("h264", "hevc", "av1")
    assert c.download_codecs == ("h264", "hevc", "av1") and c.outputs == (FOLDER,)
    assert set(c.key_urls) == {ABSOLUTE, ROOT_RELATIVE}
    assert (c.key_rotation, c.explicit_iv, c.thumbnails, c.detached, c.cancel) == (True, True, True, False, "run")


def test_the_mts_engine_declares_what_mps_does():
    c = capabilities("mts")
    assert c.formats == ("ts",) and c.codecs == ("h264",) and c.download_codecs == ("h264", "hevc")
    assert c.outputs == (OSS,) and c.key_urls == (ABSOLUTE,)
    assert (c.key_rotation, c.explicit_iv, c.thumbnails, c.detached, c.cancel) == (False, False, False, True, "queued")


def test_the_celery_engine_declares_a_shared_folder_detached_runs_and_audio_only_as_renditions():
    c = capabilities("celery")
    assert c.formats == ("ts", "fmp4") and c.codecs == ("h264", "hevc", "av1") and c.outputs == (FOLDER,)
    assert (c.key_rotation, c.detached, c.cancel, c.muxed_audio) == (True, True, "run", False)


def test_engines_where_finds_engines_by_capability():
    assert engines_where(lambda c: OSS in c.outputs) == ["mts"]
    assert engines_where(lambda c: c.key_rotation) == ["local", "celery"]
    assert engines_where(lambda c: c.detached) == ["mts", "celery"]
    assert engines_where(lambda c: False) == []
    assert sorted(engines_where(lambda c: "h264" in c.codecs)) == ["celery", "local", "mts"]


def test_an_unknown_engine_is_one_sentence_listing_the_known_ones(tmp_path):
    for call in (lambda: capabilities("k8s"), lambda: get_engine("k8s", Settings(home=tmp_path))):
        with pytest.raises(InputError) as caught:
            call()
        assert caught.value.message == "unknown engine 'k8s': use --engine local, --engine mts or --engine celery."


def test_get_engine_builds_each_engine_from_its_narrow_config(tmp_path):
    s = Settings(home=tmp_path, x264_preset="faster", mts_pipeline_id="pipe-9", mts_region="cn-beijing")
    local, mts = get_engine("local", s), get_engine("mts", s)
    assert isinstance(local, LocalEngine) and local.config == s.ffmpeg_config()
    assert isinstance(mts, MtsEngine) and mts.config == s.mps_config() and mts.config.pipeline_id == "pipe-9"


def test_the_local_engine_refuses_a_bad_preset_or_crf_when_built(tmp_path):
    with pytest.raises(InputError, match="--preset must be one of ultrafast"):
        LocalEngine(FFmpegConfig(x264_preset="turbo"))
    with pytest.raises(InputError, match="--crf must be a whole number from 0 to 51"):
        get_engine("local", Settings(home=tmp_path, rate_control="capped-crf", crf=60))


@pytest.mark.parametrize(
    "option, codecs, fmt", [(None, ("h264",), "ts"), ("fmp4", ("h264",), "fmp4"), (None, ("h264", "av1"), "fmp4")]
)
def test_local_format_choice_is_the_domain_rule(option, codecs, fmt):
    assert LocalEngine(FFmpegConfig()).choose_format(option, codecs, False) == fmt


def test_mps_refuses_fmp4_av1_and_hevc_hls_in_its_own_sentences():
    mts = MtsEngine(MpsConfig())
    assert mts.choose_format(None, ("h264",), False) == "ts"
    assert mts.choose_format(None, ("h264", "hevc"), True) == "ts"  # HEVC only as MP4 downloads
    with pytest.raises(InputError, match="^MPS writes HLS as TS segments only"):
        mts.choose_format("fmp4", ("h264",), False)
    with pytest.raises(InputError, match="^MPS does not encode AV1"):
        mts.choose_format(None, ("h264", "av1"), False)
    with pytest.raises(InputError, match="^HEVC in HLS needs fMP4 segments"):
        mts.choose_format(None, ("h264", "hevc"), False)


def test_each_engine_shapes_its_ladder():
    p = plan(("LD", "HD"))
    local, mts = LocalEngine(FFmpegConfig()), MtsEngine(MpsConfig())
    hls, downloads = local.shape_ladder(p.rungs, ("h264", "hevc"), True)
    assert [r.name for r in hls] == ["LD", "HD", "LD-hevc", "HD-hevc"] and downloads == hls
    assert local.shape_ladder(p.rungs, ("h264",), False)[1] == []
    hls, downloads = mts.shape_ladder(p.rungs, ("h264", "hevc"), True)
    assert [r.name for r in hls] == ["LD", "HD"]  # HLS in H.264 only on MPS
    assert [r.name for r in downloads] == ["LD", "HD", "LD-hevc", "HD-hevc"]


def test_only_a_detached_engine_submits_and_follows():
    local = LocalEngine(FFmpegConfig())
    with pytest.raises(NotImplementedError, match="the local engine runs its jobs in the process that plans them"):
        local.submit(plan(), None)  # type: ignore[arg-type]
    assert local.command(plan())[0] == local.ffmpeg  # the dry run shows the command it would start
    assert MtsEngine(MpsConfig()).command(plan()) is None
