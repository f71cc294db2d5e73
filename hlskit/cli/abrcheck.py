"""abr-check: drive the player page in headless Chromium through a network profile and report
which definitions played when, how long each switch took, and whether playback stalled.

The network is shaped with the Chrome DevTools Protocol (``Network.emulateNetworkConditions``),
so hls.js measures the throttled throughput exactly as it would on a slow link. The player page
records everything (``window.hlskitPlayer.state()``); this module only samples and judges it.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from ..domain.errors import ConfigError, InputError

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


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


PROFILES: dict[str, tuple[Phase, ...]] = {
    # 10 s slow leaves a 30 s clip (the sample) enough content to show the climb once unthrottled.
    "slow-then-fast": (Phase(600, 10), Phase(None, 20)),
    "fast-then-slow": (Phase(None, 15), Phase(600, 25)),
}
_PHASE = re.compile(r"^(\d+)x(\d+(?:\.\d+)?)$")


def parse_profile(text: str) -> tuple[Phase, ...]:
    """A named profile, or phases as KBPSxSECONDS separated by commas (0 = unthrottled): 600x20,0x20."""
    if text in PROFILES:
        return PROFILES[text]
    phases = []
    for part in (p.strip() for p in text.split(",")):
        m = _PHASE.match(part)
        if not m:
            raise InputError(
                f"--profile {text!r} is not a profile: use {', '.join(PROFILES)} or phases like 600x20,0x20 (kb/s x seconds, 0 = unthrottled)."
            )
        kbps = int(m.group(1))
        phases.append(Phase(kbps or None, float(m.group(2))))
    if len({p.rate for p in phases}) < 2:
        raise InputError(
            "--profile needs phases of different speeds so that switching can be judged, e.g. 600x20,0x20."
        )
    return tuple(phases)


def parse_ewma(text: str) -> tuple[float, float]:
    """``FAST,SLOW`` half-lives in seconds for hls.js's bandwidth estimate (its defaults: 3,9)."""
    try:
        fast, slow = (float(x) for x in text.split(","))
    except ValueError:
        fast = slow = -1
    if not 0 < fast <= slow <= 60:
        raise InputError(
            f"--ewma {text!r} is not two half-lives FAST,SLOW in seconds with 0 < FAST <= SLOW <= 60, e.g. 1,2."
        )
    return fast, slow


def chromium_path() -> str:
    """Debian's Chromium (Playwright cannot download browsers here); HLSKIT_CHROMIUM overrides."""
    candidates = [
        os.environ.get("HLSKIT_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    raise ConfigError(
        "Chromium is not installed: run `apt-get install -y chromium` (or set HLSKIT_CHROMIUM to a Chromium binary)."
    )


def launch_chromium(headless: bool = True):
    """(playwright, browser): headless system Chromium with the flags this project uses."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ConfigError("Playwright is not installed: run `pip install playwright` (or `pip install -e '.[test]'`).")
    executable = chromium_path()
    pw = sync_playwright().start()
    try:
        return pw, pw.chromium.launch(executable_path=executable, headless=headless, args=CHROMIUM_ARGS)
    except Exception as exc:
        pw.stop()
        raise ConfigError(
            f"Chromium at {executable} did not start ({str(exc).splitlines()[0]}): check the install with `{executable} --version`."
        )


def throttle(cdp, kbps: int | None, latency_ms: float = 20) -> None:
    """Shape every request of the page: kbps kilobits per second down, or no limit (None)."""
    down = -1 if kbps is None else kbps * 1000 / 8
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0 if kbps is None else latency_ms,
            "downloadThroughput": down,
            "uploadThroughput": -1,
        },
    )


def player_url(url: str, token: str | None = None) -> str:
    """The page to open: URL itself when it is a player page, else /play?src= on the URL's server."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{url!r} is not an http(s) URL: pass a player page (/play/<content-id>) or a playlist URL.")
    if parts.path.startswith("/play"):
        if token and "token=" not in parts.query:
            return f"{url}{'&' if parts.query else '?'}{urlencode({'token': token})}"
        return url
    query = {"src": url, **({"token": token} if token else {})}
    return f"{parts.scheme}://{parts.netloc}/play?{urlencode(query)}"


# --- the report ---------------------------------------------------------------------------


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
    state: dict = field(repr=False, default_factory=dict)


def _level_name(levels: list[dict], index: int | None) -> str | None:
    if index is None or index < 0 or index >= len(levels):
        return None
    return levels[index]["name"]


def judge(url: str, phases: list[PhaseResult], state: dict, samples: list[dict]) -> AbrReport:
    """Turn the player's record and the samples into spans, switches and a verdict."""
    levels = state.get("levels", [])
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
    for f in state.get("fragments", []):
        if last is not None and f["level"] != last:
            i = phase_of(f["at"])
            into = sum(1 for g in state["fragments"] if phases[i].start <= g["at"] < f["at"])
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
        p.levels_played = sorted(
            {_level_name(levels, s["level"]) for s in inside}, key=lambda n: [lv["name"] for lv in levels].index(n)
        )
        p.level_at_end = _level_name(levels, inside[-1]["level"]) if inside else None

    def loaded_at(at: float) -> int | None:
        levels_before = [f["level"] for f in state.get("fragments", []) if f["at"] <= at]
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
        state,
    )


