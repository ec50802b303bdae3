"""The desktop app (PySide6). Nothing outside this package imports Qt."""

from skillstudio.ui import _binding_guard

_binding_guard.install()
