"""How a local package becomes visible: one rename, the previous package swapped out; stale
staging of dead runs swept; manifests read back with a sentence when they are not manifests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hlskit.domain.errors import InputError
from hlskit.domain.manifest import Manifest
from hlskit.domain.settings import Settings
from hlskit.pipeline.publish import destination, read_manifest_text, swap_into_place, sweep_stale_staging
from hlskit.storage import LocalStorage


def package(folder, marker: str):
    (folder / "LD").mkdir(parents=True)
    (folder / "master.m3u8").write_text(marker)
    (folder / "LD" / "index.m3u8").write_text(marker)
    return folder


def test_a_first_package_is_renamed_into_place(tmp_path):
    staging = package(tmp_path / ".talk.partial-1", "new")
    swap_into_place(staging, tmp_path / "talk")
    assert not staging.exists() and (tmp_path / "talk" / "master.m3u8").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk"]


@pytest.mark.parametrize("out_mode, package_mode", [(0o755, 0o755), (0o750, 0o750), (0o1777, 0o755), (0o700, 0o700)])
def test_a_package_is_as_readable_as_its_folder_never_writable_by_others(tmp_path, out_mode, package_mode):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(out_mode)
    staging = package(out / ".talk.partial-1", "new")
    staging.chmod(0o700)  # as the local engine makes it: clear segments pass through it
    swap_into_place(staging, out / "talk")
    assert (out / "talk").stat().st_mode & 0o7777 == package_mode


def test_a_new_package_replaces_the_old_one_whole(tmp_path):
    old = package(tmp_path / "talk", "old")
    (old / "HD").mkdir()
    (old / "HD" / "index.m3u8").write_text("old")
    swap_into_place(package(tmp_path / ".talk.partial-1", "new"), tmp_path / "talk")
    assert (tmp_path / "talk" / "master.m3u8").read_text() == "new"
    assert not (tmp_path / "talk" / "HD").exists()  # nothing of the old package is mixed in
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk"]  # the swapped-out copy is gone


def test_a_package_that_cannot_be_renamed_in_leaves_the_published_one_in_place(tmp_path):
    package(tmp_path / "talk", "old")
    with pytest.raises(FileNotFoundError):
        swap_into_place(tmp_path / ".talk.partial-9", tmp_path / "talk")
    assert (tmp_path / "talk" / "master.m3u8").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk"]


def test_stale_staging_of_dead_runs_is_swept_and_live_ones_kept(tmp_path):
    dead = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )
    package(tmp_path / f".talk.partial-{dead}", "x")
    package(tmp_path / f".talk.partial-{os.getpid()}", "x")
    package(tmp_path / ".odd.partial-notapid", "x")
    package(tmp_path / "talk", "published")
    sweep_stale_staging(tmp_path)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {f".talk.partial-{os.getpid()}", ".odd.partial-notapid", "talk"}
    sweep_stale_staging(tmp_path / "missing")  # no folder: nothing to do


def test_a_local_destination_writes_the_manifest_atomically_then_publishes(tmp_path):
    staging, final = tmp_path / ".talk.partial-1", tmp_path / "talk"
    (staging / "LD").mkdir(parents=True)
    dest = destination(str(staging), str(final), Settings(home=tmp_path / "h"))
    assert dest.local and dest.master_dir == str(staging) and isinstance(dest.storage, LocalStorage)
    assert dest.read_manifest(str(staging)) is None
    dest.write_manifest(Manifest("talk", run_id="r1"))
    assert [p.name for p in staging.iterdir() if p.is_file()] == ["hlskit.json"]  # no temporary left
    assert dest.read_manifest(str(staging)).run_id == "r1"
    dest.publish()
    assert (final / "hlskit.json").is_file() and not staging.exists()
    dest.discard()  # after publishing there is nothing to discard, and the package stays
    assert (final / "hlskit.json").is_file()


def test_a_manifest_that_is_not_one_is_a_sentence_naming_the_file(tmp_path):
    with pytest.raises(InputError) as caught:
        read_manifest_text("[1, 2]", "out/talk/hlskit.json")
    assert caught.value.message == (
        "out/talk/hlskit.json is not an hlskit manifest (no content_id): restore it from the package run, "
        "or package the source again."
    )
    with pytest.raises(InputError, match=r"^x/hlskit.json is not valid JSON \("):
        read_manifest_text("{", "x/hlskit.json")
    assert read_manifest_text('{"content_id": "talk"}', "x").content_id == "talk"
