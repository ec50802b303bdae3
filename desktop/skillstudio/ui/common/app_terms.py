"""Messages from the core speak the CLI's language (`--provider chat`, `--offline`); inside the app a
person has no command line, so the same advice is given as the control to use instead."""

from __future__ import annotations

import re

_TERMS: tuple[tuple[str, str], ...] = (
    (r"needs --provider chat", "needs the “OpenAI-compatible chat” provider (choose it under Provider)"),
    (r"--provider chat", "the “OpenAI-compatible chat” provider (under Provider)"),
    (r"--provider responses", "the “OpenAI Responses” provider (under Provider)"),
    (r"--offline", "the “Offline estimate” provider (under Provider)"),
    (r"--base-url(?:\s+URL)?", "the Base URL field"),
    (r"--model(?:\s+M)?", "the Model field"),
    (r"set OPENAI_API_KEY", "store a key in Settings (Ctrl+,)"),
)


def in_app_terms(text: str) -> str:
    for pattern, replacement in _TERMS:
        text = re.sub(pattern, replacement, text)
    return text
