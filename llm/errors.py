"""Errors the gateway raises. Bad model *output* never raises: see `structured`.

Every message is one line a person can act on: it names what happened, the setting
and the fix.

Transport faults have a kind (`FAULT_KINDS`), each with its own retry budget (see
`llm.retry`):

- ``refused``: nothing is listening (connection refused, name not found, connect
  timeout). The only kind that gives up fast: a wrong LLM_BASE_URL should be said
  at once, and a server that went away is an outage for the run loop to wait out.
- ``dropped``: the connection broke mid-request or mid-body; treated like a 5xx.
- ``timeout``: no complete answer within LLM_TIMEOUT.
- ``rate_limited``: 429 (honours Retry-After).
- ``server_error``: 5xx, 408 and 425, with a JSON body or a proxy's HTML page.
- ``bad_response``: a 200 whose body is not JSON, or has no usable `choices`
  (missing, empty, `content: null`) or embeddings.
"""

from __future__ import annotations

FAULT_KINDS = ("refused", "dropped", "timeout", "rate_limited", "server_error", "bad_response")


class LLMError(Exception):
    """Base class for gateway errors."""


class LLMConfigError(LLMError):
    """The model or embeddings setting is wrong (unknown spec, missing file, bad key)."""


class LLMUnavailable(LLMError):
    """The model server failed this call even after retries: a fault that may heal.

    `kind` is the fault of the last attempt; `faults` counts every failed attempt
    of the call by kind.
    """

    def __init__(self, message: str, *, kind: str = "server_error", faults: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.faults = dict(faults or {})


class LLMTimeout(LLMUnavailable):
    """A call ran past its timeout."""

    def __init__(self, message: str, *, faults: dict[str, int] | None = None) -> None:
        super().__init__(message, kind="timeout", faults=faults)


class LLMRateLimited(LLMUnavailable):
    """The server kept answering 'too many requests' past the retry budget."""

    def __init__(self, message: str, *, faults: dict[str, int] | None = None) -> None:
        super().__init__(message, kind="rate_limited", faults=faults)


class LLMOutage(LLMUnavailable):
    """The model server is down and the run was told not to wait (--stop-on-outage)."""


class RetryableError(LLMError):
    """Raised by a backend for one failed attempt worth retrying; `kind` is one of FAULT_KINDS."""

    def __init__(self, message: str, *, retry_after: float | None = None, kind: str = "server_error") -> None:
        super().__init__(message)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        self.retry_after = retry_after
        self.kind = kind
