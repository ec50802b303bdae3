"""The leak-sweep registry: every raw secret value a test uses, and where the sweep must look.

Secrets and sandbox tests call `register_test_secret(value)` for each raw value they put in the
keyring or hand to a sidecar (and `register_sweep_root(path)` for extra folders worth checking,
such as a sandbox data folder). `tests/zz_leak_sweep/test_zz_leak_sweep.py` runs after the whole
suite and fails if any registered value — or its base64, URL, hex or JSON form, found with
`skillstudio.secrets.redact.Redactor` — sits in a place the app writes to.

The registry lives in this module, so it is shared by every test of one pytest process (the suite
runs in one process; `pytest -p xdist` would need one sweep per worker).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from skillstudio.secrets.redact import Redactor

_SECRETS: dict[str, str] = {}
_ROOTS: list[Path] = []
MAX_FILE = 64 * 1024 * 1024


def register_test_secret(value: str) -> str:
    """Record a raw value the suite uses (returns it, so `VALUE = register_test_secret("...")` reads well)."""
    if value and value not in _SECRETS.values():
        _SECRETS[f"TEST_SECRET_{len(_SECRETS) + 1}"] = value
    return value


def register_sweep_root(path: Path) -> Path:
    """Also sweep this folder at the end (for places outside the standard roots)."""
    _ROOTS.append(Path(path))
    return path


def registered_secrets() -> dict[str, str]:
    return dict(_SECRETS)


def registered_roots() -> list[Path]:
    return list(_ROOTS)


@dataclass(frozen=True)
class Leak:
    path: Path
    names: frozenset[str]

    def __str__(self) -> str:
        return f"{self.path}: {', '.join(sorted(self.names))}"


def sweep_roots(basetemp: Path, artifacts: Path | None) -> list[Path]:
    """Where the app writes during the suite (all inside pytest's session temp folder, plus artifacts).

    - the redirected config/data/cache folders (`userdirs*`, made by tests/conftest.py's autouse
      fixture with `tmp_path_factory.mktemp("userdirs")`),
    - every copy of the example workspace (`*/skills`, the `example_workspace` fixture),
    - every workspace state folder anywhere (`.skillstudio/`: run histories, transcripts, policies),
    - test-artifacts/ (screenshots, reports), and any root a test registered.
    """
    roots: list[Path] = []
    if basetemp.is_dir():
        roots += sorted(p for p in basetemp.glob("userdirs*") if p.is_dir())
        roots += sorted(p for p in basetemp.glob("*/skills") if p.is_dir())
        roots += sorted(p for p in basetemp.rglob(".skillstudio") if p.is_dir())
    if artifacts is not None and artifacts.is_dir():
        roots.append(artifacts)
    roots += [p for p in _ROOTS if p.exists()]
    seen: set[Path] = set()
    unique = []
    for r in roots:
        key = r.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def find_leaks(values: dict[str, str], roots: Iterable[Path]) -> list[Leak]:
    """Files under `roots` holding any form of any value (file names count too)."""
    if not values:
        return []
    redactor = Redactor(values)
    roots = list(roots)
    found: dict[Path, set[str]] = {}
    for p, names in redactor.find_in_files(roots, limit=MAX_FILE):  # roots may nest: one entry per file
        found.setdefault(p.resolve(), set()).update(names)
    for root in roots:
        if root.is_dir():
            for p in root.rglob("*"):
                names = redactor.find(p.name)
                if names:
                    found.setdefault(p.resolve(), set()).update(names)
    return [Leak(p, frozenset(n)) for p, n in sorted(found.items())]
