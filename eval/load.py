"""Load on `rag serve` over loopback: `python -m eval.load`.

Starts `python -m rag serve` with the real models on a free 127.0.0.1 port (or
uses `--url`), then
1. opens `--idle` connections that send nothing and counts the server's
   threads before and while they are open (it must not grow: connections live
   on the event loop, answers on a fixed pool), and how many are still open
   after the request-head deadline;
2. runs `--clients` clients, each sending `--requests` questions from the gold
   set one after another, and prints how many were answered, how many got
   503 busy (the busy share), every other outcome as an error, and p50/p95 of
   the answered requests' latency.

Bounded: every request times out (`--timeout`), every connection is closed,
and the server it started is stopped. Deliberately not done here: checking the
answers (that is `python -m eval`); a busy reply is counted, not retried.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .harness import GOLD, ROOT


def questions(path: Path = GOLD) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def threads_of(pid: int) -> int:
    """The threads of a process (Linux), 0 where unknown."""
    try:
        return int(re.search(r"^Threads:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M).group(1))
    except (OSError, AttributeError):
        return 0


def start_server(port: int, timeout: float = 300.0) -> subprocess.Popen:
    """`python -m rag serve` on 127.0.0.1:port, once it answers /health."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rag serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("rag serve did not start in time")


def idle_connections(port: int, count: int, pid: int | None, hold_s: float = 2.0, after_s: float = 8.0) -> dict:
    """Open `count` silent connections; the server's threads before and while
    they are open, and how many the server has closed `after_s` later."""
    before = threads_of(pid) if pid else 0
    sockets = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(hold_s)
        during = threads_of(pid) if pid else 0
        time.sleep(max(0.0, after_s - hold_s))
        dropped = 0
        for s in sockets:
            s.setblocking(False)
            try:
                dropped += s.recv(1) == b""
            except BlockingIOError:
                pass  # still open
            except OSError:
                dropped += 1
    finally:
        for s in sockets:
            s.close()
    return {"opened": len(sockets), "threads_before": before, "threads_during": during, "dropped": dropped}


def one_request(url: str, question: str, timeout: float) -> tuple[str, float]:
    """("answered" | "busy" | an error's description, seconds)."""
    body = json.dumps({"messages": [{"role": "user", "content": question}]}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            ok = bool(json.load(r)["choices"][0]["message"]["content"])
            outcome = "answered" if ok else "empty answer"
    except urllib.error.HTTPError as e:
        outcome = "busy" if e.code == 503 and e.headers.get("Retry-After") else f"HTTP {e.code}"
    except (OSError, ValueError, KeyError) as e:
        outcome = f"{type(e).__name__}: {e}"
    return outcome, time.perf_counter() - started


def run_clients(url: str, qs: list[str], clients: int, requests: int, timeout: float) -> list[tuple[str, float]]:
    def client(c: int) -> list[tuple[str, float]]:
        return [one_request(url, qs[(c * requests + r) % len(qs)], timeout) for r in range(requests)]

    with ThreadPoolExecutor(clients) as pool:
        return [row for rows in pool.map(client, range(clients)) for row in rows]


def summary(results: list[tuple[str, float]]) -> dict:
    answered = sorted(t for o, t in results if o == "answered")
    busy = sum(o == "busy" for o, _ in results)
    errors = [o for o, _ in results if o not in ("answered", "busy")]
    pick = lambda q: answered[min(len(answered) - 1, int(q * len(answered)))] if answered else float("nan")  # noqa: E731
    return {
        "requests": len(results),
        "answered": len(answered),
        "busy": busy,
        "busy_share": busy / max(1, len(results)),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "p50_s": statistics.median(answered) if answered else float("nan"),
        "p95_s": pick(0.95),
        "max_s": answered[-1] if answered else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="base URL of a running server (default: start one with the real models)")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--requests", type=int, default=4, help="requests per client, one after another")
    p.add_argument("--idle", type=int, default=1000, help="silent connections opened first (0: skip)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    args = p.parse_args(argv)

    proc = None
    if args.url:
        base, pid = args.url.rstrip("/"), None
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        started = time.perf_counter()
        proc = start_server(port)
        base, pid = f"http://127.0.0.1:{port}", proc.pid
        print(f"server: python -m rag serve, ready in {time.perf_counter() - started:.1f} s (pid {pid})")
    port = int(base.rsplit(":", 1)[1])
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    try:
        sample = questions()
        # The first answer loads the model and starts the pool: not load.
        outcome, seconds = one_request(f"{base}/v1/chat/completions", sample[0], args.timeout)
        print(f"warm-up: {outcome} in {seconds:.1f} s")
        if args.idle:
            idle = idle_connections(port, args.idle, pid)
            print(
                f"idle: {idle['opened']} silent connections; server threads {idle['threads_before']} before, "
                f"{idle['threads_during']} while open; {idle['dropped']} dropped by the server 8 s later"
            )
        sampler = threading.Event()
        peak = [threads_of(pid) if pid else 0]

        def watch_threads() -> None:
            while pid and not sampler.wait(0.5):
                peak[0] = max(peak[0], threads_of(pid))

        threading.Thread(target=watch_threads, daemon=True).start()
        began = time.perf_counter()
        results = run_clients(f"{base}/v1/chat/completions", sample, args.clients, args.requests, args.timeout)
        wall = time.perf_counter() - began
        sampler.set()
        s = summary(results)
        print(
            f"load: {args.clients} clients x {args.requests} requests = {s['requests']} in {wall:.1f} s: "
            f"{s['answered']} answered, {s['busy']} busy (503, share {s['busy_share']:.1%}), {s['errors']} errors"
            + (f" {s['error_kinds']}" if s["errors"] else "")
        )
        print(
            f"answered latency: p50 {s['p50_s']:.2f} s, p95 {s['p95_s']:.2f} s, max {s['max_s']:.2f} s"
            + (f"; server threads at most {peak[0]}" if pid else "")
        )
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
