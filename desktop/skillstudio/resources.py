"""One place that finds the files we ship (icons, themes, templates, the example workspace).

In a wheel they sit inside the package (`_resources`, `_examples`); in a checkout they are the
top-level `resources/` and `skills/` folders. Everything else asks this module, never a path.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent
_REPO = _PKG.parent.parent


def resources_dir() -> Path:
    packaged = _PKG / "_resources"
    return packaged if packaged.is_dir() else _REPO / "resources"


def examples_dir() -> Path:
    """The example workspace opened on first start."""
    packaged = _PKG / "_examples"
    return packaged if packaged.is_dir() else _REPO / "skills"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def read_text(*parts: str) -> str:
    return resource_path(*parts).read_text(encoding="utf-8")
