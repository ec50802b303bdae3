"""Guard against a reference-count bug of PySide6 6.12 on CPython 3.11.

PySide6 6.12's bindings return None from void methods without taking a reference (fine on Python
3.12+, where None is immortal). On 3.11 every such call (resize, setText, processEvents, …) lowers
None's reference count by one, and after some hundred thousand calls the interpreter aborts with
"deallocating None". We detect the bug with a quick self-test at import and, only if it is there,
give None a reference count that no session can exhaust. None is a static object that is never
freed, so the extra count has no other effect. The real fix is a PySide6 without the bug (<6.12 on
Python 3.11, or Python >= 3.12).
"""

from __future__ import annotations

import ctypes
import sys

_PROBE_CALLS = 64
_HEADROOM = 1 << 40


def binding_drops_none_refs() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    return sys.getrefcount(None) - before <= -_PROBE_CALLS // 2


def install() -> bool:
    """Apply the guard when needed; returns True when it was applied."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not binding_drops_none_refs():
        return False
    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the first field of every object
    if refcnt.value < _HEADROOM:
        refcnt.value += _HEADROOM
    return True
