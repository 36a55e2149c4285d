"""The one model gateway every app uses. No Django imports in this package.

Public API:
    build_gateway(model, ...)            -> Gateway   (llm.factory)
    Gateway.complete / chat / complete_batch / structured / structured_batch / embed
    and their async twins acomplete / achat / ... / aembed
    Gateway.stream / astream            text pieces as the model writes them (llm.streaming)
    call_context(run=, step=, item=)     tags the calls made inside it
    load_prompt / render_prompt          prompts live in files
"""

from llm.context import call_context, current_context
from llm.errors import LLMConfigError, LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable
from llm.factory import build_backend, build_embedder, build_gateway
from llm.gateway import Gateway
from llm.prompts import load_prompt, render_prompt
from llm.streaming import TextStream
from llm.types import Completion, Generation, GenParams, Message, Outcome, Structured

__all__ = [
    "Completion",
    "Gateway",
    "GenParams",
    "Generation",
    "LLMConfigError",
    "LLMError",
    "LLMRateLimited",
    "LLMTimeout",
    "LLMUnavailable",
    "Message",
    "Outcome",
    "Structured",
    "TextStream",
    "build_backend",
    "build_embedder",
    "build_gateway",
    "call_context",
    "current_context",
    "load_prompt",
    "render_prompt",
]
