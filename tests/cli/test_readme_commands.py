"""Every command of the README's "Using it" block, run as written against a demo-like state.

The state is what `make demo` leaves in a checkout: a `.hlskit/` home made by make (mode 700),
`samples/sample.mp4` packaged by the Makefile's own recipe as content `sample`, and
`samples/batch.csv`. The commands run in that folder with no HLSKIT_* variable set, as a user
types them after `make demo`, so they must find the demo's home themselves.

Substitutions, and nothing else: `<content-id>`/`<id>` → `sample`, `<run-id>` → the demo run,
`--token T` → a token from `hlskit token sample`, port 8000 → a free port (8000 may be taken on
a shared machine), and `hlskit sample` gets `--size 848x480 --seconds 16 --fps 10` so the demo
clip stays small yet long enough for the batch's 00:00:05+10 clip row and wide enough for two
definitions. Commands the README marks "needs Alibaba Cloud" would be skipped, and named as such;
today there are none. `hlskit play` runs with BROWSER=true, so "opening" the browser is a no-op.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from hlskit.engines.encode import ffmpeg_exe
from tests.conftest import _make_clip

from .conftest import clean_env, free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
SKIP_MARK = "needs Alibaba Cloud"
SAMPLE_SIZE = ["--size", "848x480", "--seconds", "16", "--fps", "10"]


def readme_block() -> list[tuple[str, str]]:
    """(command, comment) for each line of the first code block under "## Using it"."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("\n## Using it\n") :]
    block = section.split("```", 2)[1]
    out = []
    for line in block.strip("\n").splitlines():
        command, _, comment = line.partition(" # ")
        if command.strip():
            out.append((command.strip(), comment.strip()))
    return out


def makefile_package_recipe() -> str:
    """The Makefile's `hlskit package` command for the demo (continuation lines joined)."""
    text = (REPO / "Makefile").read_text().replace("\\\n", " ")
    recipe = re.search(r"^out/sample/master\.m3u8:.*\n\t(.+)$", text, re.M).group(1)
    return " ".join(recipe.split())


COMMANDS = readme_block()


@dataclass
class Demo:
    root: Path
    port: int
    env: dict
    run_id: str
    token: str | None = None
    server: subprocess.Popen | None = None
    server_lines: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "hlskit", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, args: list[str], lines: int) -> list[str]:
        """Start a serving command (stopping the one before: they share the port); its first lines."""
        self.stop()
        self.server = subprocess.Popen(
            [sys.executable, "-m", "hlskit", *args],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.server_lines = [self.server.stdout.readline() for _ in range(lines)]
        return self.server_lines

    def ensure_server(self) -> None:
        if self.server is None or self.server.poll() is not None:
            self.start(["serve", "out/", "--port", str(self.port)], 1)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=20)
            self.server = None


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    root = tmp_path_factory.mktemp("checkout")
    (root / ".hlskit").mkdir(mode=0o700)  # what `make` does: mkdir -m 700 .hlskit
    (root / "samples").mkdir()
    shutil.copy2(REPO / "samples" / "batch.csv", root / "samples" / "batch.csv")
    port = free_port()
    demo = Demo(root, port, clean_env(BROWSER="true"), run_id="")
    made = demo.run(["sample", "samples/sample.mp4", *SAMPLE_SIZE])
    assert made.returncode == 0, made.stderr
    recipe = makefile_package_recipe().replace("$(PORT)", str(port)).split()
    assert recipe[0] == "$(BIN)/hlskit" and recipe[1] == "package", recipe
    packaged = demo.run(recipe[1:])
    assert packaged.returncode == 0, packaged.stderr
    demo.run_id = json.loads((root / "out" / "sample" / "hlskit.json").read_text())["run_id"]
    _make_clip(ffmpeg_exe(), root / "talk.mp4", seconds=2)  # the README's talk.mp4
    yield demo
    demo.stop()


def concrete(command: str, demo: Demo) -> list[str]:
    words = command.split()
    assert words[0] == "hlskit", command
    args = [
        w.replace("<content-id>", "sample")
        .replace("<id>", "sample")
        .replace("<run-id>", demo.run_id)
        .replace(":8000", f":{demo.port}")
        for w in words[1:]
    ]
    if args[0] == "sample":
        args += SAMPLE_SIZE
    if "--port" in args:
        args[args.index("--port") + 1] = str(demo.port)
    if "--token" in args:
        assert demo.token, "run `hlskit token` first"
        args[args.index("--token") + 1] = demo.token
    return args


# --- what each command must do -------------------------------------------------------------


