"""Where per-user state lives (settings, recent workspaces, recovery files, caches).

platformdirs gives the OS convention; SKILLSTUDIO_CONFIG_DIR / _DATA_DIR / _CACHE_DIR override it,
which the tests use to keep the user's real folders untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "skillstudio"


def _dir(env: str, default: str) -> Path:
    p = Path(os.environ.get(env) or default)
    p.mkdir(parents=True, exist_ok=True)
    return p


def config_dir() -> Path:
    return _dir("SKILLSTUDIO_CONFIG_DIR", platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return _dir("SKILLSTUDIO_DATA_DIR", platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    return _dir("SKILLSTUDIO_CACHE_DIR", platformdirs.user_cache_dir(APP))
