"""Set-up commands: ``config`` (the resolved settings and where each came from) and ``doctor``
(checks FFmpeg, hls.js, Chromium, the home's permissions, the secrets and, for the Celery engine, the broker and its workers, with a fix for each)."""

from __future__ import annotations

import importlib.util
import json
import stat
import subprocess
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import click

from ..config import SECRET_SETTINGS, Resolved, resolve_settings
from ..domain.errors import HlskitError
from ..domain.settings import Settings
from ..engines.celery.app import broker_identity, broker_url, make_app, ping_workers
from ..engines.encode import ffmpeg_exe
from ..keys.tokens import token_secret
from ..server.player import HLS_DIST, HLS_JS_VERSION
from ..stores.db import mask_url
from ..stores.keys import load_master_key
from .abrcheck import chromium_path


def _resolved(ctx: click.Context) -> Resolved:
    return resolve_settings((ctx.find_root().obj or {}).get("config_file"))


def _shown(name: str, value: object, settings: Settings) -> str:
    """A setting as `hlskit config` shows it: secrets masked, unset values explained."""
    if name in SECRET_SETTINGS:
        if value:
            return "******** (set)"
        file = {"token_secret": "token.secret", "notify_secret": "notify.secret", "task_secret": "task.secret"}.get(
            name
        )
        if file is None:
            return "(not set)"
        path = settings.home / file
        return f"******** (in {path})" if path.exists() else f"(not set: {path}, made on first use)"
    if name == "mts_access_key_id" and value:
        text = str(value)
        return text[:4] + "****" if len(text) > 8 else "****"
    if name == "ffmpeg" and not value:
        return "(bundled, from imageio-ffmpeg)"
    if value is None:
        return "(not set)"
    return mask_url(str(value))  # store_url: postgresql://user:***@host/db


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as one JSON object.")
@click.pass_context
def config(ctx: click.Context, as_json: bool) -> None:
    """Show the settings in use, where each came from (default, file, env, flag, project) and the home.

    Secrets are masked. The home is, in order: HLSKIT_HOME, `home` in the config file, a `.hlskit/`
    folder in the current folder or above it, else ~/.local/share/hlskit.

    \b
    Example:
      hlskit config
      hlskit config --json | jq -r .home
    """
    resolved = _resolved(ctx)
    settings = resolved.settings
    rows = {
        f.name: {"value": _shown(f.name, getattr(settings, f.name), settings), "source": str(resolved.sources[f.name])}
        for f in fields(Settings)
    }
    config_file = str(resolved.config_file) if resolved.config_file else None
    if as_json:
        out = {
            "home": str(settings.home),
            "home_source": str(resolved.sources["home"]),
            "config_file": config_file,
            "config_file_source": resolved.config_source or None,
            "settings": rows,
        }
        click.echo(json.dumps(out, indent=1))
        return
    if config_file:
        click.echo(f"config file: {config_file} (from {resolved.config_source})")
    else:
        click.echo("config file: none (no --config, no $HLSKIT_CONFIG, no ./hlskit.toml)")
    click.echo(f"home: {settings.home} (from {resolved.sources['home']})")
    click.echo("")
    width = max(len(n) for n in rows)
    source_width = max(len(r["source"]) for r in rows.values())
    click.echo(f"{'setting':<{width}}  {'from':<{source_width}}  value")
    for name, row in rows.items():
        click.echo(f"{name:<{width}}  {row['source']:<{source_width}}  {row['value']}")


# --- doctor -----------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    status: str  # "ok", "warn" (works, but worth fixing) or "fail"
    detail: str  # what was found, one sentence
    fix: str = ""  # how to fix it, when not ok


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))[2:].zfill(4)


def check_ffmpeg(settings: Settings) -> Check:
    configured = bool(settings.ffmpeg)
    fix = (
        "set the ffmpeg setting (HLSKIT_FFMPEG or hlskit.toml) to a working FFmpeg binary, or unset it to use the bundled one"
        if configured
        else "reinstall the bundled binary: pip install --force-reinstall imageio-ffmpeg (or set HLSKIT_FFMPEG)"
    )
    try:
        path = ffmpeg_exe(settings.ffmpeg_config())
    except HlskitError as exc:
        return Check("ffmpeg", "fail", exc.message, fix)
    except (ImportError, RuntimeError) as exc:  # imageio-ffmpeg missing or without its binary
        return Check("ffmpeg", "fail", f"no bundled FFmpeg ({exc})", fix)
    what = "configured" if configured else "bundled"
    try:
        done = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("ffmpeg", "fail", f"{what} FFmpeg {path} does not run ({exc})", fix)
    first = (done.stdout.splitlines() or [""])[0]
    if done.returncode != 0 or not first.startswith("ffmpeg version"):
        return Check("ffmpeg", "fail", f"{what} FFmpeg {path} failed `-version` (exit {done.returncode})", fix)
    return Check("ffmpeg", "ok", f"{what} {path}: {' '.join(first.split()[:3])}")


