"""Local Hugging Face models through transformers: a model folder, or a GGUF file
(dequantised into a torch model). This is what the training code produces and what
its evaluations load. Prompts in one call are padded and generated as one batch.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from llm.backends.base import Backend, render_chat_prompt
from llm.errors import LLMConfigError, LLMTimeout
from llm.spec import ModelSpec
from llm.types import Generation, GenParams, Message


class TransformersBackend(Backend):
    kind = "transformers"
    default_concurrency = 1
    native_batch = True

    def __init__(self, spec: ModelSpec) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise LLMConfigError("transformers and torch are needed for LLM_MODEL=transformers:...") from None
        if spec.target == "bundled":
            from llm.backends.llama_cpp_backend import bundled_gguf_path

            path = bundled_gguf_path()
        else:
            path = Path(spec.target).expanduser()
        if not path.exists():
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: {path} not found; give a model folder or a .gguf file")
        if path.is_file():
            folder, kwargs = str(path.parent), {"gguf_file": path.name}
        else:
            folder, kwargs = str(path), {}
        try:
            self._tok = AutoTokenizer.from_pretrained(folder, **kwargs)
            self._model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **kwargs)
        except (OSError, ValueError) as exc:
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: transformers cannot load {path}: {exc}") from None
        self._model.eval()
        if self._tok.pad_token is None:
            self._tok.pad_token = self._tok.eos_token
        self._tok.padding_side = "left"  # generation continues on the right
        self._torch = torch
        self._lock = threading.Lock()
        self.model_id = path.name
        self.has_chat_template = bool(getattr(self._tok, "chat_template", None))
        self.prefers_chat = self.has_chat_template and spec.options.get("api", "completions") == "chat"

    def complete(
        self, prompt: str, *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        return self.complete_batch([prompt], params=params, n=n, schema=schema, timeout=timeout)[0]

    def complete_batch(
        self, prompts: list[str], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[list[Generation]]:
        torch = self._torch
        with self._lock:
            batch = self._tok(prompts, return_tensors="pt", padding=True, add_special_tokens=self._add_bos(prompts))
            width = batch["input_ids"].shape[1]
            sampling: dict[str, Any] = {"do_sample": False}
            if params.temperature > 0:
                sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
                if params.seed is not None:
                    torch.manual_seed(params.seed)
            with torch.inference_mode():
                out = self._model.generate(  # type: ignore[misc]
                    **batch,
                    max_new_tokens=params.max_tokens,
                    num_return_sequences=n,
                    max_time=timeout,
                    stop_strings=list(params.stop) or None,
                    tokenizer=self._tok,
                    pad_token_id=self._tok.pad_token_id,
                    **sampling,
                )
            new_tokens = out[:, width:]
            results: list[list[Generation]] = []
            for i, prompt_ids in enumerate(batch["attention_mask"]):
                n_prompt = int(prompt_ids.sum())
                gens = []
                for j in range(n):
                    row = new_tokens[i * n + j]
                    count = int((row != self._tok.pad_token_id).sum())
                    text = str(self._tok.decode(row, skip_special_tokens=True))
                    gens.append(
                        Generation(
                            text=_cut_at_stop(text, params.stop),
                            prompt_tokens=n_prompt if j == 0 else 0,
                            completion_tokens=count,
                            finish_reason="length" if count >= params.max_tokens else "stop",
                        )
                    )
                results.append(gens)
        if timeout and all(g.completion_tokens == 0 for r in results for g in r) and params.max_tokens > 0:
            raise LLMTimeout(f"transformers generation produced nothing within {timeout:.0f}s (LLM_TIMEOUT)")
        return results

    def stream(
        self, kind: str, payload: str | list[Message], *, params: GenParams, timeout: float
    ) -> Generator[str, None, Generation]:
        """generate() in a thread feeding a TextIteratorStreamer; closing the generator
        stops generation at the next token (a stopping criterion reads the flag)."""
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        if kind == "chat":
            prompt, params = self.render_chat(payload, params)  # type: ignore[arg-type]
        else:
            prompt = str(payload)
        torch = self._torch
        stop_now = threading.Event()

        class _Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), stop_now.is_set(), dtype=torch.bool)

        pieces: list[str] = []
        with self._lock:
            batch = self._tok([prompt], return_tensors="pt", add_special_tokens=self._add_bos([prompt]))
            streamer = TextIteratorStreamer(self._tok, skip_prompt=True, skip_special_tokens=True, timeout=timeout)
            sampling: dict[str, Any] = {"do_sample": False}
            if params.temperature > 0:
                sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
                if params.seed is not None:
                    torch.manual_seed(params.seed)

            def generate() -> None:
                with torch.inference_mode():
                    self._model.generate(  # type: ignore[misc]
                        **batch,
                        max_new_tokens=params.max_tokens,
                        max_time=timeout,
                        stop_strings=list(params.stop) or None,
                        tokenizer=self._tok,
                        pad_token_id=self._tok.pad_token_id,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Cancelled()]),
                        **sampling,
                    )

            worker = threading.Thread(target=generate, name="transformers-stream", daemon=True)
            worker.start()
            finished = False
            try:
                written = ""
                for text in streamer:
                    combined = written + text
                    cut = _cut_at_stop(combined, params.stop)
                    piece, written = cut[len(written) :], cut
                    if piece:
                        pieces.append(piece)
                        yield piece
                    if len(cut) < len(combined):
                        break  # a stop string: the answer ends before it
                else:
                    finished = True
            finally:
                stop_now.set()
                if not finished:
                    for _ in streamer:  # stopped early: take what generate() still writes
                        pass
                worker.join(timeout=timeout)
        text = "".join(pieces)
        n_prompt = int(batch["input_ids"].shape[1])
        count = len(self._tok(text, add_special_tokens=False)["input_ids"]) if text else 0
        return Generation(text, prompt_tokens=n_prompt, completion_tokens=count)

    def _add_bos(self, prompts: list[str]) -> bool:
        """Whether tokenising should add the special tokens (BOS): not when a chat
        template already wrote BOS into the text, which would make it appear twice and
        differ from what training saw."""
        bos = self._tok.bos_token
        return not (bos and all(p.startswith(bos) for p in prompts))

    def render_chat(self, messages: list[Message], params: GenParams) -> tuple[str, GenParams]:
        """The prompt a chat becomes (the model's chat template, else plain turns with
        stops at the next turn), so the gateway can batch chats as completions."""
        return render_chat_prompt(self._tok, messages, params)

    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        prompt, params = self.render_chat(messages, params)
        return self.complete(prompt, params=params, n=n, schema=schema, timeout=timeout)


def _cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    cut = len(text)
    for s in stop:
        idx = text.find(s)
        if idx != -1:
            cut = min(cut, idx)
    return text[:cut]
