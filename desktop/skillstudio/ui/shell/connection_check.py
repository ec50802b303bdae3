"""Check a model server the way the trigger suite will use it, and explain failures in the app's terms.

Listing `/models` proves only that something answers: many local servers (older Ollama, LM Studio)
list models but have no Responses API, and a model name may be unknown. So the check sends one real
routing request through the same router the suite uses (`/responses` or `/chat/completions`, with a
one-skill catalog), and when the chosen route fails but the other one works it says which choice on
this page to make — never a command-line flag. Runs on a worker thread (no widget access).
"""

from __future__ import annotations

from dataclasses import dataclass

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.evals.routers import RouteRequest, RouterError
from skillstudio.evals.suite import CatalogEntry, Suite, SuiteCase
from skillstudio.services.providers import build_router
from skillstudio.ui.common.provider_form import CHAT, RESPONSES, ProviderChoice, service_choice

ROUTE_PATH = {RESPONSES: "/responses", CHAT: "/chat/completions"}
ROUTE_LABEL = {RESPONSES: "Responses API", CHAT: "Chat Completions"}
PROBE_PROMPT = "Reply with one word: ready"


@dataclass(frozen=True)
class RouteCheck:
    kind: str
    seconds: float
    selected: str | None

    def message(self, base_url: str, model: str) -> str:
        return (f"✓ {ROUTE_LABEL[self.kind]} works: {base_url.rstrip('/')}{ROUTE_PATH[self.kind]} answered a "
                f"routing request with {model} in {self.seconds:.1f} s — trigger tests will use this route")


def _probe_suite() -> Suite:
    from pathlib import Path

    entry = CatalogEntry(name="connection-check", description="Checks that the model server answers.",
                         path="/skills/connection-check")
    case = SuiteCase(index=0, skill="connection-check", prompt=PROBE_PROMPT, expect="no_trigger")
    return Suite(root=Path("."), catalog=[entry], cases=[case])


def _route_once(kind: str, base_url: str, model: str, timeout: float) -> RouteCheck:
    import asyncio  # here, not at import: the wizard module loads at every start-up
    import time

    router = build_router(service_choice(ProviderChoice(kind=kind, base_url=base_url, model=model, timeout_s=timeout)))
    suite = _probe_suite()

    async def go() -> RouteCheck:
        try:
            router.prepare(suite)
            t0 = time.perf_counter()
            result = await router.route(RouteRequest(case=suite.cases[0], run=0))
            return RouteCheck(kind, time.perf_counter() - t0, result.selected)
        finally:
            await router.aclose()

    return asyncio.run(go())


def _why(exc: BaseException) -> tuple[int | None, str]:
    status = getattr(exc, "status", None)
    text = str(exc).split(" (wrong base URL", 1)[0].split(": ", 1)[-1] if status else str(exc)
    return status, text[:200]


def check_route(kind: str, base_url: str, model: str, token: CancelToken | None = None,
                timeout: float = 30.0) -> RouteCheck:
    """One real routing request on `kind`'s route; SkillStudioError with advice in the wizard's terms."""
    base = base_url.strip().rstrip("/")
    if not model.strip():
        raise SkillStudioError("no model name given", "type the model the server runs, e.g. llama3.1")
    try:
        return _route_once(kind, base, model.strip(), timeout)
    except (RouterError, SkillStudioError) as exc:
        first = exc
    if token is not None:
        token.raise_if_cancelled()
    status, why = _why(first)
    other = CHAT if kind == RESPONSES else RESPONSES
    if status in (404, 405, 400, 501) or status is None:
        try:
            _route_once(other, base, model.strip(), timeout)
        except (RouterError, SkillStudioError):
            pass
        else:
            raise SkillStudioError(
                f"{base}{ROUTE_PATH[kind]} does not work on this server ({'HTTP ' + str(status) if status else why})"
                f", but {ROUTE_PATH[other]} does",
                f"choose “{ROUTE_LABEL[other]}” under API above and test again")
    if status == 401:
        raise SkillStudioError(f"{base} refused the request (401)", "this server wants an API key: "
                               "choose OpenAI above, or start the server without authentication")
    if status == 404:
        raise SkillStudioError(f"{base}{ROUTE_PATH[kind]} answered 404 ({why})",
                               "check the model name (Test connection lists the server's models) and that "
                               "the base URL ends in /v1")
    raise SkillStudioError(f"{ROUTE_LABEL[kind]} request to {base} failed: {why}",
                           "check that the server is running and the model is loaded, then test again")
