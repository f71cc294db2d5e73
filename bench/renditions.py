"""Bytes stored for a 3-language title: audio renditions (each language once) against muxing.

One 1080p source with three audio languages is packaged with hlskit's audio renditions (LD, SD,
HD, FHD; one audio group) and, for comparison, muxed: each definition carrying its own copy of the
audio (what hlskit does for a single-audio title). Muxing three languages needs either three
packages (the video stored three times) or three audio streams in every definition's segments
(which Apple's HLS authoring spec forbids and players do not switch); both figures are computed
from the muxed package's measured audio and video bytes. Results go to bench/results/renditions.md.

    .venv/bin/python bench/renditions.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the checkout

from bench.package import machine  # noqa: E402
from hlskit.domain.plan import PackageOptions  # noqa: E402
from hlskit.domain.settings import Settings  # noqa: E402
from hlskit.engines.encode import ffmpeg_exe  # noqa: E402
from hlskit.engines.sample import sample_args  # noqa: E402
from hlskit.pipeline import run_package  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = (("eng", 440), ("fre", 550), ("spa", 660))


def make_source(folder: Path, seconds: int) -> Path:
    """The sample recipe's 1080p picture with three tagged audio languages (tones told apart)."""
    ffmpeg = ffmpeg_exe()
    video = folder / "video.mp4"
    subprocess.run(sample_args(ffmpeg, str(video), 1920, 1080, seconds, 30, False, preset="ultrafast"), check=True)
    src = folder / "three-languages.mp4"
    args = [ffmpeg, "-v", "error", "-y", "-i", str(video)]
    for _, tone in LANGUAGES:
        args += ["-f", "lavfi", "-t", str(seconds), "-i", f"sine=frequency={tone}:sample_rate=48000"]
    args += ["-map", "0:v"] + [x for i in range(len(LANGUAGES)) for x in ("-map", f"{i + 1}:a")]
    args += ["-c:v", "copy", "-c:a", "aac", "-b:a", "192k"]
    for i, (lang, _) in enumerate(LANGUAGES):
        args += [f"-metadata:s:a:{i}", f"language={lang}"]
    subprocess.run(args + [str(src)], check=True)
    return src


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hlskit-bench-renditions-") as tmp:
        base = Path(tmp)
        src = make_source(base, args.seconds)
        settings = Settings(home=base / "home", x264_preset="veryfast")
        ladder = "LD,SD,HD,FHD"
        rend = run_package(str(src), str(base / "out"), settings, PackageOptions(ladder=ladder, content_id="rend"))
        single = base / "single.mp4"  # the same title with its first language only: hlskit muxes it
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-i",
                str(src),
                "-map",
                "0:v",
                "-map",
                "0:a:0",
                "-c",
                "copy",
                str(single),
            ],
            check=True,
        )
        mux = run_package(str(single), str(base / "out"), settings, PackageOptions(ladder=ladder, content_id="mux"))
        assert rend.ok and mux.ok
        r_dir = Path(rend.dir)
        r_video = {d.name: d.bytes for d in rend.manifest.definitions}
        r_audio = sum(r.bytes for r in rend.manifest.renditions if r.type == "AUDIO")
        m_defs = {d.name: d.bytes for d in mux.manifest.definitions}
        muxed_audio_one = sum(m_defs[n] - r_video[n] for n in m_defs)  # each definition's copy of one language
        languages = len(LANGUAGES)
        rendition_total = sum(r_video.values()) + r_audio
        three_packages = languages * sum(m_defs.values())
        all_in_each = sum(r_video.values()) + languages * muxed_audio_one
        report = {
            "seconds": args.seconds,
            "definitions": list(r_video),
            "renditions_total_bytes": rendition_total,
            "renditions_audio_bytes": r_audio,
            "muxed_audio_bytes_per_language": muxed_audio_one,
            "muxed_three_packages_bytes": three_packages,
            "muxed_three_languages_in_each_definition_bytes": all_in_each,
            "audio_folders": sorted(p.parent.name for p in r_dir.glob("audio/*/index.m3u8")),
        }
        print(json.dumps(report, indent=2))
    lines = [
        "# Audio renditions: bytes stored for a 3-language title",
        "",
        f"`.venv/bin/python bench/renditions.py --seconds {args.seconds}` — {machine()}.",
        "",
        f"A {args.seconds} s 1080p title (the sample recipe) with three audio languages, ladder {ladder}, "
        "encrypted, x264 veryfast. Renditions: one audio group at the ladder's top audio rate, each "
        "language stored once. Muxed: measured on the same title with one language, each definition "
        "carrying its own audio at its definition's rate.",
        "",
        "| layout | bytes | vs renditions |",
        "|---|---|---|",
        f"| audio renditions (video once, each language once) | {rendition_total:,} | — |",
        f"| three languages muxed into every definition (not allowed by Apple's spec) | {all_in_each:,} | "
        f"{all_in_each / rendition_total - 1:+.1%} |",
        f"| one muxed package per language (the video stored three times) | {three_packages:,} | "
        f"{three_packages / rendition_total - 1:+.1%} |",
        "",
        f"Audio alone: {r_audio:,} bytes as renditions (3 languages once) against {languages * muxed_audio_one:,} "
        f"muxed (3 languages × {len(r_video)} definitions): {1 - r_audio / (languages * muxed_audio_one):.0%} less.",
        "",
    ]
    out = ROOT / "bench" / "results" / "renditions.md"
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
