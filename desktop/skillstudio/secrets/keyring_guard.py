"""Access to the OS keyring that refuses anything but a real, unlocked one.

`keyring` silently falls back to its `fail` backend (raises on use) or to plaintext files when
`keyrings.alt` is installed. A secret must never land in a file, so both are refused up front with
a message that says how to get a working keyring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from skillstudio.errors import EnvironmentProblem

T = TypeVar("T")

_HINT_MISSING = ("install and start an OS keyring: gnome-keyring or KWallet (Secret Service) on Linux, "
                 "Keychain on macOS, Credential Locker on Windows; Skill Studio never stores secrets in files")
_HINT_LOCKED = "unlock your keyring (log in to the desktop session or open Seahorse / Passwords) and retry"
_REFUSED_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _leaves(backend: KeyringBackend) -> list[KeyringBackend]:
    inner = getattr(backend, "backends", None)
    if isinstance(inner, (list, tuple)):
        return [leaf for b in inner for leaf in _leaves(b)]
    return [backend]


def _describe(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def checked_backend(backend: KeyringBackend | None = None) -> KeyringBackend:
    """The backend to use, or EnvironmentProblem when it is missing, a null store or plaintext."""
    b = backend if backend is not None else keyring.get_keyring()
    leaves = _leaves(b)
    bad = [leaf for leaf in leaves if type(leaf).__module__.startswith(_REFUSED_MODULES)]
    if not leaves or bad:
        what = _describe(bad[0]) if bad else "none"
        raise EnvironmentProblem(f"no usable OS keyring (backend: {what})", _HINT_MISSING)
    return b


def call(fn: Callable[[], T], action: str) -> T:
    """Run one keyring call, turning the backend's errors into one-line EnvironmentProblems."""
    try:
        return fn()
    except keyring.errors.KeyringLocked as exc:
        raise EnvironmentProblem(f"the OS keyring is locked ({action})", _HINT_LOCKED) from exc
    except keyring.errors.NoKeyringError as exc:
        raise EnvironmentProblem(f"no usable OS keyring ({action})", _HINT_MISSING) from exc
    except keyring.errors.InitError as exc:
        raise EnvironmentProblem(f"cannot open the OS keyring ({action}): {exc}", _HINT_LOCKED) from exc
    except keyring.errors.KeyringError as exc:
        raise EnvironmentProblem(f"the OS keyring refused to {action}: {exc}", _HINT_LOCKED) from exc
    except EnvironmentProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - D-Bus gone, secretstorage/jeepney errors, sockets
        raise EnvironmentProblem(
            f"cannot reach the OS keyring ({action}): {type(exc).__name__}: {exc}", _HINT_MISSING) from exc
