"""Short JSON error responses shared by the key and media routes."""

from __future__ import annotations

import json

from flask import Response


def json_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"error": message, "code": code}, separators=(",", ":"))
    response = Response(body, status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
