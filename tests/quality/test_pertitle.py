"""Per-title (real encodes): a still, flat clip gets fewer bits than a noisy one; sizes and rates keep the player's promises."""

from __future__ import annotations

import json
import re
import subprocess
from fractions import Fraction

import pytest

from hlskit.domain.errors import InputError, JobError
from hlskit.domain.ladder import choose_ladder
from hlskit.pipeline.pertitle import _ladder, _up_rung, choose, chunk_starts, parse_target, sample_layout
from hlskit.pipeline.pertitle_probe import Layout, Probe, cut, frame_sizes, measured_kbps, vmaf
from hlskit.pipeline.probe import probe
from tests.conftest import run_hlskit
from tests.tiers import debian_ffprobe

CONTENT = {
    "flat": "color=c=0x406080:s=960x540:r=25:d=4,drawbox=x=100:y=100:w=300:h=80:color=white:t=fill",
    "noisy": "testsrc2=s=960x540:r=25:d=4,noise=alls=30:allf=t+u",
    # every other frame's luma inverted: a frame is far from its neighbours, close to frames an even
    # number of frames away (what a motion read against the wrong neighbour gets wrong)
    "flicker": "testsrc2=s=960x540:r=25:d=4,geq=lum='if(mod(N,2),lum(X,Y),255-lum(X,Y))':cb='cb(X,Y)':cr='cr(X,Y)'",
}


def _clip(tmp_path, ffmpeg, kind: str):
    """A near-lossless clip of one CONTENT kind."""
    path = tmp_path / f"{kind}.mp4"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            CONTENT[kind],
            "-c:v",
            "libx264",
            "-crf",
            "12",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


def _per_title(tmp_path, ffmpeg, kind: str):
    path = _clip(tmp_path, ffmpeg, kind)
    media = probe(path)
    fixed = choose_ladder(media.video.display_width, media.video.display_height)
    rungs, choices = choose(ffmpeg, str(path), media, fixed, preset="veryfast")
    return fixed, rungs, choices


def _probe_once(ffmpeg, src, layout, crf: int, tmp_path):
    """The sample of ``src`` (a title as long as the clip) and one probe of its lowest definition at ``crf``."""
    media = probe(src)
    rung = choose_ladder(media.video.display_width, media.video.display_height)[0]
    starts = chunk_starts(0.0, media.duration, layout)
    sample, probed = cut(ffmpeg, str(src), media, starts, layout, [rung], {rung.name: [crf]}, "veryfast", tmp_path)
    return sample, probed[(rung.name, crf)]


@pytest.mark.slow
def test_flat_content_gets_fewer_bits_than_noisy_content_and_never_more_than_fixed(tmp_path, ffmpeg):
    fixed, flat, flat_choices = _per_title(tmp_path, ffmpeg, "flat")
    _, noisy, noisy_choices = _per_title(tmp_path, ffmpeg, "noisy")
    assert [r.name for r in fixed] == ["LD", "SD"]
    by_name = {r.name: r for r in fixed}
    sizes = [(r.width, r.height) for r in fixed]
    for rung in flat + noisy:
        assert rung.definition.video_kbps <= by_name[rung.name].definition.video_kbps  # never above fixed
        assert (rung.width, rung.height) in sizes  # a size of the ladder, never upscaled
    # the flat clip is encoded at constant quality under a lowered cap; the noisy one needs its bits
    assert all(r.crf is not None for r in flat)
    assert sum(r.definition.video_kbps for r in flat) < 0.75 * sum(r.definition.video_kbps for r in noisy)
    kept = [c for c in flat_choices if c.kept]
    assert sum(c.kbps_predicted for c in kept) < 0.75 * sum(c.kbps_predicted for c in noisy_choices if c.kept)
    for choices in (flat_choices, noisy_choices):
        kept = [c for c in choices if c.kept]
        assert [c.kbps_predicted for c in kept] == sorted(c.kbps_predicted for c in kept)
        assert [c.width for c in kept] == sorted(c.width for c in kept)  # never descends as rates rise
        for c in choices:  # the measurements behind the choice are real: more CRF, fewer bits, no better VMAF
            pts = c.probes  # only the probes worth scoring (pertitle_search): one may tell a still picture's anchor
            assert len(pts) >= 1 and [p["crf"] for p in pts] == sorted(p["crf"] for p in pts)
            for low, high in zip(pts, pts[1:]):
                # (VMAF wobbles by about a point on a near-blank picture)
                assert high["kbps"] <= low["kbps"] * 1.05 and 0 < high["vmaf"] <= low["vmaf"] + 1.5 <= 101.5
            assert c.crf is None or c.vmaf_predicted >= c.goal - 1e-6
            assert c.why

    # noise costs VMAF faster as the CRF rises (about 1 a step here): the flat clip barely notices (about 0.1)
    def loss(choices):
        slopes = [
            (c.probes[0]["vmaf"] - c.probes[-1]["vmaf"]) / (c.probes[-1]["crf"] - c.probes[0]["crf"])
            for c in choices
            if len(c.probes) > 1
        ]
        assert slopes
        return max(slopes)

    assert loss(noisy_choices) > loss(flat_choices) + 0.5


