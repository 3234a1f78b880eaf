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

With `--slots N` the same load runs twice, on a serve whose model is
in-process and on one whose model is a llama.cpp server with N parallel slots
(`python -m rag llm-server`, started here too), for each of a list of client
counts (`--clients 16,64`), and a table puts them side by side: answers per
second, busy replies, errors, p50/p95. `--compose model` makes every answer
call the model (answers are extracted by default); `--retry` makes a client
that is told busy wait the Retry-After it was given and ask again (up to
`--timeout` in all), as a polite client would, so that the throughput is the
server's, not the clients' patience. Each table row also counts the questions
whose answers differed between requests (the same question must get the same
answer).

Bounded: every request times out (`--timeout`), every connection is closed,
and the servers it started are stopped. Deliberately not done here: checking
the answers (that is `python -m eval`).
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _started(args: list[str], ready: str, timeout: float) -> subprocess.Popen:
    """`python -m rag ARGS`, once GET `ready` answers."""
    quiet = subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "rag", *args], cwd=ROOT, stdout=quiet, stderr=quiet)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"python -m rag {args[0]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(ready, timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise RuntimeError(f"python -m rag {args[0]} did not start in time")


def start_server(port: int, timeout: float = 300.0, sets: list[str] = (), workers: int = 2) -> subprocess.Popen:
    """`python -m rag serve` on 127.0.0.1:port with `--set` changes, once it answers /health."""
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return _started(args + [a for kv in sets for a in ("--set", kv)], f"http://127.0.0.1:{port}/health", timeout)


def start_llm_server(port: int, slots: int, timeout: float = 300.0) -> subprocess.Popen:
    """`python -m rag llm-server` (llama.cpp, the bundled GGUF) with `slots` parallel slots."""
    return _started(
        ["llm-server", "--port", str(port), "--parallel", str(slots)], f"http://127.0.0.1:{port}/health", timeout
    )


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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


def one_request(url: str, question: str, timeout: float) -> tuple[str, float, str]:
    """("answered" | "busy" | an error's description, seconds, the answer text
    or, when busy, the Retry-After seconds)."""
    body = json.dumps({"messages": [{"role": "user", "content": question}]}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    text = ""
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = json.load(r)["choices"][0]["message"]["content"]
            outcome = "answered" if text else "empty answer"
    except urllib.error.HTTPError as e:
        text = e.headers.get("Retry-After") or ""
        outcome = "busy" if e.code == 503 and text else f"HTTP {e.code}"
    except (OSError, ValueError, KeyError) as e:
        outcome = f"{type(e).__name__}: {e}"
    return outcome, time.perf_counter() - started, text


def asked(url: str, question: str, timeout: float, retry: bool) -> list[tuple[str, float, str]]:
    """One question's attempts: one, or with `retry` busy ones waited out
    (their Retry-After, within `timeout` in all) until another outcome."""
    deadline = time.monotonic() + timeout
    attempts = [one_request(url, question, timeout)]
    while retry and attempts[-1][0] == "busy":
        wait = min(float(attempts[-1][2]), 10.0)
        if time.monotonic() + wait >= deadline:
            attempts.append(("gave up, busy", 0.0, ""))
            break
        time.sleep(wait)
        attempts.append(one_request(url, question, max(1.0, deadline - time.monotonic())))
    return attempts


def run_clients(
    url: str, qs: list[str], clients: int, requests: int, timeout: float, retry: bool = False
) -> list[tuple[str, float, str, str]]:
    """Every attempt of every client: (outcome, seconds, text, question)."""

    def client(c: int) -> list[tuple[str, float, str, str]]:
        rows = []
        for r in range(requests):
            q = qs[(c * requests + r) % len(qs)]
            rows += [(*attempt, q) for attempt in asked(url, q, timeout, retry)]
        return rows

    with ThreadPoolExecutor(clients) as pool:
        return [row for rows in pool.map(client, range(clients)) for row in rows]


def summary(results: list[tuple[str, float, str, str]]) -> dict:
    answered = sorted(t for o, t, _, _ in results if o == "answered")
    busy = sum(o == "busy" for o, *_ in results)
    errors = [o for o, *_ in results if o not in ("answered", "busy")]
    texts: dict[str, set[str]] = {}
    for o, _, text, q in results:
        if o == "answered":
            texts.setdefault(q, set()).add(text)
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
        "differing": sum(len(t) > 1 for t in texts.values()),
        "questions": len(texts),
    }


