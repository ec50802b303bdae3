"""Logs never carry a secret: every log record is redacted with the vaults' known values.

Why: a value can reach a log line by accident (an exception message holding a request header, a
debug print of an environment). The CLI and the app call `install_log_redaction` at start-up; it
reads the keyring only when a vault (the user's, or the workspace's) actually lists secrets, so a
machine without secrets never pays for a keyring round trip. Records of every logger are redacted
when they are created (a filter on the root logger alone would miss child loggers' records,
which skip ancestor loggers' filters when they propagate), and the root logger and its handlers
carry the same filter for records made by any other factory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillstudio import userdirs

if TYPE_CHECKING:  # the matcher is built only when there is a value to redact (most starts have none)
    from skillstudio.secrets.redact import RedactingFilter

META_NAME = "secrets.yaml"  # as secrets.vault names it; checked here so a start without secrets imports no keyring

log = logging.getLogger(__name__)

_state: dict[str, Any] = {"filter": None, "factory": None, "seen": set(), "values": {}}


def known_values(workspace: Path | None = None) -> dict[str, str]:
    """NAME -> value of the user's and (when it has a vault) the workspace's secrets; {} without any.

    Keys are made unique per vault so the same name in two vaults keeps both values.
    """
    scopes: list[Path | None] = []
    if (userdirs.config_dir() / META_NAME).is_file():
        scopes.append(None)
    if workspace is not None and (Path(workspace) / ".skillstudio" / META_NAME).is_file():
        scopes.append(Path(workspace))
    if not scopes:
        return {}
    from skillstudio.secrets.vault import Vault

    vaults = [Vault(scope) for scope in scopes]
    out: dict[str, str] = {}
    for vault in vaults:
        if not vault.path.exists() or not vault.list():  # nothing configured: no keyring call at all
            continue
        for name, value in vault.values().items():
            if out.get(name, value) != value:
                name = f"{name}#{len(out)}"  # same name, another vault, another value: both are redacted
            out[name] = value
    return out


def install(values: dict[str, str]) -> RedactingFilter | None:
    """Redact `values` in every log record from now on (replacing an earlier install); None when empty."""
    uninstall()
    if not values:
        return None
    from skillstudio.secrets.redact import RedactingFilter, Redactor

    labels = {key: f"[secret:{key.split('#', 1)[0]}]" for key in values}
    flt = RedactingFilter(Redactor(values, replacements=labels))
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        flt.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    root = logging.getLogger()
    root.addFilter(flt)
    for handler in root.handlers:
        handler.addFilter(flt)
    _state.update(filter=flt, factory=(factory, previous))
    return flt


def uninstall() -> None:
    """Take the filter off again (tests; a new install replaces the old one)."""
    flt = _state["filter"]
    if flt is None:
        return
    factory, previous = _state["factory"]
    if logging.getLogRecordFactory() is factory:
        logging.setLogRecordFactory(previous)
    root = logging.getLogger()
    root.removeFilter(flt)
    for handler in root.handlers:
        handler.removeFilter(flt)
    _state.update(filter=None, factory=None, seen=set(), values={})


def install_log_redaction(workspace: Path | None = None) -> int:
    """Start-up hook of the CLI and the app: returns how many values are redacted (0: none configured).

    Never stops the program: a keyring that cannot be read is reported in the log (no values in it).
    Values add up: a command that works on another workspace than the current folder (`run WS`) calls
    it again and that workspace's secrets join; a workspace already seen is not read twice.
    """
    where = Path(workspace).resolve() if workspace is not None else None
    if where in _state["seen"]:
        return len(_state["values"])
    try:
        values = known_values(workspace)
    except Exception as exc:  # noqa: BLE001 - a locked or missing keyring must not stop start-up
        log.warning("secrets are configured but could not be read for log redaction: %s", exc.__class__.__name__)
        return len(_state["values"])
    merged = dict(_state["values"])
    for name, value in values.items():
        if value not in merged.values():
            merged[name if name not in merged else f"{name}#{len(merged)}"] = value
    seen = _state["seen"] | {where}
    install(merged)  # (uninstall first resets the state)
    _state.update(seen=seen, values=merged)
    return len(merged)
