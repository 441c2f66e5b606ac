"""A throwaway PostgreSQL cluster: initdb in a folder, pg_ctl start on a free port.

PostgreSQL refuses to run as root, so when we are root the server runs as the
``postgres`` system user that Debian's package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


class ClusterError(RuntimeError):
    pass


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for version in ("17", "16", "15", "14"):
        candidate = Path(f"/usr/lib/postgresql/{version}/bin/{name}")
        if candidate.exists():
            return str(candidate)
    raise ClusterError(f"{name} not found: install PostgreSQL (Debian: apt-get install postgresql-15)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    data_dir: Path
    port: int
    throwaway: bool
    _run_as: dict = field(default_factory=dict)

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls, data_dir: Path | None = None, port: int | None = None) -> Cluster:
        throwaway = data_dir is None
        data_dir = Path(data_dir or tempfile.mkdtemp(prefix="dstudio-pg-"))
        run_as: dict = {}
        if os.geteuid() == 0:
            try:
                pg = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterError("running as root needs the 'postgres' system user (Debian's postgresql package)") from exc
            run_as = {"user": pg.pw_uid, "group": pg.pw_gid}
            data_dir.mkdir(parents=True, exist_ok=True)
            os.chown(data_dir, pg.pw_uid, pg.pw_gid)
        cluster = cls(data_dir, port or free_port(), throwaway, run_as)
        if not (data_dir / "PG_VERSION").exists():
            cluster._run([_pg_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust",
                          "--encoding=UTF8", "--locale=C.UTF-8"] + (["--no-sync"] if throwaway else []))
        return cluster

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(argv, capture_output=True, text=True, cwd="/", **self._run_as)
        if result.returncode != 0:
            raise ClusterError(f"{Path(argv[0]).name} failed: {(result.stderr or result.stdout).strip()[-2000:]}")

    def start(self) -> None:
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.data_dir}",
                   "-c max_connections=200", "-c shared_buffers=128MB"]
        if self.throwaway:
            # nothing here outlives the process, so durability buys nothing
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"),
                   "-w", "-t", "60", "-o", " ".join(options), "start"])

    def stop_server(self) -> None:
        """Stops PostgreSQL (fast: open connections are ended) and keeps the data; start() again."""
        if (self.data_dir / "postmaster.pid").exists():
            try:
                self._run([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
            except ClusterError:
                pass

    def stop(self) -> None:
        self.stop_server()
        if self.throwaway:
            shutil.rmtree(self.data_dir, ignore_errors=True)
