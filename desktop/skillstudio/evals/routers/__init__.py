"""Routers: how one trigger case reaches a model (or the offline estimator) and what it picked.

Every router takes a `RouteRequest` and returns a `RouteResult`; transport trouble is raised as
`RouterError` with `retryable` and `retry_after`, so the runner alone owns retries, backoff and
timeouts. Which skill was picked is decided for all of them by `skillstudio.evals.trajectory`
(follow the model until it decides) with the path rule of `skillstudio.evals.decision`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC
from typing import Any, Protocol

from skillstudio.evals.suite import Suite, SuiteCase


@dataclass(frozen=True)
class RouteRequest:
    case: SuiteCase
    run: int  # 0-based repeat index; each repeat is its own request (and cache entry)


@dataclass
class RouteResult:
    selected: str | None  # skill name, or None when no skill was read
    first_command: str | None = None  # the raw first shell command / file read, for people to check
    ttft_s: float | None = None  # time to the first output event (streaming only)
    latency_s: float | None = None  # run start to decision, every turn and exploring command included
    # input_tokens / output_tokens as the server reported them; "estimated": 1 when counted locally
    # because the stream was closed before the server said (see ResponsesRouter.estimate_usage)
    usage: dict[str, int] | None = None
    raw_events_summary: list[str] = field(default_factory=list)  # event/item types seen, in order
    early_stop: bool = False  # the stream was closed as soon as the decision was known
    # "read" | "answered" | "undecided"; None for results made by the first-call rule (before trajectories)
    outcome: str | None = None
    turns: int | None = None  # model turns the run took (every turn's usage is in `usage`)
    trajectory: list[dict[str, Any]] = field(default_factory=list)  # trajectory.Step.to_json(), in order

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RouteResult:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


class RouterError(Exception):
    """A request that did not produce an answer. `retryable`: 429, 5xx, timeouts, dropped streams."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None,
                 fatal: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.fatal = fatal  # e.g. a refused API key: no point sending the other cases
        self.status = status


class Router(Protocol):
    """What the runner needs from a provider."""

    kind: str  # "responses" | "chat" | "offline"
    model: str
    base_url: str
    is_estimate: bool  # True only for the offline lexical estimator

    def prepare(self, suite: Suite) -> None:
        """Called once before any request, with the whole suite (catalog, negatives)."""

    def request_body(self, req: RouteRequest) -> dict[str, Any] | None:
        """The exact request body (without transport flags such as `stream`); None = not cacheable."""

    async def route(self, req: RouteRequest) -> RouteResult:
        """Send one case; raise RouterError on transport trouble."""

    async def aclose(self) -> None:
        """Release connections."""


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
    except Exception:  # noqa: BLE001 - odd header containers: no hint
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
