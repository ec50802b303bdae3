"""Make sure Qt's xcb platform plugin can load on this Debian/Ubuntu machine.

Qt wheels ship the plugin but not the X11 libraries it links against; a fresh Debian lacks several.
Installs them when we are root with apt, otherwise prints the exact command to run.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
}
LIB_DIRS = [Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib/aarch64-linux-gnu"), Path("/usr/lib"), Path("/lib")]


def missing() -> list[str]:
    return [pkg for lib, pkg in PACKAGES.items() if not any((d / lib).exists() for d in LIB_DIRS)]


def main() -> int:
    if platform.system() != "Linux":
        return 0
    todo = missing()
    if not todo:
        return 0
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *todo]
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing Qt's system libraries:", " ".join(todo))
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        return subprocess.run(cmd, check=False).returncode
    print("Qt needs system libraries that are missing. Run:\n  sudo " + " ".join(cmd), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
