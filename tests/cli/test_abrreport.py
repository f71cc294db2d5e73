"""abr-check's judgement on a stream with audio renditions: the player records audio and subtitle
fragments beside the definitions' (their ``level`` is a track id), and only the definitions'
fragments say what the ABR chose. Pure: a recorded state in, a report out."""

from __future__ import annotations

from hlskit.cli.abrreport import Phase, PhaseResult, judge, video_fragments

LEVELS = [{"name": "LD", "bitrate": 500_000}, {"name": "SD", "bitrate": 900_000}]


def _state(with_audio: bool) -> dict:
    """Slow phase (0-10 s) on LD, then SD from the third fragment of the fast phase (10-20 s); with
    audio, every video fragment has an English audio fragment (audio track 0) and, in the fast
    phase, a French one (track 1) after a language switch."""
    fragments = []
    video = [(1, 0, 1), (4, 0, 2), (7, 0, 3), (11, 0, 4), (13, 0, 5), (15, 1, 6), (17, 1, 7)]
    for at, level, sn in video:
        fragments.append({"at": at, "type": "main", "level": level, "sn": sn})
        if with_audio:
            track = 0 if at < 12 else 1
            fragments.append({"at": at + 0.1, "type": "audio", "level": track, "sn": sn})
            fragments.append({"at": at + 0.2, "type": "subtitle", "level": 0, "sn": sn})
    if not with_audio:  # a record from a player before renditions: no type at all
        fragments = [{k: v for k, v in f.items() if k != "type"} for f in fragments]
    return {
        "levels": LEVELS,
        "fragments": fragments,
        "switches": [{"at": 2, "from": -1, "to": 0, "name": "LD", "auto": True}],
        "switching": [],
        "errors": [],
        "stalls": [],
    }


def _judge(state: dict):
    phases = [PhaseResult(Phase(600, 10), 0, 10), PhaseResult(Phase(None, 10), 10, 20)]
    samples = [{"at": t, "level": 0 if t < 15 else 1, "currentTime": t, "fatal": False} for t in range(1, 20)]
    return judge("http://127.0.0.1/x/master.m3u8", phases, state, samples)


def test_audio_and_subtitle_fragments_are_not_definition_switches():
    report = _judge(_state(with_audio=True))
    assert [(s.from_name, s.to_name, s.phase) for s in report.load_switches] == [("LD", "SD", 1)]
    assert report.fragments_to_top == 2  # the 3rd video fragment after the release, audio not counted
    assert report.load_switches[0].segments_into_phase == 2
    assert report.ok, report.verdict


def test_a_record_without_fragment_types_is_judged_as_before():
    with_types, without = _judge(_state(with_audio=True)), _judge(_state(with_audio=False))
    assert len(video_fragments(_state(with_audio=False))) == 7
    assert [(s.from_name, s.to_name) for s in without.load_switches] == [("LD", "SD")]
    assert (without.ok, without.fragments_to_top) == (with_types.ok, with_types.fragments_to_top)