def run_abr_check(
    url: str,
    phases: tuple[Phase, ...],
    *,
    token: str | None = None,
    ewma: tuple[float, float] | None = None,
    screenshot: str | Path | None = None,
    start_timeout: float = 30,
    on_sample: Callable[[dict, Phase], None] | None = None,
    browser=None,
) -> AbrReport:
    """Open the player for ``url`` in headless Chromium, play it through ``phases``, judge it.

    ``browser``: an already launched Playwright browser to reuse (tests); else one is launched.
    """
    page_url = player_url(url, token)
    sep = "&" if "?" in page_url else "?"
    # loop: a short clip keeps playing through every phase; autostart=0: the page and hls.js
    # load unthrottled, and playback starts once the first phase shapes the network.
    page_url += f"{sep}loop=1&autostart=0"
    if ewma:
        page_url += f"&ewma={ewma[0]:g},{ewma[1]:g}"
    shown = re.sub(r"token=[^&]+", "token=…", page_url)  # tokens stay out of messages
    pw = None
    if browser is None:
        pw, browser = launch_chromium()
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        try:
            response = page.goto(page_url, wait_until="domcontentloaded")
        except Exception as exc:
            reason = re.sub(r"token=[^&\s]+", "token=…", str(exc).splitlines()[0])
            raise InputError(f"could not open {shown} ({reason}): is the server running?")
        if response is None or not response.ok or not page.evaluate("() => !!window.hlskitPlayer"):
            status = response.status if response else "no answer"
            raise InputError(
                f"{shown} is not an hlskit player page (HTTP {status}): pass a playlist URL or a /play page of `hlskit serve`."
            )
        throttle(cdp, phases[0].kbps)
        page.evaluate("hlskitPlayer.start()")
        try:
            page.wait_for_function(
                "() => { const s = hlskitPlayer.state();"
                " return s.currentTime > 0 || s.errors.some(e => e.fatal || e.blocking); }",
                timeout=start_timeout * 1000,
            )
        except Exception:
            pass  # judged below: "playback never started"
        samples: list[dict] = []
        results: list[PhaseResult] = []
        clock = lambda: page.evaluate("performance.now() / 1000")  # noqa: E731 - the player's clock
        for i, phase in enumerate(phases):
            if i:
                throttle(cdp, phase.kbps)
            result = PhaseResult(phase, clock(), 0.0)
            deadline = time.monotonic() + phase.seconds
            while time.monotonic() < deadline:
                s = page.evaluate(
                    "() => { const s = hlskitPlayer.state(); return {at: s.at, level: s.currentLevel,"
                    " loadLevel: s.loadLevel, currentTime: s.currentTime, estimate: s.bandwidthEstimate,"
                    " buffer: s.bufferAhead, fatal: s.errors.some(e => e.fatal || e.blocking)}; }"
                )
                samples.append(s)
                if on_sample:
                    on_sample(s, phase)
                if s["fatal"]:
                    break
                page.wait_for_timeout(500)
            result.end = clock()
            results.append(result)
            if samples and samples[-1]["fatal"]:
                break
        if screenshot:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
        state = page.evaluate("hlskitPlayer.state()")
    finally:
        context.close()
        if pw is not None:
            browser.close()
            pw.stop()
    return judge(shown, results, state, samples)