def check_hls_js() -> Check:
    fix = "reinstall hlskit (pip install --force-reinstall hlskit, or pip install . from the checkout)"
    path = HLS_DIST / "hls.min.js"
    if not path.is_file() or path.stat().st_size == 0:
        return Check("hls.js", "fail", f"hls.js is missing from {HLS_DIST}; the player cannot play", fix)
    if HLS_JS_VERSION not in path.read_text(errors="replace")[:200_000]:
        return Check("hls.js", "fail", f"{path} is not hls.js {HLS_JS_VERSION}, the version the player expects", fix)
    if not (HLS_DIST / "hls.js.LICENSE").is_file():
        return Check("hls.js", "fail", f"hls.js's licence is missing from {HLS_DIST}", fix)
    return Check("hls.js", "ok", f"hls.js {HLS_JS_VERSION} at {path}")


def check_chromium() -> Check:
    # Only `hlskit abr-check` and the browser tests need Chromium: a warning, not a failure.
    try:
        path = chromium_path()
    except HlskitError as exc:
        return Check(
            "chromium",
            "warn",
            "Chromium is not installed (only abr-check and the browser tests need it)",
            exc.message.split(": ", 1)[-1].rstrip("."),
        )
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
        version = done.stdout.strip() or done.stderr.strip().splitlines()[-1]
    except (OSError, subprocess.TimeoutExpired, IndexError) as exc:
        return Check(
            "chromium", "warn", f"Chromium at {path} does not run ({exc})", f"check it with `{path} --version`"
        )
    if importlib.util.find_spec("playwright") is None:
        return Check(
            "chromium",
            "warn",
            f"{version} at {path}, but Playwright is not installed (abr-check drives Chromium with it)",
            "pip install 'hlskit[player]' (or pip install playwright)",
        )
    return Check("chromium", "ok", f"{version} at {path}")


def check_home(settings: Settings) -> Check:
    home = Path(settings.home)
    if not home.exists():
        return Check("home", "ok", f"{home} does not exist yet; the first command that needs it creates it")
    if not home.is_dir():
        return Check("home", "fail", f"{home} is not a folder", "remove it or point HLSKIT_HOME at a folder")
    mode = home.stat().st_mode
    if mode & 0o077:
        # Writable by others: anyone could swap the key store or the master key; readable: they
        # could read job records (source paths). Secrets themselves are checked one by one below.
        status, how = ("fail", "writable") if mode & 0o022 else ("warn", "readable")
        return Check(
            "home",
            status,
            f"{home} is {how} by other users (mode {_mode(home)}); it holds the job and key stores",
            f"run chmod 700 {home}",
        )
    return Check("home", "ok", f"{home} (mode {_mode(home)})")


def check_master_key(settings: Settings) -> Check:
    path = settings.store_config().master_key_file
    if not path.exists():
        if settings.production:
            return Check(
                "master key",
                "fail",
                f"{path} is missing in production mode",
                "restore it from backup (a new one cannot unwrap existing keys) or set master_key_file",
            )
        return Check("master key", "ok", f"{path} does not exist yet; the first package creates it (mode 0600)")
    try:
        load_master_key(path)  # the key store's own checks: mode 0600, 32 bytes
    except HlskitError as exc:
        problem, _, fix = exc.message.partition(": ")
        return Check("master key", "fail", problem, fix.rstrip("."))
    return Check("master key", "ok", f"{path} (mode {_mode(path)}, 32 bytes)")


