"""A throwaway PostgreSQL cluster: initdb in a temp folder, postgres on 127.0.0.1, as a non-root user.

Debian's ``postgresql`` package puts the server binaries under /usr/lib/postgresql/<major>/bin.
PostgreSQL refuses to run as root, so when we are root the cluster belongs to ``nobody``
(the folder is made under /tmp, not pytest's root-only temp folder, so that user can reach it).
Password authentication (scram-sha-256) on TCP, so URLs carry a real secret to mask.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

USER, PASSWORD = "hlskit", "pg-s3cret-pw"


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries are missing: install Debian's postgresql package "
            "(apt-get install -y postgresql), as .ci/run and `make test` do."
        )
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    dir: Path
    port: int
    bin: Path
    runas: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def log(self) -> Path:
        return self.dir / "postgres.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{dbname}"

    def _ctl(self, *args: str) -> None:
        cmd = [*self.runas, str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args[:1])} failed: {done.stderr.strip()}\n{log}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            # A throwaway cluster: no durability needed, so no fsync (PostgreSQL manual, 20.5.1).
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._ctl("-o", options, "-l", str(self.log), "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop()
        except Exception:  # already stopped
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb + start; raises RuntimeError with the reason when PostgreSQL cannot be started."""
    binaries = pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="hlskit-pg-", dir="/tmp"))
    runas: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("nobody")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        runas = ["runuser", "-u", "nobody", "--"]
    pwfile = folder / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    if runas:
        os.chown(pwfile, pwd.getpwnam("nobody").pw_uid, -1)
    cluster = Cluster(folder, free_port(), binaries, runas)
    init = subprocess.run(
        [
            *runas,
            str(binaries / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    pwfile.unlink()
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    try:
        cluster.start()
    except RuntimeError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return cluster