def check_sample(demo, args, done):
    assert done.returncode == 0 and done.stdout.strip() == "samples/sample.mp4"
    assert (demo.root / "samples" / "sample.mp4").stat().st_size > 10_000


def check_package(demo, args, done):
    assert done.returncode == 0, done.stderr
    folder = Path(re.search(r"^package: (.+)$", done.stdout, re.M).group(1))
    assert folder.parent == demo.root / "out" and (folder / "master.m3u8").is_file()
    assert folder.name.startswith("talk")


def check_status(demo, args, done):
    assert done.returncode == 0, done.stderr
    assert demo.run_id in done.stdout and "sample" in done.stdout and "Published" in done.stdout


def check_cancel(demo, args, done):
    # Documented: a run that already ended cannot be cancelled, exit 2 with the reason.
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: run {demo.run_id} of sample already ended")


def check_stitch(demo, args, done):
    assert done.returncode == 0, done.stderr
    assert f"wrote {demo.root / 'out' / 'sample' / 'master.m3u8'}" in done.stdout
    assert re.search(r"^\s+LD\s+BANDWIDTH=\d+", done.stdout, re.M) and re.search(r"^\s+SD\s", done.stdout, re.M)


def check_validate(demo, args, done):
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MUST fix: 0" in done.stdout


def check_token(demo, args, done):
    assert done.returncode == 0, done.stderr
    demo.token = done.stdout.strip()
    # The demo server (same home, found from the folder) accepts it: the key answers 200.
    demo.ensure_server()
    key_uri = re.search(r'URI="([^"]+)"', (demo.root / "out" / "sample" / "LD" / "index.m3u8").read_text()).group(1)
    key = requests.get(key_uri, params={"token": demo.token}, timeout=30)
    assert key.status_code == 200 and len(key.content) == 16


def check_submit(demo, args, done):
    assert done.returncode == 0, done.stdout + done.stderr
    match = re.search(r"batch: (\d+) of (\d+) rows published", done.stdout + done.stderr)
    assert match and match.group(1) == match.group(2) != "0"


def check_config(demo, args, done):
    assert done.returncode == 0, done.stderr
    assert f"home: {demo.root / '.hlskit'} (from project (.hlskit/ found in {demo.root}))" in done.stdout


def check_doctor(demo, args, done):
    assert done.returncode == 0, done.stdout
    assert "  ok    home          " in done.stdout and done.stdout.rstrip().endswith("no problems found.")


def check_abr_check(demo, args, done):
    # Documented: exit 0 when definitions switched, 1 when they did not; either way a report.
    assert done.returncode in (0, 1), done.stderr
    assert re.search(r"^definitions: LD \d+x\d+ .*SD ", done.stdout, re.M), done.stdout
    assert re.search(r"^result: ", done.stdout, re.M)


def run_serve(demo, args):
    first = demo.start(args, 1)[0]
    assert f"at http://127.0.0.1:{demo.port}/" in first, first
    index = requests.get(demo.base + "/", timeout=30)
    assert index.status_code == 200 and 'data-content-id="sample"' in index.text


def run_play(demo, args):
    lines = demo.start(args, 2)
    assert lines[0].startswith("playing sample"), lines
    url = lines[1].strip()
    assert url.startswith(f"{demo.base}/play/sample?token="), lines
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and '"src": "/media/sample/master.m3u8"' in page.text


CHECKS = {
    "sample": check_sample,
    "package": check_package,
    "status": check_status,
    "cancel": check_cancel,
    "stitch": check_stitch,
    "validate": check_validate,
    "token": check_token,
    "submit": check_submit,
    "config": check_config,
    "doctor": check_doctor,
    "abr-check": check_abr_check,
}
SERVING = {"serve": run_serve, "play": run_play}


def test_the_block_is_found_and_every_command_has_a_check():
    names = [c.split()[1] for c, _ in COMMANDS]
    assert len(names) >= 10 and names[0] == "sample"
    assert [n for n in names if n not in CHECKS and n not in SERVING] == []


@pytest.mark.parametrize("command,comment", COMMANDS, ids=[c for c, _ in COMMANDS])
def test_readme_command(command, comment, demo):
    if SKIP_MARK in comment:
        pytest.skip(f"`{command}` {SKIP_MARK}, which cannot be reached from here")
    args = concrete(command, demo)
    if args[0] in SERVING:
        SERVING[args[0]](demo, args)
        return
    if args[0] == "abr-check":
        demo.ensure_server()
    done = demo.run(args)
    assert "Traceback" not in done.stderr, done.stderr
    CHECKS[args[0]](demo, args, done)
