"""A diagnostic bundle for bug reports: versions, platform, `doctor`, logs, settings, recent errors — redacted.

Why a bundle: "it does not work" needs the environment to be answered, and users should not have to
collect it by hand. Why so careful: users attach it to public issues. Every text in the zip goes
through a Redactor holding the vaults' secret values, the stored OpenAI API key and secret-looking
environment variables; settings keys that look like credentials are dropped outright, URL passwords
masked, and the finished zip is scanned once more — a bundle that still holds a value is refused.
Qt-free: the app adds its Qt facts through `extra`.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import os
import platform
import re
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from skillstudio import __version__, userdirs
from skillstudio.bundle.fileio import atomic_write
from skillstudio.errors import SkillStudioError

PACKAGES = ("skillstudio", "PySide6-Essentials", "PySide6", "shiboken6", "openai", "httpx", "pydantic", "keyring",
            "typer", "tiktoken", "skills-ref", "docker", "oras", "cryptography", "ruamel.yaml", "PyYAML")
SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|passw(or)?d|credential|auth|cookie|private)", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@:\s]+):[^/@\s]+@", re.IGNORECASE)
ENV_SHOWN = ("QT_QPA_PLATFORM", "XDG_SESSION_TYPE", "XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "LANG", "LC_ALL",
             "QT_SCALE_FACTOR", "QT_SCREEN_SCALE_FACTORS", "SKILLSTUDIO_DEBUG")
LOG_TAIL = 256 * 1024  # bytes of each log file kept (the end matters)
MAX_ERRORS = 50


def log_dir() -> Path:
    """Where the app's log files live (the bundle takes every *.log in it)."""
    return userdirs.data_dir() / "logs"


