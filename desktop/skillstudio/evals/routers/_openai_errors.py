"""Turn openai SDK / httpx exceptions into RouterError (retryable or not, with Retry-After).

The SDK is imported only to classify an exception that may be one of its own: the streamed path
maps HTTP statuses itself (`status_error`) and never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from skillstudio.evals.routers import RouterError, parse_retry_after

if TYPE_CHECKING:
    import openai

FATAL_STATUSES = {401, 403, 404}  # wrong key, no access, wrong base URL or model: every case would fail


def status_error(status: int, headers: Any, message: str) -> RouterError:
    """An HTTP error status as a RouterError: 408/409/429/5xx are retried (honouring Retry-After);
    401/403/404 stop the run, since every other case would fail the same way."""
    retryable = status in (408, 409, 429) or status >= 500
    hint = {401: " (the API key was refused)", 403: " (no access)",
            404: " (wrong base URL or unknown model; a server without the Responses API needs "
                 "--provider chat)"}.get(status, "")
    return RouterError(f"HTTP {status}{hint}: {message}", retryable=retryable,
                       retry_after=parse_retry_after(headers), fatal=status in FATAL_STATUSES, status=status)


def body_message(body: bytes, reason: str) -> str:
    """The `error.message` of an OpenAI-style error body, else the start of the body or the reason."""
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return (body.decode("utf-8", "replace").strip() or reason)[:300]
    err = data.get("error", data) if isinstance(data, dict) else None
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])[:300]
    return reason[:300]


def to_router_error(exc: BaseException) -> RouterError:
    if isinstance(exc, RouterError):
        return exc
    if isinstance(exc, httpx.HTTPError):  # raised while iterating a stream that was cut
        return RouterError(f"stream dropped: {exc.__class__.__name__}: {exc}", retryable=True)
    import openai

    if isinstance(exc, openai.APIStatusError):
        return status_error(exc.status_code, exc.response.headers if exc.response is not None else None,
                            _message(exc))
    if isinstance(exc, openai.APITimeoutError):
        return RouterError("request timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return RouterError(f"connection failed: {exc.__cause__ or exc}", retryable=True)
    if isinstance(exc, openai.APIError):
        return RouterError(f"API error: {_message(exc)}", retryable=True)
    raise exc


def _message(exc: openai.APIError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
    return str(exc.message)[:300]
