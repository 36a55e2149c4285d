"""vLLM's offline engine in process (`vllm:<model folder or hub id>`), for GPU machines.

A batch of prompts is one `LLM.generate` call: vLLM schedules them with continuous
batching and paged attention, the fastest way to evaluate or generate RISE data on a
GPU. Chats are rendered with the model's own chat template (`render_chat`), so the
gateway batches them too. Options: `tensor_parallel_size`, `gpu_memory_utilization`
(a fraction, e.g. 0.9), `max_model_len`, `dtype`.

vLLM is not a dependency of the project (it needs CUDA); `pip install vllm` on the GPU
machine. Without it, this spec fails at start-up with a one-line message.
"""

from __future__ import annotations

import threading
from typing import Any

from llm.backends.base import Backend, render_chat_prompt
from llm.errors import LLMConfigError
from llm.spec import ModelSpec
from llm.types import Generation, GenParams, Message


class VLLMBackend(Backend):
    kind = "vllm"
    default_concurrency = 1  # one engine; its own scheduler batches what one call brings
    native_batch = True

    def __init__(self, spec: ModelSpec) -> None:
        try:
            import vllm
        except ImportError:
            raise LLMConfigError(
                f"LLM_MODEL={spec.raw!r}: vLLM is not installed (pip install vllm, on a machine with a GPU)"
            ) from None
        kwargs: dict[str, Any] = {"model": spec.target}
        for name in ("tensor_parallel_size", "max_model_len"):
            if name in spec.options:
                kwargs[name] = spec.option_int(name, 0)
        if "gpu_memory_utilization" in spec.options:
            try:
                kwargs["gpu_memory_utilization"] = float(spec.options["gpu_memory_utilization"])
            except ValueError:
                raise LLMConfigError(f"model spec {spec.raw!r}: gpu_memory_utilization must be a fraction") from None
        if "dtype" in spec.options:
            kwargs["dtype"] = spec.options["dtype"]
        try:
            self._llm = vllm.LLM(**kwargs)
        except (OSError, ValueError, RuntimeError) as exc:
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: vLLM cannot load it: {exc}") from None
        self._vllm = vllm
        self._tok = self._llm.get_tokenizer()
        self._lock = threading.Lock()
        self.model_id = spec.target

    def _sampling(self, params: GenParams, n: int) -> Any:
        return self._vllm.SamplingParams(
            n=n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens,
            stop=list(params.stop) or None,
            seed=params.seed,
        )

    def complete_batch(
        self, prompts: list[str], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[list[Generation]]:
        with self._lock:
            outputs = self._llm.generate(prompts, self._sampling(params, n), use_tqdm=False)
        results = []
        for out in outputs:
            n_prompt = len(out.prompt_token_ids or [])
            gens = [
                Generation(
                    text=c.text,
                    prompt_tokens=n_prompt if j == 0 else 0,
                    completion_tokens=len(c.token_ids),
                    finish_reason=c.finish_reason or "stop",
                )
                for j, c in enumerate(out.outputs)
            ]
            results.append(gens)
        return results

    def complete(
        self, prompt: str, *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        return self.complete_batch([prompt], params=params, n=n, schema=schema, timeout=timeout)[0]

    def render_chat(self, messages: list[Message], params: GenParams) -> tuple[str, GenParams]:
        return render_chat_prompt(self._tok, messages, params)

    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        prompt, params = self.render_chat(messages, params)
        return self.complete(prompt, params=params, n=n, schema=schema, timeout=timeout)
