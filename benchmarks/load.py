"""The benchmark's instruments: a counting reverse proxy in front of Keycloak, the portal under
gunicorn with the dev run's settings behind it, a threaded load client, and process memory.

The proxy counts what reaches Keycloak from the portal (Admin API calls, token fetches, the rest)
without touching the portal's code: the figures are what Keycloak received, not what we think the
code does. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from benchmarks.report import percentile

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host"}


def category(path: str) -> str:
    """What a request to Keycloak is: ``admin`` (the Admin API, our extensions' endpoints
    included), ``token`` (a token fetched or refreshed), else ``other`` (keys, discovery…)."""
    if path.startswith("/admin/realms/"):
        return "admin"
    if path.split("?")[0].endswith("/protocol/openid-connect/token"):
        return "token"
    return "other"


class CountingProxy:
    """Forwards every request to `upstream` and counts them by :func:`category`."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as python-keycloak's session expects
            # headers and body go in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK would hold the second one back (≈ 40 ms per call)
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                with proxy._lock:
                    proxy.counts[category(self.path)] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                status, reason, reply_headers, data = proxy.send(
                    self.command, self.path, body, headers
                )
                self.send_response(status, reason)
                for key, value in reply_headers:
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        # One upstream connection per proxy thread, kept alive; opened again if Keycloak closed it.
        for attempt in range(2):
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = http.client.HTTPConnection(
                    self.upstream_host, self.upstream_port, timeout=120
                )
                self._local.connection = connection
            try:
                headers["Host"] = f"{self.upstream_host}:{self.upstream_port}"
                connection.request(method, path, body=body, headers=headers)
                reply = connection.getresponse()
                data = reply.read()
                return reply.status, reply.reason, reply.getheaders(), data
            except (http.client.HTTPException, OSError):
                connection.close()
                self._local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)

    @contextmanager
    def running(self) -> Iterator[CountingProxy]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


# --- the portal under gunicorn ---------------------------------------------------------------


def portal_environment(config: Mapping[str, Any]) -> dict[str, str]:
    """``COLLECTE_<KEY>`` for each configuration key (the portal parses JSON values)."""
    return {
        f"COLLECTE_{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
    }


@contextmanager
def gunicorn(config: Mapping[str, Any], port: int, log: Path, workers: int = 2) -> Iterator[int]:
    """The portal as the dev run serves it (collecte_kc.platform: gunicorn with
    portal/gunicorn_conf.py, 2 synchronous workers, sessions in a shared folder); yields the
    master's pid once it answers."""
    env = {**os.environ, **portal_environment(config)}
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own app
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:portal.gunicorn_conf",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "portal:create_app()",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn s'est arrêté ; journal : {log}")
            try:
                requests.get(f"http://127.0.0.1:{port}/aide/connexion", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.3)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """User and system processor time these processes have used so far, in seconds."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (man 5 proc)
    return total / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the load client -------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p(self, rank: float) -> float:
        """Latency percentile, in milliseconds."""
        return percentile(self.latencies, rank) * 1000


def load(
    port: int, path: str, cookie: str, host: str, connections: int, seconds: float
) -> LoadResult:
    """`connections` threads each sending GET `path` one after the other for `seconds`; only
    200 answers count as served."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    headers = {"Host": host, **({"Cookie": cookie} if cookie else {})}

    def worker() -> None:
        nonlocal errors
        mine, failed = [], 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                reply = connection.getresponse()
                reply.read()
                ok = reply.status == 200
            except (http.client.HTTPException, OSError):
                connection.close()
                ok = False
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                failed += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return LoadResult(len(latencies), errors, elapsed, tuple(latencies))
