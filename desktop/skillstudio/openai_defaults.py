"""The OpenAI account defaults every layer shares: the default model, the API key's keyring entry, and
the one lookup of that key.

A foundation module like `errors` and `userdirs` (outside the layers), because the agent loop and the
Skills API publisher sit below `services` and still need the same key and model. Importing it costs
nothing: `keyring` is imported only when the key is actually looked up.
"""

from __future__ import annotations

import os

DEFAULT_MODEL = "gpt-5.4"
KEYRING_SERVICE = "skillstudio"  # the OS keyring entry (service, user) of the OpenAI API key
KEYRING_USER = "openai-api-key"
KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"


def api_key() -> str | None:
    """OPENAI_API_KEY wins; else the key stored in the OS keyring; None when there is neither.

    A missing, locked or plaintext keyring means "no stored key" here: looking up is never an error,
    storing is (see `store_api_key`).
    """
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        return key
    try:
        return stored_api_key()
    except Exception:  # noqa: BLE001 - no backend, locked, no D-Bus: behave as "no key"
        return None


def stored_api_key() -> str | None:
    """The key in the OS keyring (refusing plaintext/null backends); raises EnvironmentProblem if unusable."""
    from skillstudio.secrets import keyring_guard

    backend = keyring_guard.checked_backend()
    value = keyring_guard.call(lambda: backend.get_password(KEYRING_SERVICE, KEYRING_USER), "read the API key")
    return value or None


def store_api_key(key: str | None) -> None:
    """Store `key` in the OS keyring, or forget the stored one when `key` is empty or None.

    Raises EnvironmentProblem (one line, with what to do) when no usable keyring is there.
    """
    import keyring.errors

    from skillstudio.secrets import keyring_guard

    backend = keyring_guard.checked_backend()

    def write() -> None:
        if key:
            backend.set_password(KEYRING_SERVICE, KEYRING_USER, key)
            return
        try:
            backend.delete_password(KEYRING_SERVICE, KEYRING_USER)
        except keyring.errors.PasswordDeleteError:
            pass  # forgetting what is not there is fine

    keyring_guard.call(write, "store the API key" if key else "forget the API key")
