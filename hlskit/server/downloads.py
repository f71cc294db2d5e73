"""MP4 downloads: which media files are clear downloads, and when one may be served.

A download is a file in a ``downloads/`` folder of a package folder — one holding ``hlskit.json``
— wherever the media root puts that package: ``<root>/<content-id>/downloads/LD.mp4``, the same
one level deeper when the root is the parent of several sites, or ``<root>/downloads/LD.mp4``
when the root is the package itself. It is judged on the real path after symlinks, so a link to
a download, or a link to its folder, is a download too. A ``downloads`` folder that no package
claims is refused, never served as ordinary media: hlskit writes downloads only inside packages.

A download is clear (``--mp4``: progressive MP4 has no AES-128), so it is served only when
1. a playback token for the content id of its package's manifest comes with the request, and
   not a playback-only one (the test player mints those for itself in development mode);
2. the package's keys are live: every key its manifest lists is in the key store and none is
   revoked. Revoking any of them (``hlskit keys revoke``, or re-packaging, which revokes the
   previous package's keys) withdraws the downloads with the stream. A package made with
   ``--no-encrypt`` lists no key and has nothing to revoke: its segments are public anyway, so its
   downloads need only the token; delete the package folder to withdraw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from flask import Request

from ..domain.ids import is_content_id
from ..domain.manifest import Manifest
from ..domain.names import DOWNLOADS, MANIFEST
from ..keys.tokens import PlaybackTokens, TokenError
from ..stores.db import StoreUnavailable
from ..stores.keys import KeyStore
from .keys import request_token


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


NO_PACKAGE = Refusal(404, "Media.NotFound", "no such media file.")


def _is_package(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def owning_package(real_root: Path, target: Path) -> Path | None | Literal[False]:
    """False: ``target`` (a resolved file inside ``real_root``) is not a download. Else the package
    folder whose downloads folder holds it, or None when no package claims that folder."""
    folders = target.relative_to(real_root).parts[:-1]
    for i in range(len(folders) - 1, -1, -1):
        here = real_root.joinpath(*folders[: i + 1])
        if folders[i].lower() != DOWNLOADS or _is_package(here):  # a package named "downloads" is a package
            continue
        for j in range(i, -1, -1):  # the nearest package above it, up to the root's parent
            if _is_package(real_root.joinpath(*folders[:j])):
                return real_root.joinpath(*folders[:j])
        return real_root.parent if _is_package(real_root.parent) else None
    if real_root.name.lower() == DOWNLOADS and _is_package(real_root.parent):
        return real_root.parent  # the root is a package's downloads folder
    return False


def _manifest(package: Path) -> tuple[str, list[str], bool] | None:
    """(content id, key ids, encrypted) from the package's manifest; None when it is not one."""
    try:
        manifest = Manifest.read(package / MANIFEST)
    except (OSError, ValueError):
        return None
    if not is_content_id(manifest.content_id):
        return None
    key_ids = sorted(manifest.key_ids())
    return manifest.content_id, key_ids, manifest.encryption.method != "NONE" or bool(key_ids)


def refusal(
    package: Path | None, request: Request, tokens: PlaybackTokens, store: KeyStore
) -> tuple[Refusal, str | None] | None:
    """None when the download in ``package`` may be served for this request; else the refusal
    and, for a token refusal, its reason (the 401 answer adds WWW-Authenticate)."""
    facts = _manifest(package) if package is not None else None
    if facts is None:
        return NO_PACKAGE, None
    content_id, key_ids, encrypted = facts
    try:
        claims = tokens.verify(request_token(request), content_id, request.remote_addr)
    except TokenError as exc:
        return Refusal(exc.status, exc.code, exc.message), exc.reason
    if claims.playback_only:
        return (
            Refusal(
                403,
                "Token.PlaybackOnly",
                "this token plays the stream but fetches no MP4 download (the test player made it): "
                f"use a token from `hlskit token {content_id}`.",
            ),
            "playback-only",
        )
    if not encrypted:
        return None
    try:
        live = {r.key_id for r in store.list(content_id) if not r.revoked}
    except StoreUnavailable:
        return Refusal(503, "Media.StoreUnavailable", "the key store is unreachable: try again shortly."), None
    if not key_ids or not live.issuperset(key_ids):
        return (
            Refusal(
                404,
                "Media.Revoked",
                "the keys of this content are revoked or unknown here, so its downloads are withdrawn too: "
                "re-package it to publish them again.",
            ),
            None,
        )
    return None