def check_token_secret(settings: Settings, sources: dict) -> Check:
    path = Path(settings.home) / "token.secret"
    if not settings.token_secret and not path.exists():
        if settings.production:
            return Check(
                "token secret",
                "fail",
                f"no token secret in production mode (neither HLSKIT_TOKEN_SECRET nor {path})",
                "set HLSKIT_TOKEN_SECRET to 32+ random characters, e.g. from `openssl rand -hex 32`",
            )
        return Check("token secret", "ok", f"{path} does not exist yet; serve or token creates it (mode 0600)")
    where = f"setting token_secret from {sources['token_secret']}" if settings.token_secret else str(path)
    try:
        # The production rules (32+ characters, not repetitive, file mode 0600) without creating anything.
        token_secret(settings.replace(production=True).token_config())
    except HlskitError as exc:
        problem, _, fix = exc.message.partition(": ")
        weak_only = settings.token_secret and not settings.production
        return Check("token secret", "warn" if weak_only else "fail", f"{where}: {problem}", fix.rstrip("."))
    masked = "(value masked)"
    if settings.token_secret:
        return Check("token secret", "ok", f"{where} {masked}, strong enough for production")
    return Check("token secret", "ok", f"{path} (mode {_mode(path)}) {masked}")


def check_notify_secret(settings: Settings) -> Check | None:
    path = Path(settings.home) / "notify.secret"
    if settings.notify_secret or not path.exists():
        return None
    if path.stat().st_mode & 0o077:
        return Check(
            "notify secret",
            "fail",
            f"{path} is readable by other users (mode {_mode(path)})",
            f"run chmod 600 {path}",
        )
    return Check("notify secret", "ok", f"{path} (mode {_mode(path)})")


def check_broker(settings: Settings) -> list[Check]:
    """The Celery engine's broker answers, and so does at least one worker (Celery's inspect ping).
    Nothing to check when neither broker_url nor the celery engine is configured."""
    if not settings.broker_url and settings.engine != "celery":
        return []
    config = settings.celery_config()
    fix = "start Redis there (Debian: apt-get install redis-server), or set broker_url to the broker's redis:// URL"
    try:
        url = mask_url(broker_url(config))
        broker_identity(config)
    except HlskitError as exc:
        return [Check("broker", "fail", exc.message.rstrip("."), fix)]
    except OSError as exc:
        return [Check("broker", "fail", f"the broker {url} does not answer ({exc})", fix)]
    checks = [Check("broker", "ok", f"Redis at {url} answers")]
    try:
        workers = ping_workers(make_app(config), timeout=2.0)
    except Exception as exc:  # kombu's errors: the broker went away between the two checks
        workers, why = [], f" ({exc})"
    else:
        why = ""
    if workers:
        checks.append(Check("workers", "ok", f"{len(workers)} answer a ping: {', '.join(workers)}"))
    else:
        status = "fail" if settings.engine == "celery" else "warn"  # packages would wait for a worker forever
        detail = f"no hlskit worker answers a ping on {url}{why}"
        checks.append(
            Check("workers", status, detail, "start one on each encoding host: hlskit worker --concurrency 1")
        )
    return checks


def run_checks(resolved: Resolved) -> list[Check]:
    settings = resolved.settings
    checks = [
        check_ffmpeg(settings),
        check_hls_js(),
        check_chromium(),
        check_home(settings),
        check_master_key(settings),
        check_token_secret(settings, resolved.sources),
        check_notify_secret(settings),
        *check_broker(settings),
    ]
    return [c for c in checks if c is not None]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as one JSON object.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check FFmpeg, hls.js, Chromium, the home's permissions, the secrets and (with broker_url or the
    celery engine) the broker and its workers, and say how to fix each.

    Exits 1 when a check fails; a warning (e.g. no Chromium, which only abr-check needs) does not.

    \b
    Example:
      hlskit doctor
      hlskit doctor --json | jq '.checks[] | select(.status != "ok")'
    """
    resolved = _resolved(ctx)
    checks = run_checks(resolved)
    failed = [c for c in checks if c.status == "fail"]
    if as_json:
        out = {"ok": not failed, "home": str(resolved.settings.home), "checks": [asdict(c) for c in checks]}
        click.echo(json.dumps(out, indent=1))
    else:
        click.echo(f"hlskit doctor (home {resolved.settings.home}, from {resolved.sources['home']})")
        for c in checks:
            label = {"ok": "ok", "warn": "warn", "fail": "FAIL"}[c.status]
            click.echo(f"  {label:<4}  {c.name:<13} {c.detail}" + (f": {c.fix}." if c.fix else ""))
        if failed:
            click.echo(f"{len(failed)} problem{'s' if len(failed) != 1 else ''}: fix the lines marked FAIL.")
        else:
            click.echo("no problems found.")
    if failed:
        sys.exit(1)


def register(main: click.Group) -> None:
    main.add_command(config)
    main.add_command(doctor)
