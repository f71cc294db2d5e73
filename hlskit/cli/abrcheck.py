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
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from ..domain.errors import ConfigError, InputError
from .abrreport import AbrReport, Phase, PhaseResult, judge

if TYPE_CHECKING:  # Playwright is imported when Chromium is launched: only abr-check needs it
    from playwright.sync_api import Browser, CDPSession, Playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


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


def launch_chromium(headless: bool = True) -> tuple[Playwright, Browser]:
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


def throttle(cdp: CDPSession, kbps: int | None, latency_ms: float = 20) -> None:
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


def run_abr_check(
    url: str,
    phases: tuple[Phase, ...],
    *,
    token: str | None = None,
    ewma: tuple[float, float] | None = None,
    screenshot: str | Path | None = None,
    start_timeout: float = 30,
    on_sample: Callable[[dict, Phase], None] | None = None,
    browser: Browser | None = None,
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
