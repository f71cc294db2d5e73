# Two commands do everything on a fresh machine:
#   make demo   set up, generate the sample, package it, serve it and print the player URL
#   make test   set up and run the whole test suite (real FFmpeg, real server, real Chromium)
#   make test-fast  the unit tier only (no encode, browser or database server), in under two minutes
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Demo and test state (job store, key store, master key) stays in .hlskit/ inside the checkout,
# git-ignored. Nothing is exported: hlskit itself finds .hlskit/ from the current folder upwards
# (as git finds .git), so the README's commands typed in the checkout see the demo's state.
HOME_DIR := .hlskit
PORT   ?= 8000

.PHONY: demo test test-fast typecheck lint install player browser debian-ffmpeg clients sample package serve bench clean wheel postgres redis

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@# An editable install leaves hlskit's own modules uncompiled, and with PYTHONDONTWRITEBYTECODE
	@# set every `hlskit` command (and test subprocess) compiled all of them again: 0.16 s each.
	$(BIN)/python -m compileall -q hlskit
	touch $@

install: $(VENV)/.installed

# Owner-only, like every hlskit home (`hlskit doctor` checks it).
$(HOME_DIR):
	mkdir -m 700 $@

player/node_modules/.package-lock.json: player/package.json player/package-lock.json
	cd player && npm ci --no-audit --no-fund --loglevel=error

player: player/node_modules/.package-lock.json

# $(call deb,COMMAND,PACKAGE): install a Debian package when its command is missing (as root).
define deb
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
	  else echo "error: $(1) is missing: install Debian's $(2) package (sudo apt-get install $(2))." >&2; exit 2; fi; }
endef

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser:
	$(call deb,chromium,chromium)

# Tests also decode packages with Debian's own FFmpeg: an independent client, not the bundled build.
debian-ffmpeg:
	$(call deb,ffmpeg,ffmpeg)

# The client matrix (tests/clients) plays packages in Debian's own VLC, GStreamer (playbin3,
# hlsdemux2) and mpv, as the README's client table says.
clients:
	$(call deb,cvlc,vlc-bin vlc-plugin-base)
	$(call deb,gst-launch-1.0,gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav)
	$(call deb,mpv,mpv)

# Store tests (tests/postgres) and bench/keyserver.py start a throwaway PostgreSQL cluster with
# Debian's server binaries, which live under /usr/lib/postgresql/<major>/bin, not on PATH.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	  else echo "error: PostgreSQL is missing: install Debian's postgresql package (sudo apt-get install postgresql)." >&2; exit 2; fi; }

# The Celery engine's tests (tests/celery) and bench/distributed.py start a throwaway Redis broker
# with Debian's redis-server on a free 127.0.0.1 port, and real `hlskit worker` processes.
redis:
	$(call deb,redis-server,redis-server)

samples/sample.mp4: | $(VENV)/.installed
	$(BIN)/hlskit sample samples/sample.mp4

sample: samples/sample.mp4

# Packaged once; run `make clean` (or delete out/sample) to package again. 2 s segments (not the
# default 4) give the 30 s sample 15 segments, so the player has room to show switching.
out/sample/master.m3u8: samples/sample.mp4 | $(VENV)/.installed $(HOME_DIR)
	$(BIN)/hlskit package samples/sample.mp4 --out out --content-id sample --segment-duration 2 \
	  --key-url http://127.0.0.1:$(PORT)/keys

package: out/sample/master.m3u8

serve: install player | $(HOME_DIR)
	$(BIN)/hlskit play out/sample --port $(PORT) --no-open

demo: install player package serve

# ruff: lint and format check (configured in pyproject.toml); the import-layer check is a test.
lint: install
	$(BIN)/ruff check hlskit tests bench
	$(BIN)/ruff format --check hlskit tests bench

# The type check over hlskit/ (mypy, configured in pyproject.toml): zero errors.
typecheck: install
	$(BIN)/mypy

# The fast tier: unit and in-process tests only (no encode, no browser, no database server), in
# under two minutes. The environment makes an unmarked heavy test fail instead of running: the
# bundled FFmpeg becomes a path that does not exist (imageio-ffmpeg returns IMAGEIO_FFMPEG_EXE
# unchecked) and the Chromium, PostgreSQL and Debian-FFmpeg fixtures refuse to start
# (tests/tiers.py). `make test` still runs every tier.
FAST_TIER := HLSKIT_TEST_TIER=fast IMAGEIO_FFMPEG_EXE=/nonexistent/ffmpeg

test-fast: install | $(HOME_DIR)
	$(FAST_TIER) $(BIN)/python -m pytest -q -m "not slow and not browser and not db"

# tests/wheel builds the wheel itself and installs it into a fresh venv outside the checkout.
test: install player browser debian-ffmpeg clients postgres redis lint typecheck | $(HOME_DIR)
	$(BIN)/python -m pytest -q

bench: install player postgres redis samples/sample.mp4
	$(call deb,wrk,wrk)
	$(BIN)/python bench/package.py --formats
	$(BIN)/python bench/stitch.py
	$(BIN)/python bench/keyserver.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/renditions.py
	$(BIN)/python bench/players.py
	$(BIN)/python bench/reliability_package.py
	$(BIN)/python bench/reliability_server.py
	$(BIN)/python bench/reliability_validate.py
	$(BIN)/python bench/distributed.py

# dist/hlskit-<version>-py3-none-any.whl, with the player and hls.js inside: pip install it anywhere.
wheel: install
	$(BIN)/python -m pip wheel -q --no-deps -w dist .

clean:
	rm -rf out test-artifacts .pytest_cache
