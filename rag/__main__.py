"""Command line: `python -m rag ask "问题"`, `python -m rag index`, `python -m rag serve`.

Deliberately small: the chat page is app.py, evaluation is `python -m eval`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from .settings import Settings


def _print_answer(answer) -> None:
    print(answer.text)
    if answer.citations:
        print("\n出处:")
        for i, c in enumerate(answer.citations, start=1):
            print(f"[{i}] {c.title}（{c.doc}）")
            print(f"    {c.section or '（正文）'} · 第{c.paragraph}段")
            print(f"    {c.text[:200]}{'…' if len(c.text) > 200 else ''}")
    if answer.dropped:
        print(f"\n（已删除 {len(answer.dropped)} 句无法在出处中核实的内容）")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="政府文件问答")
    sub = parser.add_subparsers(dest="command", required=True)
    p_ask = sub.add_parser("ask", help="answer one question")
    p_ask.add_argument("question")
    p_ask.add_argument("--top-k", type=int, default=5)
    p_ask.add_argument("--doc", help="only this document (file name)")
    p_index = sub.add_parser("index", help="(re)build the index")
    p_index.add_argument("--if-needed", action="store_true", help="only when sources or settings changed")
    p_serve = sub.add_parser("serve", help="OpenAI-compatible chat completions endpoint")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--workers", type=int, default=2, help="answers computed at once")
    p_serve.add_argument("--queue", type=int, default=16, help="answers waiting beyond those; more get 503 busy")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("faiss").setLevel(logging.WARNING)
    settings = Settings()

    if args.command == "index":
        from .embeddings import make_embedder
        from .index import build, load_or_build, save

        embedder = make_embedder(settings.embedder, settings.query_prefix, settings.passage_prefix)
        started = time.perf_counter()
        if args.if_needed:
            index = load_or_build(settings, embedder)
        else:
            index = build(settings, embedder)
            save(index, settings.index_dir)
        print(
            f"index: {len(index.chunks)} chunks from {len(index.documents)} documents "
            f"in {time.perf_counter() - started:.1f}s -> {settings.index_dir}"
        )
        for message in index.manifest.get("skipped", []):
            print(f"skipped: {message}")
        return 0

    from .pipeline import Pipeline

    if args.command == "serve":
        from .serve import serve

        pipe = Pipeline(settings)
        pipe.index  # noqa: B018 - load before the first request, not during it
        server = serve(pipe, args.host, args.port, workers=args.workers, queue=args.queue)
        print(f"serving on http://{args.host}:{server.server_port}/v1/chat/completions", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        return 0

    try:
        answer = Pipeline(settings).ask(args.question, args.top_k, doc=args.doc)
    except ValueError as e:
        print(f"错误: {e}", file=sys.stderr)
        return 2
    _print_answer(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
