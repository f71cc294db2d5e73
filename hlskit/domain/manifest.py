"""The package manifest, hlskit.json: its name and how it is written, shared by every stage."""
from __future__ import annotations

import json
import posixpath
from typing import Any

from ..storage import Storage

MANIFEST = "hlskit.json"


def write_manifest(storage: Storage, folder: str, manifest: dict[str, Any]) -> None:
    """hlskit.json in ``folder``, written atomically (a rename on disk, one PUT on OSS)."""
    storage.write_text(posixpath.join(folder, MANIFEST), json.dumps(manifest, indent=2) + "\n", "application/json")
