"""The server's last rough edges (issue 25, defect 12): gunicorn started while PostgreSQL is down,
and text error pages that echo the request.

gunicorn is started for real, as docs/serving.md deploys it, with a store_url nobody answers:
it must log the one sentence (no worker traceback, no arbiter traceback) and stop with gunicorn's
"App failed to load" exit code 4. Several workers meet the dead database at once; only one
reports it. Every answer of the real app — the player's text/plain 400 that quotes ``src``,
Flask's HTML 404 and 405 pages, the index and the player page — says ``nosniff``, so a browser
never runs an echoed ``data:text/html`` as a page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from hlskit.domain.settings import Settings
from tests.reliability.download_access import get
from tests.server.conftest import start_server

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
PASSWORD = "Zq7Xv8Kw9"


@pytest.mark.slow  # gunicorn worker pools
@pytest.mark.parametrize(
    "workers", [["-w", "2"], ["-w", "4", "-k", "gthread", "--threads", "4"]], ids=["2 sync", "4 gthread"]
)
def test_gunicorn_with_the_database_down_logs_one_sentence_and_exits_4(workers, tmp_path):
    (tmp_path / "out").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLSKIT_")}
    env.update(
        HLSKIT_HOME=str(tmp_path / "home"),
        HLSKIT_MEDIA_ROOT=str(tmp_path / "out"),
        HLSKIT_STORE_URL=f"postgresql://hlskit:{PASSWORD}@127.0.0.1:1/keys",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    done = subprocess.run(
        [GUNICORN, *workers, "-b", "127.0.0.1:0", "hlskit.server:create_app()"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 4, log
    assert "Traceback" not in log and PASSWORD not in log, log
    # Line by line in each stream: the worker's print() may end before its newline when the arbiter
    # stops it (unbuffered stdout writes the text and the newline apart), and a concatenation would
    # then glue stderr's next log line to the sentence.
    lines = done.stdout.splitlines() + done.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == [
        "error: the store postgresql://hlskit:***@127.0.0.1:1/keys is unreachable (connection failed: "
        'connection to server at "127.0.0.1", port 1 failed: Connection refused): start the database or fix store_url.'
    ], log
    assert "Reason: App failed to load." in log


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("nosniff")
    (base / "out").mkdir()
    live = start_server(Settings(home=base / "home", media_root=base / "out"))
    yield live.url
    live.stop()


@pytest.mark.parametrize(
    "path,status,kind",
    [
        ("/play?src=" + quote("data:text/html,<script>alert(1)</script>"), 400, "text/plain"),
        ("/play?src=" + quote("javascript:alert(1)"), 400, "text/plain"),
        ("/play", 400, "text/plain"),
        ("/play/" + quote("<b>x"), 400, "text/plain"),
        ("/no-such-page", 404, "text/html"),
        ("/player/vendor/" + quote("<b>.js"), 404, "text/html"),
        ("/", 200, "text/html"),
        ("/play/talk", 200, "text/html"),
    ],
)
def test_every_page_says_nosniff(server, path, status, kind):
    got = get(server + path)
    assert got.status == status and got.headers["content-type"].startswith(kind), (got.status, got.headers)
    assert got.headers.get("x-content-type-options") == "nosniff", got.headers
