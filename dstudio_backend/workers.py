"""Several server processes sharing one port (``dstudio-backend start --workers N``): one
Python process runs on one core, so the API serves from N of them.

The supervisor (the ``start`` process, which also owns the database cluster) binds the
listening socket and hands it to N spawned workers; the kernel gives each new connection to
whichever worker accepts first. Each worker is a whole server (its own pool, schema cache and
realtime hub; realtime_bus.py shares presence and broadcast between them). The supervisor
reports ready once every worker serves, starts a new worker in place of one that dies
(its sockets' presences leave by the others' sweep), and on SIGINT or SIGTERM stops them all."""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import time
from typing import Any, Callable

log = logging.getLogger("dstudio_backend")

READY_TIMEOUT = 120.0   # a worker's start: imports, pool, schema cache
STOP_TIMEOUT = 25.0


def default_workers() -> int:
    """One per core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


def settle_memory() -> None:
    """Once the server has started: what startup made (modules, the schema cache) is moved out of
    the collector's sight and young collections run less often. A request allocates a few
    hundred containers, so the default (700) ran a collection every other request (about 9% of
    a worker's time under wrk, in the profile)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def uvicorn_config(app, **options: Any):
    import uvicorn

    # uvloop and httptools when installed (uvicorn's "auto"); no access log: a line per request
    # costs more than the rest of a simple request's Python
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", **options)


def _worker(config, sock: socket.socket, ready) -> None:
    """A worker process: the whole app on the inherited socket; says ready on its pipe."""
    from .app import create_app

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    import uvicorn

    server = uvicorn.Server(uvicorn_config(create_app(config)))
    parent = os.getppid()

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.05)
        settle_memory()
        try:
            ready.send(os.getpid())
            ready.close()
        except OSError:
            pass  # a replacement worker: nobody waits for it
        while not task.done():
            if os.getppid() != parent:  # the supervisor was killed: nobody would ever stop this worker
                server.should_exit = True
            await asyncio.wait([task], timeout=1.0)
        await task

    with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
        runner.run(serve())


class Supervisor:
    def __init__(self, config, host: str, port: int, workers: int):
        self.config = config
        self.count = workers
        self.sock = socket.create_server((host, port), backlog=2048)
        self.ctx = multiprocessing.get_context("spawn")
        self.workers: list[multiprocessing.Process] = []
        self._stopping = False

    def _spawn(self) -> tuple[multiprocessing.Process, multiprocessing.connection.Connection]:
        reader, writer = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=_worker, args=(self.config, self.sock, writer), name="dstudio-backend worker")
        proc.start()
        writer.close()
        return proc, reader

    def start(self) -> None:
        """Starts the workers and returns once all of them serve (RuntimeError if one cannot)."""
        pending = [self._spawn() for _ in range(self.count)]
        self.workers = [proc for proc, _ in pending]
        deadline = time.monotonic() + READY_TIMEOUT
        for proc, reader in pending:
            while not reader.poll(0.1):
                if not proc.is_alive():
                    self.stop()
                    raise RuntimeError(f"a server worker exited while starting (exit code {proc.exitcode})")
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"a server worker did not start within {READY_TIMEOUT:.0f} s")
            try:
                reader.recv()
            except EOFError:
                proc.join(5)
                self.stop()
                raise RuntimeError(f"a server worker exited while starting (exit code {proc.exitcode})") from None
            reader.close()

    def run(self) -> None:
        """Keeps N workers running until SIGINT or SIGTERM."""
        previous = signal.signal(signal.SIGTERM, raise_interrupt)
        try:
            while True:
                multiprocessing.connection.wait([proc.sentinel for proc in self.workers])
                for i, proc in enumerate(self.workers):
                    if proc.is_alive():
                        continue
                    proc.join()
                    log.warning("dstudio-backend: worker %d exited (code %s); starting another", proc.pid,
                                proc.exitcode)
                    time.sleep(0.5)  # a worker that dies at once does not spin the machine
                    self.workers[i], reader = self._spawn()
                    reader.close()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stop()

    def stop(self) -> None:
        self._stopping = True
        for proc in self.workers:
            if proc.is_alive():
                # SIGTERM, not SIGINT: a worker that already got the terminal's (or the process
                # group's) SIGINT would take a second SIGINT as "exit now, skip the shutdown"
                os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in self.workers:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
        self.sock.close()


def raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve(config, host: str, port: int, workers: int, on_ready: Callable[[], None]) -> int:
    supervisor = Supervisor(config, host, port, workers)
    try:
        supervisor.start()
        on_ready()
    except BaseException:
        supervisor.stop()
        raise
    supervisor.run()
    return 0
