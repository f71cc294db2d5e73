"""Whether an FFmpeg HLS run really made the whole definition, read from what it left behind
(hand-written playlists and logs): FFmpeg can exit 0 after a failed write."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlskit.engines.outcome import (
    check_output,
    decode_errors,
    disk_full,
    disk_full_reason,
    ffmpeg_reason,
    has_room,
    progress_percent,
    write_refused,
)
from tests.engines.ffmpeg_output import write_ffmpeg_output


def test_a_complete_playlist_of_non_empty_segments_is_a_success(tmp_path):
    playlist = write_ffmpeg_output(tmp_path / "LD", [4.0, 4.0, 3.5])
    outcome = check_output(playlist, 11.5, [])
    assert outcome.ok and outcome.reason == "" and outcome.duration == pytest.approx(11.5)


def test_a_slightly_short_encode_is_still_whole(tmp_path):
    """The last frames of a source may be dropped: within max(1 s, 10%) of the expected length is whole."""
    playlist = write_ffmpeg_output(tmp_path / "LD", [4.0, 4.0, 2.6])
    assert check_output(playlist, 11.5, []).ok
    assert not check_output(playlist, 12.0, []).ok


@pytest.mark.parametrize(
    "kwargs, expected, reason",
    [
        ({"endlist": False}, 12.0, "FFmpeg's playlist has no EXT-X-ENDLIST: the encode stopped before the end"),
        ({"empty": (1,)}, 12.0, "FFmpeg left 1 empty or missing segment(s), first seg-00001.ts"),
        ({"missing": (0, 2)}, 12.0, "FFmpeg left 2 empty or missing segment(s), first seg-00000.ts"),
        ({}, 30.0, "FFmpeg's output lasts 12.00 s of the expected 30.00 s"),
    ],
)
def test_what_is_not_a_whole_encode_says_why(tmp_path, kwargs, expected, reason):
    playlist = write_ffmpeg_output(tmp_path / "LD", [4.0, 4.0, 4.0], **kwargs)
    outcome = check_output(playlist, expected, [])
    assert not outcome.ok and outcome.reason == reason and outcome.duration == pytest.approx(12.0)


def test_no_playlist_at_all(tmp_path):
    (tmp_path / "LD").mkdir()
    outcome = check_output(tmp_path / "LD" / "ffmpeg.m3u8", 10.0, [])
    assert (outcome.ok, outcome.reason, outcome.duration) == (False, "FFmpeg produced no playlist", 0.0)


def test_enospc_in_the_log_is_a_disk_full_reason_even_with_a_whole_playlist(tmp_path):
    playlist = write_ffmpeg_output(tmp_path / "LD", [4.0, 4.0])
    log = ["[hls @ 0x55d] Failed to open file 'seg-00002.ts'", "av_interleaved_write_frame(): No space left on device"]
    outcome = check_output(playlist, 8.0, log)
    assert not outcome.ok and outcome.reason == disk_full_reason(tmp_path / "LD", 8.0, 8.0)
    assert outcome.reason.startswith(f"disk full: FFmpeg could not write {tmp_path / 'LD'} (No space left on device)")
    assert outcome.reason.endswith("free space under the --out folder and package again")


def test_disk_full_reads_enospc_and_quota_lines():
    assert disk_full(["x", "Error writing trailer: Disk quota exceeded"])
    assert disk_full(["No space left on device"]) and not disk_full(["Invalid data found when processing input"])
    assert disk_full_reason(Path("/o/LD")) == (
        "disk full: FFmpeg could not write /o/LD (No space left on device); free space under the --out folder and package again"
    )


@pytest.mark.parametrize(
    "line, cause",
    [
        ("[hls @ 0x1] Failed to open file '/o/LD/seg-00000.ts': Read-only file system", "Read-only file system"),
        ("[hls @ 0x1] Failed to open file '/o/LD/seg-00000.ts': Permission denied", "Permission denied"),
        (
            "Could not write header (incorrect codec parameters ?): Permission denied, error code -13",
            "Permission denied",
        ),
    ],
)
def test_a_refused_write_names_the_folder_and_the_cause(line, cause):
    assert write_refused(["Input #0", line], Path("/o/LD")) == (
        f"FFmpeg could not write /o/LD ({cause}): choose a --out folder you can write to"
    )


def test_a_permission_word_elsewhere_is_not_a_refused_write():
    assert write_refused(["Metadata: comment: Permission denied (a title)"], Path("/o")) is None


def test_decoder_errors_are_counted_for_the_source_codecs_only():
    log = [
        "[h264 @ 0x5581] error while decoding MB 12 30, bytestream -7",
        "  [h264 @ 0x5581] concealing 1200 DC, 1200 AC, 1200 MV errors in P frame",
        "[aac @ 0x77] Input buffer exhausted before END element found",
        "[hevc @ 0x1] Could not find ref with POC 12",
        "[libx264 @ 0x9] frame I:1",
    ]
    assert decode_errors(log, {"h264"}) == 2
    assert decode_errors(log, {"h264", "aac"}) == 3
    assert decode_errors(log, set()) == 0 and decode_errors(log, {""}) == 0


def test_a_writable_folder_has_room_and_the_probe_leaves_nothing(tmp_path):
    assert has_room(tmp_path) and list(tmp_path.iterdir()) == []
    assert has_room(tmp_path / "not-yet")  # a folder to be made: its parent is asked


def test_progress_lines_give_a_percent_below_100_and_a_failure_its_last_lines():
    assert progress_percent("out_time_us", "5000000", 10.0) == 50.0
    assert progress_percent("out_time_us", "20000000", 10.0) == 99.0  # done only once the output is checked
    assert progress_percent("out_time_us", "N/A", 10.0) is None and progress_percent("speed", "2x", 10.0) is None
    assert progress_percent("out_time_us", "5000000", None) is None
    lines = ["", "Input #0", "  a", "b: No such file or directory", ""]
    assert ffmpeg_reason(lines, 1) == "FFmpeg exited with code 1: Input #0 / a / b: No such file or directory"
    assert ffmpeg_reason([], 254) == "FFmpeg exited with code 254: no message"


def test_segments_encrypted_while_ffmpeg_ran_count_as_written(tmp_path):
    playlist = write_ffmpeg_output(tmp_path / "LD", [4.0, 4.0, 4.0], missing=(1,))
    assert not check_output(playlist, 12.0, []).ok
    assert check_output(playlist, 12.0, [], taken=frozenset({"seg-00001.ts"})).ok
