"""Real SQLite stores and a local destination in tmp_path for the finishing steps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hlskit.domain.runs import Job, Run, new_job_id, new_run_id, this_owner
from hlskit.domain.settings import Settings
from hlskit.pipeline.publish import Destination, destination
from hlskit.stores.jobs import JobStore
from hlskit.stores.keys import KeyStore


@dataclass
class Stores:
    settings: Settings
    jobs: JobStore
    keys: KeyStore
    out: Path

    def start(self, cid: str = "talk", definitions=("LD", "HD"), engine: str = "local") -> tuple[Run, list[Job]]:
        run = Run(new_run_id(), cid, engine=engine, owner=this_owner(), out=str(self.out / cid))
        jobs = [Job(new_job_id(), cid, d, engine=engine) for d in definitions]
        self.jobs.start_run(run, jobs)
        return run, jobs

    def staging(self, cid: str = "talk") -> Destination:
        """A local destination whose staging folder already holds a definition's files."""
        final = self.out / cid
        stage = self.out / f".{cid}.partial-1"
        (stage / "LD").mkdir(parents=True)
        (stage / "LD" / "index.m3u8").write_text("#EXTM3U\n")
        return destination(str(stage), str(final), self.settings)


@pytest.fixture
def stores(tmp_path) -> Stores:
    settings = Settings(home=tmp_path / "home", media_root=tmp_path / "out")
    settings.ensure_home()
    (tmp_path / "out").mkdir()
    return Stores(
        settings,
        JobStore.open(settings.store_config()),
        KeyStore.open(settings.store_config()),
        tmp_path / "out",
    )
