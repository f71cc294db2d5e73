"""GET /media/<path>: packaged playlists and segments from the media root.

Only regular files inside the media root with a known media type are served (not the
``hlskit.json`` manifest: it is operator data, naming source paths and job ids): no ``..``, no
absolute paths, no hidden or temporary files (``.name.tmp`` from atomic writes), nothing a
symlink points to outside the root. Werkzeug decodes the URL once before routing, so ``%2e%2e``
and ``%2f`` arrive here as ``..`` and ``/`` and are refused like the plain forms; a ``%`` left
after decoding means double encoding and is refused too. The first path part is a package folder,
so it must be a valid content id (``hlskit.domain.ids``): ``/media/x%0A/...`` is refused like an
escape.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from flask import Blueprint, Response, request, send_file

from ..domain.ids import is_content_id
from ..keys.tokens import TOKEN_PATTERN
from .cors import CorsPolicy
from .keys import QUERY_PARAMS
from .passthrough import add_token
from .responses import json_error

PLAYLIST = "application/vnd.apple.mpegurl"
MEDIA_TYPES = {
    ".m3u8": PLAYLIST,
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".vtt": "text/vtt",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}
SEGMENT_MAX_AGE = 300  # seconds; short because re-packaging a content id reuses segment names
PLAYLIST_CACHE = "public, max-age=10"


def resolve(root: Path, subpath: str) -> Path | None:
    """The file ``subpath`` names inside ``root``, or None if it is not a servable media file."""
    if not subpath or subpath.startswith("/") or any(c in subpath for c in "\\\x00%"):
        return None
    parts = subpath.split("/")
    if any(not p or p.startswith(".") for p in parts):  # "", ".", "..", hidden files
        return None
    if not is_content_id(parts[0]):  # <content-id>/... (or a file directly in the root)
        return None
    real_root = root.resolve()
    target = (real_root / subpath).resolve()  # follows symlinks, so links out are caught below
    if not target.is_relative_to(real_root) or target.suffix.lower() not in MEDIA_TYPES:
        return None
    return target if target.is_file() else None


def _playlist(target: Path) -> Response:
    param, token = next(((p, request.args[p]) for p in QUERY_PARAMS if request.args.get(p)), (None, None))
    text = target.read_text(encoding="utf-8")
    if token:
        if not TOKEN_PATTERN.match(token):
            return json_error(400, "Token.Malformed", "the token parameter is malformed: request a new token.")
        text = add_token(text, token, param)
    body = text.encode("utf-8")
    etag = hashlib.sha256(body).hexdigest()[:32]
    compress = request.accept_encodings["gzip"] > 0
    if compress:
        body = gzip.compress(body, compresslevel=6, mtime=0)
        etag += "-gz"  # a different representation needs a different strong ETag
    response = Response(body, mimetype=PLAYLIST)
    if compress:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(etag)
    response.last_modified = target.stat().st_mtime
    # A tokenised playlist carries a grant: keep it out of shared caches.
    response.headers["Cache-Control"] = "private, no-store" if token else PLAYLIST_CACHE
    return response.make_conditional(request, accept_ranges=not compress)


def create_blueprint(media_root: Path, cors: CorsPolicy) -> Blueprint:
    bp = Blueprint("media", __name__)

    @bp.route("/media/<path:subpath>", methods=["GET", "OPTIONS"])
    def media(subpath: str) -> Response:
        if request.method == "OPTIONS":
            return cors.preflight(request, media=True)
        target = resolve(media_root, subpath)
        if target is None:
            response = json_error(404, "Media.NotFound", "no such media file.")
        elif MEDIA_TYPES[target.suffix.lower()] == PLAYLIST:
            response = _playlist(target)
        else:
            response = send_file(
                target,
                mimetype=MEDIA_TYPES[target.suffix.lower()],
                conditional=True,
                etag=True,
                max_age=SEGMENT_MAX_AGE,
            )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return cors.apply(request, response, media=True)

    return bp
