"""Providers and keys: which model a trigger test, a try or an optimizer run talks to.

Decided once for both shells:
- the API key is `openai_defaults.api_key()` (OPENAI_API_KEY wins, else the OS keyring);
- no provider chosen means "the model": the Responses API when a key or a base URL is there;
- with neither, nothing is estimated silently: `NoModelConfigured` says what to set. Only an explicit
  `ProviderKind.OFFLINE` gives the lexical estimate (the app offers it as a clearly labelled choice,
  the CLI as `--offline`);
- the chat provider without a base URL talks to OpenAI's own `/chat/completions` (a key is needed).

Messages name no CLI flag and no app widget; each shell adds its own words through the error's hint.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from skillstudio.errors import EnvironmentProblem, SkillStudioError
from skillstudio.openai_defaults import DEFAULT_MODEL, api_key, store_api_key, stored_api_key

if TYPE_CHECKING:
    from skillstudio.evals.routers import Router

__all__ = ["DEFAULT_MODEL", "NO_KEY_NEEDED", "NoModelConfigured", "ProviderChoice", "ProviderKind", "Resolved",
           "api_key", "build_router", "key_status", "resolve", "store_api_key"]

NO_KEY_NEEDED = "no-key-needed"  # local servers (Ollama, vLLM, LM Studio) accept any key


class ProviderKind(StrEnum):
    RESPONSES = "responses"
    CHAT = "chat"
    OFFLINE = "offline"


class NoModelConfigured(EnvironmentProblem):
    """Neither an API key nor a base URL: there is no model to ask, and nothing is estimated silently."""

    def __init__(self, *, offline_ok: bool = True) -> None:
        super().__init__("no model is configured: no OpenAI API key and no base URL",
                         "set OPENAI_API_KEY or store a key in the app's settings, or give the base URL of an "
                         "OpenAI-compatible server" + (", or choose the offline estimate" if offline_ok else ""))
        self.offline_ok = offline_ok


class ProviderChoice(BaseModel):
    """What a shell asks for: a provider kind (None: the model, whichever is configured), server, model."""

    model_config = ConfigDict(frozen=True)

    kind: ProviderKind | None = None
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    timeout_s: float = Field(default=60.0, gt=0)
    stream: bool = True

    @property
    def is_estimate(self) -> bool:
        return self.kind == ProviderKind.OFFLINE


class Resolved(BaseModel):
    """A choice made concrete: the provider, server and model a router will use (the key stays out of reprs)."""

    model_config = ConfigDict(frozen=True)

    kind: ProviderKind
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    timeout_s: float = 60.0
    stream: bool = True
    api_key: str = Field(default=NO_KEY_NEEDED, repr=False)

    @property
    def is_estimate(self) -> bool:
        return self.kind == ProviderKind.OFFLINE


def resolve(choice: ProviderChoice) -> Resolved:
    """The provider a choice means, or a one-line SkillStudioError. May read the keyring: off the GUI thread."""
    if choice.kind == ProviderKind.OFFLINE:
        return Resolved(kind=ProviderKind.OFFLINE, model="", timeout_s=choice.timeout_s)
    base_url = (choice.base_url or "").strip() or None
    model = choice.model.strip()
    if not model:
        raise SkillStudioError("no model name given", f"name the model to ask, e.g. {DEFAULT_MODEL} or llama3.1")
    key = api_key()
    if not key and not base_url:
        raise NoModelConfigured()
    return Resolved(kind=choice.kind or ProviderKind.RESPONSES, base_url=base_url, model=model,
                    timeout_s=choice.timeout_s, stream=choice.stream, api_key=key or NO_KEY_NEEDED)


def build_router(choice: ProviderChoice | Resolved) -> Router:
    """The evals router for a choice. Imports the OpenAI SDK only for a model provider."""
    provider = choice if isinstance(choice, Resolved) else resolve(choice)
    if provider.kind == ProviderKind.OFFLINE:
        from skillstudio.evals.routers.offline import OfflineRouter

        return OfflineRouter()
    if provider.kind == ProviderKind.CHAT:
        from skillstudio.evals.routers.chat import ChatRouter

        return ChatRouter(model=provider.model, api_key=provider.api_key, base_url=provider.base_url,
                          timeout=provider.timeout_s, stream=provider.stream)
    from skillstudio.evals.routers.responses import ResponsesRouter

    return ResponsesRouter(model=provider.model, api_key=provider.api_key, base_url=provider.base_url,
                           stream=provider.stream, timeout=provider.timeout_s)


class KeyStatus(BaseModel):
    """Where the API key comes from, for settings screens and diagnostics (never the key itself)."""

    from_env: bool
    stored: bool | None  # None: no usable keyring here, so nothing can be stored or read


def key_status() -> KeyStatus:
    import os

    from skillstudio.openai_defaults import KEY_ENV

    try:
        stored: bool | None = stored_api_key() is not None
    except Exception:  # noqa: BLE001 - no backend, locked, plaintext refused: cannot tell
        stored = None
    return KeyStatus(from_env=bool(os.environ.get(KEY_ENV, "").strip()), stored=stored)