def side_by_side(
    slots: int, clients: list[int], requests: int, timeout: float, retry: bool, sets: list[str], workers: int
) -> list[dict]:
    """The load for each client count on a serve with the model in-process and
    on one whose model is a llama.cpp server with `slots` slots; a row each."""
    rows = []
    for served in (False, True):
        llm = None
        if served:
            llm_port = free_port()
            llm = start_llm_server(llm_port, slots)
            model = ["llm_backend=openai", f"openai_base_url=http://127.0.0.1:{llm_port}/v1"]
        else:
            model = []
        port = free_port()
        try:
            proc = start_server(port, sets=sets + model, workers=workers)
            try:
                url = f"http://127.0.0.1:{port}/v1/chat/completions"
                print(f"warm-up: {one_request(url, questions()[0], timeout)[0]}", flush=True)
                for n in clients:
                    sample = questions()[: max(1, n * requests // 2)]  # each asked twice: same answer?
                    began = time.perf_counter()
                    s = summary(run_clients(url, sample, n, requests, timeout, retry))
                    s |= {"clients": n, "model": f"llama.cpp server, {slots} slots" if served else "in-process"}
                    s["wall_s"] = time.perf_counter() - began
                    s["per_s"] = s["answered"] / s["wall_s"]
                    print(json.dumps(s, ensure_ascii=False), flush=True)
                    rows.append(s)
            finally:
                stop(proc)
        finally:
            if llm is not None:
                stop(llm)
    return rows


def load_table(rows: list[dict]) -> list[str]:
    out = [
        "| clients | model | answers/s | answered | busy replies | errors | p50 | p95 | differing answers |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['clients']} | {r['model']} | {r['per_s']:.2f} | {r['answered']} | {r['busy']} | {r['errors']} "
            f"| {r['p50_s']:.2f} s | {r['p95_s']:.2f} s | {r['differing']} of {r['questions']} |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="base URL of a running server (default: start one with the real models)")
    p.add_argument("--clients", default="64", help="concurrent clients; a comma-separated list with --slots")
    p.add_argument("--requests", type=int, default=4, help="requests per client, one after another")
    p.add_argument("--idle", type=int, default=1000, help="silent connections opened first (0: skip)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request (with --retry: per question)")
    p.add_argument("--retry", action="store_true", help="a busy client waits its Retry-After and asks again")
    p.add_argument("--compose", choices=["extract", "model"], help="Settings.compose of the server started")
    p.add_argument("--workers", type=int, default=2, help="answers the started server computes at once")
    p.add_argument(
        "--slots", type=int, default=0, help="also a served model: llama.cpp server with N slots, side by side"
    )
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a setting of the started server")
    args = p.parse_args(argv)
    clients = [int(c) for c in args.clients.split(",")]
    sets = ([f"compose={args.compose}"] if args.compose else []) + args.set
    if args.slots:
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        rows = side_by_side(args.slots, clients, args.requests, args.timeout, args.retry, sets, args.workers)
        print("\n".join(load_table(rows)))
        return 0

    proc = None
    if args.url:
        base, pid = args.url.rstrip("/"), None
    else:
        port = free_port()
        started = time.perf_counter()
        proc = start_server(port, sets=sets, workers=args.workers)
        base, pid = f"http://127.0.0.1:{port}", proc.pid
        print(f"server: python -m rag serve, ready in {time.perf_counter() - started:.1f} s (pid {pid})")
    port = int(base.rsplit(":", 1)[1])
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    try:
        sample = questions()
        # The first answer loads the model and starts the pool: not load.
        outcome, seconds, _ = one_request(f"{base}/v1/chat/completions", sample[0], args.timeout)
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
        url = f"{base}/v1/chat/completions"
        results = run_clients(url, sample, clients[0], args.requests, args.timeout, args.retry)
        wall = time.perf_counter() - began
        sampler.set()
        s = summary(results)
        print(
            f"load: {clients[0]} clients x {args.requests} requests = {s['requests']} in {wall:.1f} s: "
            f"{s['answered']} answered, {s['busy']} busy (503, share {s['busy_share']:.1%}), {s['errors']} errors"
            + (f" {s['error_kinds']}" if s["errors"] else "")
        )
        print(
            f"answered latency: p50 {s['p50_s']:.2f} s, p95 {s['p95_s']:.2f} s, max {s['max_s']:.2f} s"
            + (f"; server threads at most {peak[0]}" if pid else "")
        )
    finally:
        if proc is not None:
            stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
