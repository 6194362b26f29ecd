"""The embedded registry under load: a bounded number of concurrent
`GET /-/stage/<id>` and packument requests on loopback, over keep-alive
connections. Target: at least 200 requests per second on this 2-core machine,
with no errors. npm is a client only, so there is no npm figure here."""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlparse

from benchmarks.fixtures import registry
from benchmarks.measure import Result

REQUESTS = 4000
CONNECTIONS = 200  # all open at once: 200 requests in flight
PACKAGES, STAGED = 10, 5


def _worker(host, port, paths, token, errors, lock):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
    for path in paths:
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200 or not json.loads(body):
                raise RuntimeError(f"{resp.status} for {path}")
        except Exception as exc:  # counted, and the connection is started afresh
            with lock:
                errors.append(f"{path}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.close()


def run():
    with registry("registry-load") as (server, user, _npmrc, _env):
        paths = []
        for p in range(PACKAGES):
            name = f"bench-load-{p}"
            server.publish(user, name, "0.0.1")
            paths.append(f"/{name}")
            for v in range(STAGED):
                paths.append(f"/-/stage/{server.stage(user, name, f'1.0.{v}')}")
        url = urlparse(server.url)
        jobs = [paths[i % len(paths)] for i in range(REQUESTS)]
        shares = [jobs[i::CONNECTIONS] for i in range(CONNECTIONS)]
        errors: list[str] = []
        lock = threading.Lock()
        threads = [
            threading.Thread(
                target=_worker, args=(url.hostname, url.port, share, user.token, errors, lock)
            )
            for share in shares
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    rate = REQUESTS / elapsed
    for line in errors[:5]:
        print("  error:", line)
    yield Result(
        f"registry: {REQUESTS} GETs, {CONNECTIONS} connections",
        "req/s",
        rate,
        None,
        ">= 200 req/s",
        rate >= 200 and not errors,
    )
    yield Result("registry: failed requests", "n", float(len(errors)), None, "none", not errors)
