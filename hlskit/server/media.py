"""GET /media/<path>: packaged playlists and segments from the media root.

Only regular files inside the media root with a known media type are served (not the
``hlskit.json`` manifest: it is operator data, naming source paths and job ids): no ``..``, no
absolute paths, no hidden or temporary files (``.name.tmp`` from atomic writes), nothing a
symlink points to outside the root. Werkzeug decodes the URL once before routing, so ``%2e%2e``
and ``%2f`` arrive here as ``..`` and ``/`` and are refused like the plain forms; a ``%`` left
after decoding means double encoding and is refused too. The first path part is a package folder,
so it must be a valid content id (``hlskit.domain.ids``): ``/media/x%0A/...`` is refused like an
escape.

Nothing here answers 500: a name part over 255 bytes (Linux NAME_MAX, ENAMETOOLONG), a symlink
loop, a file that vanishes, or any other OSError is 404; a file the server may not read is 403.
A playlist that is not UTF-8 (RFC 8216 §4.1 requires UTF-8) is served byte for byte as stored;
asked for with ``?token=``, it is refused with 422, since its URIs cannot be rewritten safely.

Segments and init sections are served to anyone: they are encrypted. MP4 downloads
(``--mp4``) are clear, so they are served only for a playback token of their package's content id,
checked as the key service checks it (query, Bearer header or cookie), while that package's keys
are live, and kept out of shared caches; :mod:`hlskit.server.downloads` says which files are
downloads, by what they are rather than where the URL puts them.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, request, send_file

from ..domain.ids import is_content_id
from ..keys.tokens import TOKEN_PATTERN, PlaybackTokens
from ..stores.keys import KeyStore
from . import downloads
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
NAME_MAX = 255  # bytes per path part on Linux filesystems; longer names fail with ENAMETOOLONG
_FORBIDDEN = (errno.EACCES, errno.EPERM)
_ONE_BYTE_RANGE = re.compile(r"^\s*bytes\s*=[^,]*$", re.IGNORECASE)
_SUFFIX_RANGE = re.compile(r"^\s*bytes\s*=\s*-\s*0*([1-9]\d*)\s*$", re.IGNORECASE)  # the last N bytes


def resolve(root: Path, subpath: str) -> Path | None:
    """The file ``subpath`` names inside ``root``, or None if it is not a servable media file."""
    if not subpath or subpath.startswith("/") or any(c in subpath for c in "\\\x00%"):
        return None
    parts = subpath.split("/")
    if any(not p or p.startswith(".") or len(p.encode("utf-8", "surrogatepass")) > NAME_MAX for p in parts):
        return None  # "", ".", "..", hidden files, names no filesystem here can hold
    if not is_content_id(parts[0]):  # <content-id>/... (or a file directly in the root)
        return None
    real_root = root.resolve()
    try:
        target = (real_root / subpath).resolve()  # follows symlinks, so links out are caught below
    except RuntimeError:  # a symlink loop (pathlib raises RuntimeError for it before Python 3.13)
        return None
    if not target.is_relative_to(real_root) or target.suffix.lower() not in MEDIA_TYPES:
        return None
    return target if target.is_file() else None


def _playlist(target: Path) -> Response:
    found = next(((p, request.args[p]) for p in QUERY_PARAMS if request.args.get(p)), None)
    if found is not None and not TOKEN_PATTERN.fullmatch(found[1]):
        return json_error(400, "Token.Malformed", "the token parameter is malformed: request a new token.")
    body = target.read_bytes()
    if found is not None:
        param, token = found
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return json_error(
                422,
                "Media.NotUtf8",
                "this playlist is not UTF-8 (RFC 8216 section 4.1), so the token cannot be added to it: "
                "re-package it, or fetch it without ?token= and send the token another way.",
            )
        body = add_token(text, token, param).encode("utf-8")
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
    response.last_modified = datetime.fromtimestamp(target.stat().st_mtime, UTC)
    # A tokenised playlist carries a grant: keep it out of shared caches.
    response.headers["Cache-Control"] = "private, no-store" if found is not None else PLAYLIST_CACHE
    # the length makes Werkzeug answer the Range it advertises (206), not the whole playlist
    response.make_conditional(request, accept_ranges=not compress, complete_length=None if compress else len(body))
    return response


def create_blueprint(media_root: Path, cors: CorsPolicy, secret: bytes, store: KeyStore) -> Blueprint:
    bp = Blueprint("media", __name__)
    tokens = PlaybackTokens(secret)

    @bp.route("/media/<path:subpath>", methods=["GET", "OPTIONS"])
    def media(subpath: str) -> Response:
        if request.method == "OPTIONS":
            return cors.preflight(request, media=True)
        try:
            response = _answer(media_root, subpath, tokens, store)
        except OSError as exc:
            if exc.errno in _FORBIDDEN:
                response = json_error(
                    403, "Media.Forbidden", "the server may not read this media file: check its permissions."
                )
            else:  # ENAMETOOLONG, ELOOP, ENOENT after a race, EISDIR, EIO...
                response = _not_found()
        response.headers["X-Content-Type-Options"] = "nosniff"
        return cors.apply(request, response, media=True)

    return bp


def _answer(media_root: Path, subpath: str, tokens: PlaybackTokens, store: KeyStore) -> Response:
    target = resolve(media_root, subpath)
    if target is None:
        return _not_found()
    package = downloads.owning_package(media_root.resolve(), target)
    if package is False:
        return _serve(target)
    # A clear MP4 download: only for a grant to its package's content, while its keys are live.
    refused = downloads.refusal(package, request, tokens, store)
    if refused is not None:
        refusal, reason = refused
        response = json_error(refusal.status, refusal.code, refusal.message)
        if refusal.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="hlskit"'
        if refusal.status == 503:
            response.headers["Retry-After"] = "1"
        return response
    response = _serve(target)
    response.headers["Cache-Control"] = "private, no-store"  # a grant: never in shared caches
    return response


def _not_found() -> Response:
    return json_error(404, "Media.NotFound", "no such media file.")


def _serve(target: Path) -> Response:
    if not _ONE_BYTE_RANGE.match(request.environ.get("HTTP_RANGE", "bytes=")):
        # RFC 9110 §14.2: a server MUST ignore an unknown range unit and MAY ignore a Range it
        # does not serve; Werkzeug would answer 416 to both (it builds no multipart/byteranges).
        del request.environ["HTTP_RANGE"]
    suffix = _SUFFIX_RANGE.match(request.environ.get("HTTP_RANGE", ""))
    if suffix and (len(suffix.group(1)) > 18 or int(suffix.group(1)) >= target.stat().st_size):
        # RFC 9110 §14.1.2: a suffix longer than the file selects all of it (Werkzeug answers 416)
        request.environ["HTTP_RANGE"] = "bytes=0-"
    if MEDIA_TYPES[target.suffix.lower()] == PLAYLIST:
        return _playlist(target)
    return send_file(
        target,
        mimetype=MEDIA_TYPES[target.suffix.lower()],
        conditional=True,
        etag=True,
        max_age=SEGMENT_MAX_AGE,
    )
