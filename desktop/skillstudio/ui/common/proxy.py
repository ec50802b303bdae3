"""The app's HTTP(S) proxy for model requests (Settings ▸ Proxy).

The routers and the OpenAI SDK already follow the standard proxy variables (httpx with
`trust_env`: HTTP_PROXY, HTTPS_PROXY, NO_PROXY; see evals/routers/transport.py), so the app sets
exactly those — in its own process only, never in a file or the user's shell, so the CLI keeps the
environment it was given. Clearing the setting puts back what the environment had at start.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from skillstudio.errors import SkillStudioError

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
_NO_PROXY_VARS = ("NO_PROXY", "no_proxy")
DEFAULT_NO_PROXY = "localhost,127.0.0.1,::1"  # a local model server is reached directly
_original: dict[str, str | None] | None = None


def check_proxy_url(text: str) -> str:
    """'' or an http(s)://host:port URL, stripped; anything else is a SkillStudioError."""
    text = text.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise SkillStudioError(f"proxy '{text}' is not a proxy address",
                               "write it as http://host:port (for example http://proxy.example.com:3128)")
    return text


def apply_proxy(proxy: str, no_proxy: str = DEFAULT_NO_PROXY) -> None:
    """Route this process's model requests through `proxy` ('' = the environment's own setting)."""
    global _original
    if _original is None:
        _original = {k: os.environ.get(k) for k in (*_PROXY_VARS, *_NO_PROXY_VARS)}
    if not proxy:
        for key, value in _original.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return
    for key in _PROXY_VARS:
        os.environ[key] = proxy
    for key in _NO_PROXY_VARS:
        if no_proxy.strip():
            os.environ[key] = no_proxy.strip()
        else:
            os.environ.pop(key, None)
