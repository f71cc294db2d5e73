"""Stitching through any Storage ('/'-relative paths, as OSS) and validating over real HTTP."""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hlskit.hls.stitch import definitions_in, stitch
from hlskit.hls.validate import validate
from hlskit.pipeline.master import write_master
from hlskit.storage import LocalStorage

pytestmark = pytest.mark.slow


def stitch_package(storage, prefix=""):
    info = stitch(storage, prefix, definitions_in(storage, prefix), None)
    write_master(storage, info)
    return info


class ObjectStore:
    """A Storage that is not LocalStorage (so stitch takes its remote, threaded path), keyed by
    '/'-separated object names like OSS; counts calls."""

    def __init__(self, root):
        self.local = LocalStorage(root)
        self.calls = 0

    def __getattr__(self, name):
        method = getattr(self.local, name)

        def call(*args, **kw):
            self.calls += 1
            return method(*args, **kw)

        return call


def test_stitch_through_an_object_store_matches_local(ladder, tmp_path):
    shutil.copytree(ladder, tmp_path / "a")
    shutil.copytree(ladder, tmp_path / "bucket" / "media" / "c1")
    local = stitch_package(LocalStorage(tmp_path / "a"))
    store = ObjectStore(tmp_path / "bucket")
    remote = stitch_package(store, "media/c1")
    assert remote.path == "media/c1/master.m3u8" and store.calls > 6
    assert remote.text == local.text == (tmp_path / "bucket/media/c1/master.m3u8").read_text()
    assert (tmp_path / "bucket/media/c1/HD/iframes.m3u8").read_text() == (tmp_path / "a/HD/iframes.m3u8").read_text()
    # Validation reads through the same storage (as for OSS): the location is a path inside it.
    before = store.calls
    report = validate("media/c1/master.m3u8", storage=store)
    assert report.must == [], [(f.rule, f.message) for f in report.must]
    assert store.calls > before and sorted(v.uri for v in report.variants) == [
        "media/c1/HD/index.m3u8",
        "media/c1/LD/index.m3u8",
    ]


@pytest.fixture
def http_folder(tmp_path):
    types = {}

    class Handler(SimpleHTTPRequestHandler):
        def guess_type(self, path):
            return types.get(str(path).rsplit(".", 1)[-1], "application/octet-stream")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", types
    httpd.shutdown()
    httpd.server_close()


def test_validate_over_http(ladder, tmp_path, http_folder):
    url, types = http_folder
    shutil.copytree(ladder, tmp_path / "s")
    stitch_package(LocalStorage(tmp_path / "s"))
    types.update({"m3u8": "application/vnd.apple.mpegurl", "ts": "video/mp2t"})
    report = validate(f"{url}/s/master.m3u8")
    assert report.must == [], [(f.rule, f.message) for f in report.must]
    assert all(v.declared_bandwidth == v.measured_peak and v.idr_starts == v.segments for v in report.variants)
    types["m3u8"] = "application/octet-stream"
    report = validate(f"{url}/s/master.m3u8")
    assert "F2" in {f.rule for f in report.must}
