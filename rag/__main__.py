"""Command line: `python -m rag ask "问题"`, `python -m rag index`, `python -m rag list`,
`python -m rag add PATH...`, `python -m rag remove NAME...` (rag/library.py),
`python -m rag serve`, `python -m rag llm-server`; any setting with `--set NAME=VALUE`.
A failure the user can fix (an unknown --doc, an index folder that can't be written,
no readable documents, a bad --set) is one line `错误: …` on stderr and exit status 2,
not a traceback.

Deliberately small: the chat page is app.py, evaluation is `python -m eval`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time

from .settings import Settings, settings_from


def _print_answer(answer) -> None:
    if answer.translated:
        print(f"按中文问题回答: {answer.translated}\n")
    if answer.read_as:
        print(f"{answer.read_as}\n")
    if answer.short:
        print(f"简答: {answer.short}\n")
    print(answer.text)
    if answer.citations:
        print("\n出处:")
        for i, c in enumerate(answer.citations, start=1):
            print(f"[{i}] {c.title}（{c.doc}）")
            print(f"    {c.section or '（正文）'} · {c.place}")
            print(f"    {c.text[:200]}{'…' if len(c.text) > 200 else ''}")
    if answer.related:
        print("\n资料中相关的原文（仅供参考，并非答案）:")
        for c in answer.related:
            print(f"- {c.title}（{c.agency or c.doc}）· {c.section or '（正文）'} · {c.place}")
            print(f"    {c.text[:200]}{'…' if len(c.text) > 200 else ''}")
    if answer.contact:
        print(f"\n可咨询: {answer.contact}（最相关文件的发布机关）")
    if answer.dropped:
        print(f"\n（已删除 {len(answer.dropped)} 句无法在出处中核实的内容）")


def _index(settings: Settings, if_needed: bool) -> int:
    from .embeddings import embedder_for
    from .index import IndexUnavailable, build, refresh, save, unwritable

    embedder = embedder_for(settings)
    started = time.perf_counter()
    # Before the minutes of embedding, not after them.
    if problem := unwritable(settings.index_dir):
        raise IndexUnavailable(problem)
    if if_needed:
        index, changed = refresh(settings, embedder)
    else:
        index, changed = build(settings, embedder), True
        save(index, settings.index_dir)
    _summary(index, started, settings.index_dir, changed)
    for message in index.manifest.get("skipped", []):
        print(f"skipped: {message}")
    return 0


def _summary(index, started: float, folder, changed: bool = True) -> None:
    """What a build or a document change did: chunks, how many embedded anew."""
    reused = index.manifest.get("reused_chunks", 0) if changed else len(index.chunks)
    print(
        f"index: {len(index.chunks)} chunks from {len(index.documents)} documents "
        f"({len(index.chunks) - reused} embedded, {reused} reused) "
        f"in {time.perf_counter() - started:.1f}s -> {folder}"
    )


def _list(settings: Settings) -> int:
    from .index import load_or_build
    from .library import entries

    index = load_or_build(settings)
    print("文件\t标题\t发布机关\t日期\t块数\t添加时间")
    for e in entries(index):
        print(f"{e.file}\t{e.title}\t{e.agency or '-'}\t{e.date or '-'}\t{e.chunks}\t{e.added or '-'}")
    for message in index.manifest.get("skipped", []):
        print(f"skipped: {message}", file=sys.stderr)
    return 0


def _manage(settings: Settings, command: str, items: list[str]) -> int:
    from pathlib import Path

    from . import library
    from .embeddings import embedder_for

    embedder = embedder_for(settings)
    started = time.perf_counter()
    if command == "add":
        change = library.add(settings, [Path(p) for p in items], embedder)
    else:
        change = library.remove(settings, items, embedder)
    verb = "added" if command == "add" else "removed"
    print(f"{verb}: {'、'.join(change.done)}")
    for message in change.skipped:
        print(f"skipped: {message}")
    _summary(change.index, started, settings.index_dir)
    return 0


def _llm_server(settings: Settings, host: str, port: int, parallel: int) -> int:
    from pathlib import Path

    from .llms import bundled_gguf
    from .llms.llamacpp import llama_server

    path = bundled_gguf() if settings.llm == "gemma" else Path(settings.llm)
    if path.suffix != ".gguf" or not path.is_file():
        print(f"错误: llm-server needs a .gguf file, got {settings.llm!r}", file=sys.stderr)
        return 2
    server, url = llama_server(path, port, host, settings.llm_threads, parallel=parallel)
    print(f"llama.cpp server on {url} ({parallel} slots): --set llm_backend=openai --set openai_base_url={url}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    del server
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="政府文件问答")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a setting of rag.settings.Settings (repeatable): --set compose=model",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_ask = sub.add_parser("ask", help="answer one question", parents=[common])
    p_ask.add_argument("question")
    p_ask.add_argument("--top-k", type=int, default=5)
    p_ask.add_argument("--doc", help="only this document (file name)")
    p_index = sub.add_parser("index", help="(re)build the index", parents=[common])
    p_index.add_argument(
        "--if-needed", action="store_true", help="only what changed: embeds new and changed files, drops removed ones"
    )
    sub.add_parser(
        "list", help="the indexed documents: file, title, agency, date, chunks, when added", parents=[common]
    )
    p_add = sub.add_parser(
        "add", help="copy files (or folders' files) into the documents and index them", parents=[common]
    )
    p_add.add_argument("paths", nargs="+")
    p_remove = sub.add_parser(
        "remove", help="delete documents (by file name) and drop them from the index", parents=[common]
    )
    p_remove.add_argument("names", nargs="+")
    p_serve = sub.add_parser("serve", help="OpenAI-compatible chat completions endpoint", parents=[common])
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--workers", type=int, default=2, help="answers computed at once")
    p_serve.add_argument("--queue", type=int, default=16, help="answers waiting beyond those; more get 503 busy")
    p_serve.add_argument("--admin-token", default="", help="enables /v1/documents for this token (Bearer)")
    p_llm = sub.add_parser("llm-server", help="a llama.cpp OpenAI-compatible server for the GGUF of --set llm=")
    p_llm.add_argument("--host", default="127.0.0.1")
    p_llm.add_argument("--port", type=int, default=8080)
    p_llm.add_argument("--parallel", type=int, default=4, help="slots decoding requests together")
    p_llm.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="llm=FILE.gguf, llm_threads=N")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("faiss").setLevel(logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs "Building index from tokens" at each add
    try:
        settings = settings_from(args.set, Settings())
    except ValueError as e:
        print(f"错误: {e}", file=sys.stderr)
        return 2
    if args.command == "llm-server":
        return _llm_server(settings, args.host, args.port, args.parallel)

    from .embeddings import EmbeddingError
    from .index import IndexUnavailable

    try:
        if args.command == "index":
            return _index(settings, args.if_needed)
        if args.command == "list":
            return _list(settings)
        if args.command in ("add", "remove"):
            return _manage(settings, args.command, args.paths if args.command == "add" else args.names)
    except (IndexUnavailable, EmbeddingError, ValueError, OSError) as e:
        print(f"错误: {e}", file=sys.stderr)
        return 2

    from .pipeline import Pipeline

    if args.command == "serve":
        from .serve import serve

        pipe = Pipeline(settings)
        token = args.admin_token or settings.admin_token
        try:
            pipe.index  # noqa: B018 - load (or build) before the first request, not during it
            server = serve(pipe, args.host, args.port, workers=args.workers, queue=args.queue, admin_token=token)
        except (IndexUnavailable, EmbeddingError, OSError) as e:  # OSError: the port is taken
            print(f"错误: {e}", file=sys.stderr)
            return 2
        print(f"serving on http://{args.host}:{server.server_port}/v1/chat/completions", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        return 0

    try:
        answer = Pipeline(settings).ask(args.question, args.top_k, doc=args.doc)
    except (IndexUnavailable, EmbeddingError, ValueError) as e:
        print(f"错误: {e}", file=sys.stderr)
        return 2
    _print_answer(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
