"""Command line: `python -m rag ask "问题"`, `python -m rag index`, `python -m rag list`,
`python -m rag serve`. A failure the user can fix (an unknown --doc, an index folder
that can't be written, no readable documents) is one line `错误: …` on stderr and
exit status 2, not a traceback.

Deliberately small: the chat page is app.py, evaluation is `python -m eval`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from .settings import Settings


def _print_answer(answer) -> None:
    if answer.short:
        print(f"简答: {answer.short}\n")
    print(answer.text)
    if answer.citations:
        print("\n出处:")
        for i, c in enumerate(answer.citations, start=1):
            print(f"[{i}] {c.title}（{c.doc}）")
            print(f"    {c.section or '（正文）'} · 第{c.paragraph}段")
            print(f"    {c.text[:200]}{'…' if len(c.text) > 200 else ''}")
    if answer.related:
        print("\n资料中相关的原文（仅供参考，并非答案）:")
        for c in answer.related:
            print(f"- {c.title}（{c.agency or c.doc}）· {c.section or '（正文）'} · 第{c.paragraph}段")
            print(f"    {c.text[:200]}{'…' if len(c.text) > 200 else ''}")
    if answer.contact:
        print(f"\n可咨询: {answer.contact}（最相关文件的发布机关）")
    if answer.dropped:
        print(f"\n（已删除 {len(answer.dropped)} 句无法在出处中核实的内容）")


def _index(settings: Settings, if_needed: bool) -> int:
    from .embeddings import make_embedder
    from .index import IndexUnavailable, build, identity, load, save, unwritable

    embedder = make_embedder(settings.embedder, settings.query_prefix, settings.passage_prefix)
    started = time.perf_counter()
    try:
        index = load(settings.index_dir, identity(settings, embedder)) if if_needed else None
    except IndexUnavailable as e:
        logging.getLogger("rag").info("building index: %s", e)
        index = None
    if index is None:
        # Before the minutes of embedding, not after them.
        if problem := unwritable(settings.index_dir):
            raise IndexUnavailable(problem)
        index = build(settings, embedder)
        save(index, settings.index_dir)
    print(
        f"index: {len(index.chunks)} chunks from {len(index.documents)} documents "
        f"in {time.perf_counter() - started:.1f}s -> {settings.index_dir}"
    )
    for message in index.manifest.get("skipped", []):
        print(f"skipped: {message}")
    return 0


def _list(settings: Settings) -> int:
    from collections import Counter

    from .index import load_or_build

    index = load_or_build(settings)
    chunks = Counter(c.doc for c in index.chunks)
    print("文件\t标题\t发布机关\t日期\t块数")
    for d in sorted(index.documents.values(), key=lambda d: d.id):
        print(f"{d.id}\t{d.title}\t{d.agency or '-'}\t{d.date or '-'}\t{chunks[d.id]}")
    for message in index.manifest.get("skipped", []):
        print(f"skipped: {message}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="政府文件问答")
    sub = parser.add_subparsers(dest="command", required=True)
    p_ask = sub.add_parser("ask", help="answer one question")
    p_ask.add_argument("question")
    p_ask.add_argument("--top-k", type=int, default=5)
    p_ask.add_argument("--doc", help="only this document (file name)")
    p_index = sub.add_parser("index", help="(re)build the index")
    p_index.add_argument("--if-needed", action="store_true", help="only when sources or settings changed")
    sub.add_parser("list", help="the indexed documents: file, title, agency, date, chunks")
    p_serve = sub.add_parser("serve", help="OpenAI-compatible chat completions endpoint")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--workers", type=int, default=2, help="answers computed at once")
    p_serve.add_argument("--queue", type=int, default=16, help="answers waiting beyond those; more get 503 busy")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("faiss").setLevel(logging.WARNING)
    settings = Settings()

    from .index import IndexUnavailable

    try:
        if args.command == "index":
            return _index(settings, args.if_needed)
        if args.command == "list":
            return _list(settings)
    except (IndexUnavailable, ValueError, OSError) as e:
        print(f"错误: {e}", file=sys.stderr)
        return 2

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
    except (IndexUnavailable, ValueError) as e:
        print(f"错误: {e}", file=sys.stderr)
        return 2
    _print_answer(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
