"""The player blueprint: the HTML test player page, its static files and hls.js.

``GET /play/<content-id>`` plays this server's ``/media/<content-id>/master.m3u8``;
``GET /play?src=<playlist URL>&token=<T>`` plays any HLS URL. The page, its JS and CSS and a
pinned hls.js (vendored from the npm package with its licence: ``static/vendor``; see
``HLS_JS_VERSION``) ship inside the package, so an installed wheel plays with no npm and no CDN.
Without a token, ``/play/<content-id>`` mints one, except in production mode, so that a local
``hlskit serve`` plays at once; that token is playback-only: it fetches keys, never the package's
clear MP4 downloads, since anyone who can open the page gets it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, render_template, request, send_from_directory

from ..domain.ids import is_content_id
from ..domain.manifest import Manifest
from ..domain.names import MANIFEST
from ..keys.tokens import PlaybackTokens

HERE = Path(__file__).resolve().parent
HLS_DIST = HERE / "static" / "vendor"
HLS_JS_VERSION = "1.7.4"  # player/package.json pins the same; tests/browser/test_blueprint.py checks both
# Only these vendored files are served.
VENDOR_FILES = {"hls.min.js", "hls.js.LICENSE"}


def hls_js_missing() -> str | None:
    """The sentence to show when hls.js is not installed, else None."""
    if (HLS_DIST / "hls.min.js").is_file():
        return None
    return (
        f"hls.js is missing from {HLS_DIST}: this hlskit installation is incomplete; "
        "reinstall it (pip install --force-reinstall hlskit) and reload this page."
    )


def _plain_error(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _ewma(text: str | None) -> list[float] | None:
    """``ewma=FAST,SLOW``: hls.js's bandwidth-estimate half-lives in seconds (default 3,9)."""
    try:
        fast, slow = (float(x) for x in (text or "").split(","))
    except ValueError:
        return None
    return [fast, slow] if 0 < fast <= slow <= 60 else None


def _buffer(text: str | None) -> float | None:
    """``buffer=SECONDS``: hls.js's maxBufferLength, up to an hour (NaN or Infinity would break the page's JSON)."""
    try:
        seconds = float(text or "")
    except ValueError:
        return None
    return seconds if 0 < seconds <= 3600 else None


def quality_labels(media_root: Path | None, content_id: str) -> dict[str, str] | None:
    """{definition: "VMAF 93.1"} from the package's hlskit.json when `hlskit quality` scored it.

    Only these figures leave the manifest (it names source paths and job ids, and is not served)."""
    if media_root is None:
        return None
    try:
        manifest = Manifest.read(media_root / content_id / MANIFEST)
        labels = {d.name: f"VMAF {float(d.vmaf):.1f}" for d in manifest.definitions if d.vmaf is not None}
    except (OSError, ValueError, TypeError):
        return None  # no manifest, or not one of ours: the menu simply shows no quality
    return labels or None


def _page(
    src: str, token: str | None, title: str, minted: bool = False, quality: dict[str, str] | None = None
) -> Response:
    missing = hls_js_missing()
    if missing:
        return _plain_error(missing, 503)
    config = {
        "src": src,
        "token": token or None,
        "tokenMinted": minted,
        "hlsUrl": f"{request.script_root}/player/vendor/hls.min.js",
        "maxBufferLength": _buffer(request.args.get("buffer")),
        "engine": request.args.get("engine", "auto"),
        "loop": request.args.get("loop") == "1",
        "autostart": request.args.get("autostart") != "0",
        "abrEwma": _ewma(request.args.get("ewma")),
        # In-page network shaping from the start, e.g. shape=700x20,0 (shaping.js parses it).
        "shape": request.args.get("shape", "")[:80] or None,
        # The audio and subtitle renditions to start with: a language (fr), a NAME, or subtitles=off
        # (renditions.js pickTrack reads them).
        "audio": request.args.get("audio", "")[:80] or None,
        "subtitles": request.args.get("subtitles", "")[:80] or None,
        # {definition: "VMAF 93.1"} shown in the menu, from `hlskit quality` (see quality_labels).
        "quality": quality,
    }
    html = render_template("hlskit_player.html", title=title, config=config)
    resp = Response(html, mimetype="text/html")
    # The page URL may carry a token: keep it out of other sites' Referer headers and caches.
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["Cache-Control"] = "no-store"
    # Another site must not frame it: in development /play mints a token for whoever opens it.
    resp.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    return resp


def create_blueprint(token_secret: bytes | None, token_ttl: int, media_root: Path | None = None) -> Blueprint:
    """The player routes. ``token_secret``: mint tokens for ``/play/<content-id>`` opened
    without one; None (production mode) never mints, and the page asks for ``?token=``.
    ``media_root``: where packages are, to show their VMAF scores in the menu."""
    bp = Blueprint(
        "player",
        __name__,
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static" / "player"),
        static_url_path="/player/static",
    )
    tokens = PlaybackTokens(token_secret) if token_secret is not None else None

    @bp.get("/play/<content_id>")
    def play_content(content_id: str) -> Response:
        if not is_content_id(content_id):
            return _plain_error(
                f"{content_id[:80]!r} is not a content id: use the id printed by `hlskit package`.", 400
            )
        token = request.args.get("token")
        minted = False
        if not token and tokens is not None:
            # Playback only: this page hands the token to whoever opens it, so it must not
            # also fetch the package's clear MP4 downloads (hlskit.server.downloads).
            token = tokens.make(content_id, token_ttl, playback_only=True)
            minted = True
        src = f"{request.script_root}/media/{content_id}/master.m3u8"
        return _page(src, token, content_id, minted, quality_labels(media_root, content_id))

    @bp.get("/play")
    def play_url() -> Response:
        src = (request.args.get("src") or "").strip()
        if not src:
            return _plain_error("no stream given: open /play?src=<master or media playlist URL>&token=<T>.", 400)
        scheme = urlsplit(src).scheme.lower()
        if scheme not in ("http", "https") and not (scheme == "" and src.startswith("/")):
            return _plain_error(
                f"src {src!r} is not an http(s) URL or a path on this server: pass a playlist URL.", 400
            )
        return _page(src, request.args.get("token"), src.rsplit("/", 1)[-1] or src)

    @bp.get("/player/vendor/<name>")
    def vendor(name: str) -> Response:
        if name not in VENDOR_FILES:
            abort(404)
        missing = hls_js_missing()
        if missing:
            return _plain_error(missing, 503)
        return send_from_directory(HLS_DIST, name, max_age=3600)

    return bp
