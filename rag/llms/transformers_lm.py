"""Any transformers causal LM (a hub name, a local path, or a GGUF file), on the CPU.

Choices become a token trie that `prefix_allowed_tokens_fn` enforces. A GGUF
file is dequantised once and cached as safetensors. Deliberately not done
here: which engine a setting names (rag/llms/__init__.py).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from pathlib import Path

from . import LLMError, cpu_threads


class _Trie:
    """Allowed token sequences: `choices` tokenised, up to `max_choices` in a row."""

    def __init__(self, sequences: list[list[int]], eos: int, max_choices: int):
        self.root: dict = {}
        for seq in sequences:
            node = self.root
            for t in seq:
                node = node.setdefault(t, {})
            node[None] = True  # a choice may end here
        self.eos = eos
        self.max_choices = max_choices

    def allowed(self, generated: list[int]) -> list[int]:
        node, used = self.root, 0
        for t in generated:
            if t == self.eos:
                return [self.eos]
            if t not in node and node.get(None):
                node, used = self.root, used + 1  # the last choice ended; a new one starts
            node = node.get(t, {})
        options = [t for t in node if t is not None]
        if not generated:
            options.append(self.eos)  # choosing nothing is an answer too
        if node.get(None):
            options.append(self.eos)
            if used + 1 < self.max_choices:
                options.extend(t for t in self.root if t is not None)
        return options or [self.eos]


class TransformersLLM:
    """Any transformers causal LM (name, local path, or GGUF file), run on the CPU."""

    def __init__(
        self, model: str | Path, cache_dir: Path | None = None, gguf_file: str | None = None, threads: int = 0
    ):
        self.model = str(model)
        self.gguf_file = gguf_file
        self.cache_dir = cache_dir
        self.threads = cpu_threads(threads)
        self.name = f"transformers:{Path(self.model).name}{'/' + gguf_file if gguf_file else ''}"
        self._lock = threading.Lock()

    def _converted_dir(self) -> Path | None:
        """Where a GGUF model is kept after dequantising, keyed by the file's hash."""
        if not (self.gguf_file and self.cache_dir):
            return None
        path = Path(self.model) / self.gguf_file
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return Path(self.cache_dir) / f"{path.stem}-{h.hexdigest()[:12]}"

    @functools.cached_property
    def _loaded(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(self.threads)
        cached = self._converted_dir()
        if cached and (cached / "config.json").exists():
            tok = AutoTokenizer.from_pretrained(cached)
            model = AutoModelForCausalLM.from_pretrained(cached, dtype=torch.float32)
        else:
            kw = {"gguf_file": self.gguf_file} if self.gguf_file else {}
            tok = AutoTokenizer.from_pretrained(self.model, **kw)
            model = AutoModelForCausalLM.from_pretrained(self.model, dtype=torch.float32, **kw)
            if cached:
                # Dequantising GGUF takes ~45 s; safetensors load in a few. The
                # weights are plain float32 now: drop the GGUF quantizer so
                # transformers agrees to save them.
                model.hf_quantizer = None
                if hasattr(model.config, "quantization_config"):
                    del model.config.quantization_config
                tmp = cached.with_name(cached.name + ".tmp")
                model.save_pretrained(tmp)
                tok.save_pretrained(tmp)
                os.replace(tmp, cached)
        model.eval()
        return tok, model

    def _prompt_ids(self, prompt: str):
        tok, _ = self._loaded
        if tok.chat_template:
            ids = tok.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt"
            )
            return ids if not isinstance(ids, dict) else ids["input_ids"]
        return tok(prompt, return_tensors="pt")["input_ids"]

    def stream(self, prompt, *, max_tokens, choices=None, max_choices=1):
        import torch
        from transformers import TextIteratorStreamer

        with self._lock:  # the first call loads the model; others wait for it
            tok, model = self._loaded
        ids = self._prompt_ids(prompt)
        kwargs: dict = {"max_new_tokens": max_tokens, "do_sample": False}
        if choices:
            eos = tok.eos_token_id if tok.eos_token_id is not None else tok.pad_token_id
            seqs = [tok(c, add_special_tokens=False)["input_ids"] for c in choices]
            trie = _Trie(seqs, eos, max_choices)
            n = ids.shape[1]
            kwargs["prefix_allowed_tokens_fn"] = lambda _b, seq: trie.allowed(seq[n:].tolist())
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True, timeout=600)
        # A reader that stops early (a closed page) stops the generation too.
        stop = threading.Event()
        kwargs["stopping_criteria"] = [lambda *_: stop.is_set()]
        errors: list[Exception] = []

        def run():
            try:
                with self._lock, torch.inference_mode():
                    model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), streamer=streamer, **kwargs)
            except Exception as e:
                errors.append(e)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            yield from (piece for piece in streamer if piece)
        finally:
            # generate() still has work after its last piece; a process that
            # exits meanwhile aborts ("terminate called without an active exception").
            stop.set()
            worker.join()
        if errors:
            raise LLMError(f"transformers generation failed: {errors[0]}")
