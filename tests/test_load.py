"""16 concurrent clients on 127.0.0.1 against the serve endpoint: each gets its
own answer, memory stays bounded, and p50/p95 are printed. Bounded in requests
and time; it stops by itself."""

import json
import resource
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from rag.serve import serve

QUESTIONS = [
    "2024年郑州市地区生产总值预期增长多少?",
    "新乡高新区植树造林有什么安排?",
    "郑州碳达峰方案体系是什么?",
    "郑州淘汰了多少家独立铝用碳素企业?",
    "2023年郑州服务业增加值是多少?",
    "郑州建成了多少个5G基站?",
    "新乡高新区的基本思路是什么?",
    "郑州市碳达峰碳中和工作领导小组由谁担任组长?",
]
CLIENTS = 16
ROUNDS = 4  # requests per client


def ask(url: str, question: str) -> tuple[str, float]:
    body = json.dumps({"messages": [{"role": "user", "content": question}]}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        text = json.load(r)["choices"][0]["message"]["content"]
    return text, time.perf_counter() - started


def test_sixteen_concurrent_clients_each_get_their_own_answer(fake_pipeline):
    pipe = fake_pipeline()
    expected = {q: pipe.ask(q) for q in QUESTIONS}  # one at a time, for reference
    srv = serve(pipe, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}/v1/chat/completions"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        jobs = [QUESTIONS[(c + r) % len(QUESTIONS)] for c in range(CLIENTS) for r in range(ROUNDS)]
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda q: (q, *ask(url, q)), jobs))
    finally:
        srv.shutdown()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    errors = 0
    for question, text, _ in results:
        if not text.startswith(expected[question].text):
            errors += 1
    latencies = sorted(t for _, _, t in results)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"\nload: {CLIENTS} clients, {len(results)} requests, {errors} errors, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"peak RSS {rss_after / 1024:.0f} MB (+{(rss_after - rss_before) / 1024:.0f} MB)"
    )
    assert errors == 0 and len(results) == CLIENTS * ROUNDS
    assert rss_after - rss_before < 300 * 1024  # KB: no growth per request
