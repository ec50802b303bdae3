"""What the model-using commands share: their provider options and the CLI's own words for core errors.

The services speak neither flags nor widgets ("Runs must be at least 1"); this is where the CLI
names its flags, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING

from skillstudio.errors import SkillStudioError
from skillstudio.openai_defaults import DEFAULT_MODEL

if TYPE_CHECKING:
    from skillstudio.services.providers import ProviderChoice

NO_MODEL_HINT = (
    "set OPENAI_API_KEY (or store a key in the app), or give --base-url of an OpenAI-compatible server"
)
OFFLINE_HINT = ", or add --offline for the lexical estimate (not a model)"


class Provider(StrEnum):
    """The --provider values (the same three the app offers)."""

    responses = "responses"
    chat = "chat"
    offline = "offline"


@contextmanager
def cli_words() -> Iterator[None]:
    """Re-word the services' app-neutral errors with the CLI's advice (an error's `setting` becomes
    its flag in `main.error_line`, for every command)."""
    from skillstudio.services.providers import NoModelConfigured

    try:
        yield
    except NoModelConfigured as exc:
        raise SkillStudioError(
            exc.message, NO_MODEL_HINT + (OFFLINE_HINT if exc.offline_ok else "")
        ) from None


def provider_choice(
    provider: Provider | None,
    offline: bool,
    base_url: str | None,
    model: str = DEFAULT_MODEL,
    timeout: float = 60.0,
    stream: bool = True,
) -> ProviderChoice:
    """The services' ProviderChoice for the common options (--offline is --provider offline)."""
    from skillstudio.services.providers import ProviderChoice, ProviderKind

    kind = ProviderKind.OFFLINE if offline else (ProviderKind(provider.value) if provider else None)
    return ProviderChoice(kind=kind, base_url=base_url, model=model, timeout_s=timeout, stream=stream)
