"""What abr-check found: the player's record and the samples turned into spans, switches, the
time to the first frame, the climb after the network returns, and a verdict. Pure: no browser."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Phase:
    kbps: int | None  # None: unthrottled
    seconds: float

    @property
    def label(self) -> str:
        return "unthrottled" if self.kbps is None else f"{self.kbps} kb/s"

    @property
    def rate(self) -> float:
        return float("inf") if self.kbps is None else float(self.kbps)


@dataclass
class Span:
    name: str
    level: int
    start: float  # page clock, seconds
    end: float


@dataclass
class Switch:
    at: float
    from_name: str | None
    to_name: str
    up: bool
    auto: bool
    took: float | None  # from hls.js deciding to load the definition to the picture showing it
    phase: int


@dataclass
class LoadSwitch:
    """hls.js started loading another definition: the ABR decision itself, before the picture shows it."""

    at: float
    from_name: str
    to_name: str
    up: bool
    phase: int
    segments_into_phase: int  # fragments loaded in this phase before this one


@dataclass
class PhaseResult:
    phase: Phase
    start: float
    end: float
    levels_played: list[str] = field(default_factory=list)
    level_at_end: str | None = None


@dataclass
class AbrReport:
    url: str
    levels: list[dict]
    phases: list[PhaseResult]
    spans: list[Span]
    switches: list[Switch]
    load_switches: list[LoadSwitch]
    restarts: list[float]  # the clip ended and looped (the picture then replays what is buffered)
    stalls: list[dict]
    errors: list[dict]
    started: bool
    ok: bool
    verdict: str
    # From the player's start to the first frame presented, on the page's clock (seconds).
    first_frame: float | None = None
    # After the last phase that made the network faster: fragments loaded before the first one at
    # the top definition (0 = the very first one was); None when the top was never loaded then.
    fragments_to_top: int | None = None
    state: dict = field(repr=False, default_factory=dict)


def _level_name(levels: list[dict], index: int | None) -> str | None:
    if index is None or index < 0 or index >= len(levels):
        return None
    return levels[index]["name"]


def video_fragments(state: dict) -> list[dict]:
    """The definitions' fragments. With audio renditions (RFC 8216 §4.3.4.1 EXT-X-MEDIA) the player
    also records audio and subtitle fragments, whose ``level`` is a track id, not a definition; a
    record without ``type`` comes from a player before renditions, which loaded only these."""
    return [f for f in state.get("fragments", []) if f.get("type", "main") == "main"]


def judge(url: str, phases: list[PhaseResult], state: dict, samples: list[dict]) -> AbrReport:
    """Turn the player's record and the samples into spans, switches and a verdict."""
    levels = state.get("levels", [])
    fragments = video_fragments(state)
    played = [s for s in samples if s["level"] is not None and s["level"] >= 0 and s["currentTime"] > 0]
    spans: list[Span] = []
    for s in played:
        if spans and spans[-1].level == s["level"]:
            spans[-1].end = s["at"]
        else:
            spans.append(Span(_level_name(levels, s["level"]) or str(s["level"]), s["level"], s["at"], s["at"]))

    def phase_of(at: float) -> int:
        for i, p in enumerate(phases):
            if at < p.end:
                return i
        return len(phases) - 1

    switches: list[Switch] = []
    pending = state.get("switching", [])
    previous = float("-inf")
    for sw in state.get("switches", []):
        if sw["from"] is None or sw["from"] < 0:
            previous = sw["at"]
            continue  # the first definition shown is a start, not a switch
        decided = [p["at"] for p in pending if p["level"] == sw["to"] and previous <= p["at"] <= sw["at"]]
        switches.append(
            Switch(
                sw["at"],
                _level_name(levels, sw["from"]),
                sw["name"] or str(sw["to"]),
                sw["to"] > sw["from"],
                sw["auto"],
                round(sw["at"] - decided[0], 2) if decided else None,
                phase_of(sw["at"]),
            )
        )
        previous = sw["at"]

    # The verdict rests on what hls.js chose to load: the picture lags by the buffer, and a
    # looping clip can replay a definition buffered long ago.
    load_switches: list[LoadSwitch] = []
    last = None
    for f in fragments:
        if last is not None and f["level"] != last:
            i = phase_of(f["at"])
            into = sum(1 for g in fragments if phases[i].start <= g["at"] < f["at"])
            load_switches.append(
                LoadSwitch(
                    f["at"],
                    _level_name(levels, last) or str(last),
                    _level_name(levels, f["level"]) or str(f["level"]),
                    f["level"] > last,
                    i,
                    into,
                )
            )
        last = f["level"]

    for p in phases:
        inside = [s for s in played if p.start <= s["at"] <= p.end]
        names = {name for s in inside if (name := _level_name(levels, s["level"])) is not None}
        p.levels_played = sorted(names, key=lambda n: [lv["name"] for lv in levels].index(n))
        p.level_at_end = _level_name(levels, inside[-1]["level"]) if inside else None

    def loaded_at(at: float) -> int | None:
        levels_before = [f["level"] for f in fragments if f["at"] <= at]
        return levels_before[-1] if levels_before else None

    restarts = [b["at"] for a, b in zip(samples, samples[1:]) if b["currentTime"] < a["currentTime"] - 1]
    errors = state.get("errors", [])
    fatal = [e for e in errors if e.get("fatal") or e.get("blocking")]
    started = any(s["currentTime"] > 0.5 for s in samples)
    problems: list[str] = []
    if fatal:
        problems.append(f"playback failed: {fatal[0]['message']}")
    elif not started:
        problems.append("playback never started")
    elif len(levels) < 2:
        problems.append(f"the stream has {len(levels)} definition(s): automatic switching needs at least two")
    else:
        for i in range(1, len(phases)):
            before, now = phases[i - 1], phases[i]
            if now.phase.rate == before.phase.rate:
                continue
            want_up = now.phase.rate > before.phase.rate
            moved = [s for s in load_switches if s.phase == i and s.up == want_up]
            if not moved:
                loading = _level_name(levels, loaded_at(now.end))
                hint = (
                    (
                        ": hls.js's bandwidth estimate trusts a faster network slowly after a throttled phase; "
                        "try a longer phase or smaller --ewma half-lives, e.g. 0.5,1"
                    )
                    if want_up
                    else ""
                )
                problems.append(
                    f"no automatic switch {'up' if want_up else 'down'} after the network went from "
                    f"{before.phase.label} to {now.phase.label} (still loading {loading}){hint}"
                )
    ok = not problems
    verdict = "automatic switching happened" if ok else "; ".join(problems)
    first_frame = None
    if state.get("firstFrameAt") is not None and state.get("startedAt") is not None:
        first_frame = round(state["firstFrameAt"] - state["startedAt"], 3)
    return AbrReport(
        url,
        levels,
        phases,
        spans,
        switches,
        load_switches,
        restarts,
        state.get("stalls", []),
        errors,
        started,
        ok,
        verdict,
        first_frame,
        climb_after_release(phases, fragments, len(levels) - 1),
        state,
    )


def climb_after_release(phases: list[PhaseResult], fragments: list[dict], top: int) -> int | None:
    """Fragments loaded after the network last got faster, before the first at level ``top``."""
    faster = [i for i in range(1, len(phases)) if phases[i].phase.rate > phases[i - 1].phase.rate]
    if not faster or top < 0:
        return None
    after = [f["level"] for f in fragments if f["at"] >= phases[faster[-1]].start]
    return after.index(top) if top in after else None
