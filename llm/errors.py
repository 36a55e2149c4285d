"""Errors the gateway raises. Bad model *output* never raises: see `structured`.

Every message is one line a person can act on: it names the setting and the fix.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class for gateway errors."""


class LLMConfigError(LLMError):
    """The model or embeddings setting is wrong (unknown spec, missing file, bad key)."""


class LLMUnavailable(LLMError):
    """The model server could not be reached, even after retries."""


class LLMTimeout(LLMError):
    """A call ran past its timeout."""


class LLMRateLimited(LLMError):
    """The server kept answering 'too many requests' past the retry budget."""


class RetryableError(LLMError):
    """Raised by a backend for a failure worth retrying (429, 5xx, a dropped connection)."""

    def __init__(self, message: str, *, retry_after: float | None = None, kind: str = "server") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.kind = kind  # "rate_limit" | "server" | "connection"