def test_target_option_is_checked():
    assert parse_target("per-title") is None and parse_target("per-title:vmaf=93") == 93.0
    for bad in ("per-title:vmaf=abc", "per-title:vmaf=150", "per-title:psnr=40"):
        with pytest.raises(InputError, match="per-title:vmaf=N"):
            parse_target(bad)


def test_a_borrowed_size_is_probed_under_the_lower_definitions_cap_and_read_as_its_up_curve(tmp_path):
    ld, sd = choose_ladder(1280, 720)[:2]
    up = _up_rung(ld, sd)
    # SD's size, LD's rate (the cap its x264 VBV gets), a probe name no definition can have
    assert (up.width, up.height, up.definition.video_kbps) == (sd.width, sd.height, ld.definition.video_kbps)
    assert up.name == "LD+up" and up.codec == "h264"
    probed = {("LD", 30): Probe(tmp_path / "a", 300.0), ("SD", 30): Probe(tmp_path / "b", 500.0)}
    probed[("LD+up", 33)] = Probe(tmp_path / "c", 280.0)
    scores = {("LD", 30): 70.0, ("SD", 30): 80.0, ("LD+up", 33): 72.0}
    low, high = _ladder([ld, sd], probed, scores, None)
    assert [(p.crf, p.kbps, p.vmaf) for p in low.up] == [(33, 280.0, 72.0)] and high.up == ()
    assert [p.crf for p in low.points] == [30] and [p.crf for p in high.points] == [30]