class RecentErrors(logging.Handler):
    """Keeps the last warnings and errors of this process in memory, for the bundle's errors.txt."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        super().__init__(logging.WARNING)
        self.records: collections.deque[str] = collections.deque(maxlen=limit)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(self.format(record))
        except Exception:  # noqa: BLE001 - a handler must never raise into the code that logged
            self.handleError(record)


_recent: RecentErrors | None = None
_lock = threading.Lock()


def install_error_recorder() -> RecentErrors:
    """Attach the recorder to the root logger once (the app calls this at start-up)."""
    global _recent
    with _lock:
        if _recent is None:
            _recent = RecentErrors()
            logging.getLogger().addHandler(_recent)
        return _recent


def install_app_log(max_bytes: int = 1024 * 1024, backups: int = 2) -> Path:
    """Warnings and errors of the desktop app go to logs/skillstudio.log (rotated), for the bundle.

    Call after `install_log_redaction`: records are redacted when they are made, so no secret value
    reaches the file. Idempotent.
    """
    from logging.handlers import RotatingFileHandler

    path = log_dir() / "skillstudio.log"
    root = logging.getLogger()
    if not any(isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == path for h in root.handlers):
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    install_error_recorder()
    return path


def recent_errors() -> list[str]:
    return list(_recent.records) if _recent is not None else []


# ---------------------------------------------------------------------------------------------- secrets
def secret_values(workspace: Path | None = None) -> dict[str, str]:
    """Every value the bundle must not contain: vault secrets, the stored OpenAI key, secret env vars."""
    from skillstudio.secrets.log_redaction import known_values

    values: dict[str, str] = {}
    try:
        values.update(known_values(workspace))
    except Exception as exc:  # noqa: BLE001 - a locked keyring: we cannot redact, so we must not go on
        raise SkillStudioError(f"cannot read the stored secrets to redact them ({exc.__class__.__name__})",
                               "unlock your keyring and try again") from None
    try:
        from skillstudio.openai_defaults import stored_api_key

        key = stored_api_key()
        if key:
            values["OPENAI_API_KEY (keyring)"] = key
    except Exception:  # noqa: BLE001 - no keyring means no key stored in it
        pass
    for name, value in os.environ.items():
        if SECRET_KEY.search(name) and len(value) >= 6:
            values[f"env:{name}"] = value
    return values


def _clean_settings_text(text: str) -> str:
    """settings.ini minus credential-looking keys, with passwords in URLs masked."""
    out = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip() if "=" in line else ""
        if key and SECRET_KEY.search(key):
            out.append(f"{key}=<removed>")
            continue
        if key.endswith("geometry") or key.endswith("state"):  # binary window blobs: no use, much noise
            continue
        out.append(URL_PASSWORD.sub(r"\g<scheme>\g<user>:<removed>@", line))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------- facts
def versions(extra: dict[str, str] | None = None) -> dict[str, Any]:
    from importlib import metadata  # here: the app imports this module at start-up (install_app_log)

    pkgs: dict[str, str] = {}
    for name in PACKAGES:
        try:
            pkgs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "skillstudio": __version__,
        "python": sys.version,
        "implementation": platform.python_implementation(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "system": sys.platform,
        "packages": pkgs,
        "environment": {k: os.environ[k] for k in ENV_SHOWN if k in os.environ},
        **(extra or {}),
    }


def doctor_results(run_checks: Callable[[], Iterable[Any]] | None = None) -> list[dict[str, Any]]:
    """`skillstudio doctor` as data; a check that crashes is itself a finding, not a failed bundle."""
    if run_checks is None:
        from skillstudio.sandbox.doctor import checks

        run_checks = checks
    try:
        return [asdict(c) for c in run_checks()]
    except Exception as exc:  # noqa: BLE001 - the report is most needed exactly when things break
        return [{"name": "doctor", "ok": False, "detail": f"doctor itself failed: {exc.__class__.__name__}: {exc}",
                 "fix": "", "required": False}]


def _tail(path: Path, limit: int = LOG_TAIL) -> str:
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - limit))
        data = f.read()
    return data.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------- bundle
def collect(workspace: Path | None = None, extra: dict[str, str] | None = None,
            run_checks: Callable[[], Iterable[Any]] | None = None) -> dict[str, str]:
    """The bundle's files (name -> text), not yet redacted."""
    files: dict[str, str] = {
        "versions.json": json.dumps(versions(extra), indent=2),
        "doctor.json": json.dumps(doctor_results(run_checks), indent=2),
    }
    settings = userdirs.config_dir() / "settings.ini"
    if settings.is_file():
        files["settings.ini"] = _clean_settings_text(settings.read_text(encoding="utf-8", errors="replace"))
    logs = log_dir()
    if logs.is_dir():
        for p in sorted(logs.glob("*.log")):
            files[f"logs/{p.name}"] = _tail(p)
    errors = recent_errors()
    files["errors.txt"] = "\n".join(errors) + "\n" if errors else "(no warnings or errors recorded in this session)\n"
    files["README.txt"] = (
        f"Skill Studio {__version__} diagnostic bundle, made {time.strftime('%Y-%m-%d %H:%M:%S %z')}.\n"
        "Secret values known to Skill Studio (vault secrets, the stored API key, secret-looking environment\n"
        "variables) were replaced by [secret:NAME]; credential settings were removed. Check before sharing.\n"
    )
    return files


def write_bundle(target: Path, workspace: Path | None = None, extra: dict[str, str] | None = None,
                 run_checks: Callable[[], Iterable[Any]] | None = None,
                 values: dict[str, str] | None = None) -> Path:
    """Write the redacted zip to `target`; returns it. Refuses (and writes nothing) if a value survived."""
    target = Path(target).expanduser()
    if target.is_dir():
        target = target / f"skillstudio-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.zip"
    if not target.parent.is_dir():
        raise SkillStudioError(f"{target.parent} does not exist", "choose an existing folder for the bundle")
    from skillstudio.secrets.redact import Redactor  # here: the app imports this module at start-up

    secrets = secret_values(workspace) if values is None else values
    redactor = Redactor(secrets)
    collected = collect(workspace, extra, run_checks)
    files = {name: redactor.redact(text) if redactor else text for name, text in collected.items()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(f"skillstudio-diagnostics/{name}", text)
    data = buf.getvalue()
    if redactor:
        leaked = set().union(*(redactor.find(t) for t in files.values()))
        if leaked:  # cannot happen after redact(); checked because a leak here would be public
            raise SkillStudioError(f"the bundle still held {len(leaked)} secret value(s); nothing was written",
                                   "report this problem without the bundle")
    atomic_write(target, data)
    return target
