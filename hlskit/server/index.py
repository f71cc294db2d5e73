"""The index page at ``/``: every package under the media root, with a play link.

Each package is described from its own ``hlskit.json`` (definitions, duration, encryption), never
with the source's path or the job ids. A folder whose manifest is unreadable is listed as skipped,
with the reason, so one broken package never hides the others. In production mode the page lists
nothing: a public list of every content id is not the key service's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, render_template, request

from ..domain.ids import is_content_id
from ..domain.manifest import Manifest
from ..domain.manifest_records import Encryption
from ..domain.names import MANIFEST, MASTER

HERE = Path(__file__).resolve().parent


@dataclass
class PackageRow:
    content_id: str
    definitions: list[str]  # "HD 1280x720 2.1 Mb/s"
    duration: float  # seconds
    encryption: str  # "AES-128", "AES-128, new key every 5 segments", "none"
    created_at: str
    playable: bool  # master.m3u8 is published
    notes: list[str] = field(default_factory=list)


@dataclass
class Skipped:
    folder: str
    reason: str


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


def _rate(bps: float) -> str:
    return f"{bps / 1e6:.1f} Mb/s" if bps >= 1e6 else f"{round(bps / 1000)} kb/s"


def _encryption(enc: Encryption) -> str:
    if enc.method == "NONE":
        return "none"
    extra = []
    if enc.rotate_every:
        extra.append(f"new key every {int(enc.rotate_every)} segments")
    if enc.clear_lead:
        extra.append(f"first {int(enc.clear_lead)} segments clear")
    return ", ".join([str(enc.method), *extra])


def read_package(folder: Path) -> PackageRow:
    """One package's row from its manifest; raises ValueError with the reason it cannot be listed."""
    try:
        manifest = Manifest.read(folder / MANIFEST)
    except OSError as exc:
        raise ValueError(f"{MANIFEST} cannot be read ({exc.__class__.__name__})")
    except ValueError as exc:
        raise ValueError(f"{MANIFEST} is {exc}")
    content_id = manifest.content_id
    if not is_content_id(content_id):
        raise ValueError(f"{MANIFEST} names no valid content id")
    if content_id != folder.name:
        raise ValueError(f"it holds content {content_id!r}: rename the folder to {content_id}")
    try:
        variants = sorted(manifest.master.variants if manifest.master else [], key=lambda v: v.bandwidth)
        if variants:
            definitions = [f"{v.definition} {v.resolution} {_rate(v.bandwidth)}" for v in variants]
            duration = max(float(v.duration or 0) for v in variants)
        else:
            done = manifest.done()
            definitions = [f"{d.name} {d.width}x{d.height}" for d in done]
            duration = max((float(d.duration or 0) for d in done), default=0.0)
        encryption = _encryption(manifest.encryption)
    except (TypeError, ValueError, AttributeError):
        raise ValueError(f"{MANIFEST} is not an hlskit manifest")
    return PackageRow(
        content_id=content_id,
        definitions=definitions,
        duration=duration,
        encryption=encryption,
        created_at=str(manifest.created_at or ""),
        playable=(folder / MASTER).is_file(),
        notes=manifest.failed_notes(),
    )


def scan(media_root: Path) -> tuple[list[PackageRow], list[Skipped]]:
    """Every package folder directly under ``media_root`` (hidden folders and plain folders ignored)."""
    rows: list[PackageRow] = []
    skipped: list[Skipped] = []
    if not media_root.is_dir():
        return rows, skipped
    for folder in sorted(p for p in media_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (folder / MANIFEST).exists():
            continue
        try:
            rows.append(read_package(folder))
        except ValueError as exc:
            skipped.append(Skipped(folder.name, str(exc)))
    return rows, skipped


def create_blueprint(media_root: Path, listing: bool) -> Blueprint:
    """``GET /``: the package list (``listing`` False, as in production, shows none)."""
    bp = Blueprint("index", __name__, template_folder=str(HERE / "templates"))

    @bp.get("/")
    def index() -> Response:
        rows, skipped = scan(media_root) if listing else ([], [])
        html = render_template(
            "index.html",
            listing=listing,
            media_root=media_root.name or str(media_root),
            packages=rows,
            skipped=skipped,
            format_duration=_duration,
            base=request.script_root,
        )
        resp = Response(html, mimetype="text/html")
        resp.headers["Cache-Control"] = "no-store"
        return resp

    return bp