@pytest.mark.slow
def test_per_title_package_records_its_analysis_and_stays_at_or_below_the_fixed_ladder(tmp_path, ffmpeg):
    src = _clip(tmp_path, ffmpeg, "flat")
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    measured = {}
    for ladder in ("auto", "per-title"):
        done = run_hlskit(
            "package",
            str(src),
            "--out",
            str(tmp_path / ladder),
            "--content-id",
            "t",
            "--ladder",
            ladder,
            "--segment-duration",
            "2",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        manifest = json.loads((tmp_path / ladder / "t" / "hlskit.json").read_text())
        measured[ladder] = {v["definition"]: v for v in manifest["master"]["variants"]}
    analysis = manifest["per_title"]
    assert analysis["seconds"] > 0 and [r["definition"] for r in analysis["rungs"]] == ["LD", "SD"]
    for rung in analysis["rungs"]:
        assert rung["chosen_kbps"] <= rung["fixed_kbps"] and 0 < rung["vmaf_fixed"] <= 100
        assert [p["crf"] for p in rung["probes"]] == sorted(p["crf"] for p in rung["probes"])
    kept = {r["definition"]: r for r in analysis["rungs"] if r["kept"]}
    assert set(measured["per-title"]) == set(kept)

    # Measured from the segments, not only declared. (The fixed ladder of this flat, low-rate clip
    # is itself capped at the source's rate, which collapses twins, so the two ladders may keep
    # different names: compare their top rungs, the most either spends.)
    def top(ladder: str) -> int:
        return max(v["average_bandwidth"] for v in measured[ladder].values())

    assert top("per-title") <= top("auto") * 1.05, measured
    # the encoder was asked for the chosen CRF under a lowered cap (a flat clip needs fewer bits than even that)
    assert any(r["chosen_kbps"] < r["fixed_kbps"] and r["crf"] is not None for r in analysis["rungs"])
    # The encoder was asked for the chosen size at the chosen rate, or at the source's own rate where
    # that is lower (a package never spends more bits than its source: issue 22).
    asked = {d["name"]: (d["video_kbps"], d["width"], d["height"]) for d in manifest["definitions"]}
    assert asked.keys() == kept.keys()
    for name, rung in kept.items():
        kbps, width, height = asked[name]
        assert (width, height) == (rung["width"], rung["height"]) and kbps <= rung["chosen_kbps"]
        assert kbps == rung["chosen_kbps"] or any("source" in w for w in manifest["warnings"]), manifest["warnings"]
    # the master's RESOLUTION is read from the media and is the size chosen; it never descends as BANDWIDTH rises
    master = (tmp_path / "per-title" / "t" / "master.m3u8").read_text()
    declared = re.findall(r"#EXT-X-STREAM-INF:.*?BANDWIDTH=(\d+).*?RESOLUTION=(\d+)x(\d+)", master)
    assert len(declared) == len(kept)
    ladder = sorted((int(b), int(w) * int(h)) for b, w, h in declared)
    assert [area for _, area in ladder] == sorted(area for _, area in ladder)
    for r in kept.values():
        assert f"RESOLUTION={r['width']}x{r['height']}" in master
    check = run_hlskit("validate", str(tmp_path / "per-title" / "t" / "master.m3u8"), env=env)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_dry_run_shows_the_choice_per_rung_and_writes_nothing(tmp_path, ffmpeg):
    src = _clip(tmp_path, ffmpeg, "flat")
    env = {"HLSKIT_HOME": str(tmp_path / "home")}
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_hlskit(
        "package", str(src), "--out", str(tmp_path / "out"), "--ladder", "per-title", "--dry-run", env=env
    )
    assert done.returncode == 0, done.stderr
    assert "per-title analysis" in done.stdout
    for name in ("LD", "SD"):
        line = next(x for x in done.stdout.splitlines() if x.strip().startswith(f"{name} ") and ":" in x)
        assert re.search(r"\d+x\d+|dropped", line) and ("CRF" in line or "ABR" in line or "dropped" in line)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output folder, no key store
    as_json = run_hlskit(
        "package", str(src), "--out", str(tmp_path / "out"), "--ladder", "per-title", "--dry-run", "--json", env=env
    )
    plan = json.loads(as_json.stdout)
    chosen = {r["definition"]: r for r in plan["per_title"]["rungs"] if r["kept"]}
    assert {r["name"]: (r["width"], r["height"]) for r in plan["ladder"]} == {
        n: (c["width"], c["height"]) for n, c in chosen.items()
    }


@pytest.mark.slow
def test_probe_keyframes_land_where_the_layout_says_and_rates_come_from_the_frames(tmp_path, ffmpeg):
    # a 3 s clip: one chunk, a warm-up lead, a measured part shorter than a keyframe interval (what a
    # title shorter than an interval gets; the layout is given so that the lead is there too)
    src = tmp_path / "clip.mp4"
    graph = "testsrc2=s=640x360:r=30:d=3"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            graph,
            "-c:v",
            "libx264",
            "-g",
            "1",
            "-pix_fmt",
            "yuv420p",
            str(src),
        ],
        check=True,
    )
    layout = Layout(Fraction(30), gop=60, lead=20, measured=30, chunks=1)
    sample, got = _probe_once(ffmpeg, src, layout, 26, tmp_path)
    # an independent reader (Debian's ffprobe) sees the same frames and keyframes as the MP4 tables read
    packets = subprocess.run(
        [
            debian_ffprobe(),
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "packet=size,flags",
            "-of",
            "csv=p=0",
        ]
        + [str(got.path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sizes = [int(p.split(",")[0]) for p in packets]
    keys = [i for i, p in enumerate(packets) if "K" in p.split(",")[1]]
    assert frame_sizes(got.path) == (sizes, keys)
    # keyframes at the lead's first frame and the measured part's, no other: the part is one GOP
    assert len(sizes) == layout.frames and keys == layout.keyframes() == [0, layout.lead]
    assert got.kbps == pytest.approx(measured_kbps(sizes, layout)) and got.kbps > 0
    assert sample.is_file()


@pytest.mark.slow
def test_a_sample_the_source_cannot_fill_fails_in_one_sentence(tmp_path, ffmpeg):
    # a layout asking for more frames than the source has (what a source overstating its duration,
    # or a seek past its frames, gives): the probes' rates would read a part of a GOP as a whole one
    src = tmp_path / "second.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=1", str(src)], check=True)
    layout = Layout(Fraction(30), gop=60, lead=20, measured=60, chunks=1)
    with pytest.raises(JobError) as failed:
        _probe_once(ffmpeg, src, layout, 26, tmp_path)
    assert failed.value.message == (
        "the per-title analysis read 30 of its sample's 80 frames from the source: use a fixed ladder (--ladder auto)."
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["noisy", "flicker"])
def test_probe_vmaf_on_scored_frames_equals_a_whole_run_read_at_those_frames(tmp_path, ffmpeg, kind):
    """The probes score a few frames each between its neighbours; each must read what libvmaf gives that
    frame in a run over every frame (its motion feature included: it compares a frame with the one before
    and the one after, so a frame scored without its predecessor reads motion 0 and scores far lower on
    moving, grainy pictures, and one scored before a frame that is not its successor misreads flicker)."""
    src = _clip(tmp_path, ffmpeg, kind)
    media = probe(src)
    layout = sample_layout(4.0, Fraction(25), 2.0, "veryfast")
    sample, first = _probe_once(ffmpeg, src, layout, 30, tmp_path)
    probe_file = first.path
    scored = layout.scored(4)
    got = vmaf(ffmpeg, sample, media, [probe_file], scored, tmp_path)[0]
    log = tmp_path / "whole.json"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            str(sample),
            "-i",
            str(probe_file),
            "-filter_complex",
            "[1:v]scale=960:540:flags=bicubic,setsar=1,format=yuv420p[d];"
            f"[d][0:v]libvmaf=model=version=vmaf_v0.6.1:log_fmt=json:log_path={log}",
            "-f",
            "null",
            "-",
        ],
        check=True,
    )
    per_frame = [f["metrics"]["vmaf"] for f in json.loads(log.read_text())["frames"]]
    expected = sum(per_frame[f] for f in scored) / len(scored)
    assert len(scored) >= 3 and got == pytest.approx(expected, abs=0.5), (got, expected)
