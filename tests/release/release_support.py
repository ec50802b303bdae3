"""Helpers shared by the release tests (imported by name; tests/release is on sys.path)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.realparts import free_port, need, wait_port  # noqa: F401 - re-exported for the release tests

SKILL_MD = """---
name: {name}
description: Query the demo CRM for accounts and pipeline numbers.
metadata:
  version: "{version}"
---
# {name}

Run `scripts/query.sh ACCOUNT` and summarise the result.
"""


def write_skill(root: Path, name: str = "demo-skill", version: str = "1.0.0") -> Path:
    d = root / name
    (d / "scripts").mkdir(parents=True, exist_ok=True)
    (d / "references").mkdir(exist_ok=True)
    (d / "SKILL.md").write_text(SKILL_MD.format(name=name, version=version))
    q = d / "scripts" / "query.sh"
    q.write_text("#!/bin/sh\necho \"account: $1\"\n")
    q.chmod(0o755)
    (d / "references" / "fields.md").write_text("| field | meaning |\n|---|---|\n| arr | annual revenue |\n")
    (d / "references" / "logo.bin").write_bytes(bytes(range(256)) * 4)
    return d


def tree(path: Path) -> list[str]:
    """Every path under `path` (to assert that nothing was written)."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def start_registry(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private Distribution registry whose storage folder we know (to tamper with blobs)."""
    port = free_port()
    cfg = root / "config.yml"
    cfg.write_text("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                   f"    rootdirectory: {root / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if not wait_port(port):
        proc.kill()
        raise RuntimeError("docker-registry did not start")
    return proc, f"127.0.0.1:{port}"


def blob_file(root: Path, digest: str) -> Path:
    hexd = digest.split(":", 1)[1]
    return root / "data" / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexd[:2] / hexd / "data"


