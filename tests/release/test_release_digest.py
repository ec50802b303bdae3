"""Bundle identity does not depend on the compressor: the same skill packs to the same bytes with
CPython's zlib and with zlib-ng (what Python 3.14 on Windows and Fedora's system zlib use), and a
lockfile written under one holds under the other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from release_support import write_skill

REPO = Path(__file__).resolve().parents[2]

# zlib is swapped for zlib-ng's drop-in module before anything imports zipfile
_PACK = """
import json, sys, zlib
if sys.argv[1] == "zlib-ng":
    from zlib_ng import zlib_ng
    sys.modules["zlib"] = zlib_ng
import zipfile
assert (zipfile.zlib is sys.modules["zlib"]), "zipfile must use the swapped module"
from pathlib import Path
from skillstudio.release.pack import pack_skill
from skillstudio.release import lockfile
res = pack_skill(Path(sys.argv[2]), Path(sys.argv[3]))
problems = lockfile.verify_lock(Path(sys.argv[4])) if len(sys.argv) > 4 else None
print(json.dumps({"digest": res.digest, "zlib": zipfile.zlib.__name__, "problems": problems}))
"""


def _pack(build: str, skill: Path, out: Path, workspace: Path | None = None) -> dict:  # type: ignore[type-arg]
    args = [sys.executable, "-c", _PACK, build, str(skill), str(out)] + ([str(workspace)] if workspace else [])
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO / "desktop")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_zlib_and_zlib_ng_give_the_same_bundle_and_the_lock_holds(tmp_path: Path) -> None:
    pytest.importorskip("zlib_ng", reason="pip install zlib-ng (a dev dependency)")
    from zlib_ng import zlib_ng

    ws = tmp_path / "ws"
    skill = write_skill(ws, name="crm-query", version="1.2.0")
    (skill / "references" / "long.md").write_text("pipeline stage amounts per quarter\n" * 400)
    text = (skill / "references" / "long.md").read_bytes()
    import zlib

    # the two builds deflate differently: a compressed bundle could never have one digest
    assert zlib_ng.compress(text, 6) != zlib.compress(text, 6)

    a = _pack("zlib", skill, tmp_path / "a.zip")
    b = _pack("zlib-ng", skill, tmp_path / "b.zip")
    assert a["zlib"] == "zlib" and b["zlib"] != "zlib"
    assert a["digest"] == b["digest"]
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()

    (ws / "skills.lock").write_text(json.dumps({"lockVersion": 1, "skills": {"crm-query": {
        "version": "1.2.0", "digest": a["digest"]}}}))  # JSON is YAML
    assert _pack("zlib-ng", skill, tmp_path / "c.zip", ws)["problems"] == []
    assert _pack("zlib", skill, tmp_path / "d.zip", ws)["problems"] == []


def test_a_lock_from_the_old_compressed_format_says_how_to_migrate(tmp_path: Path) -> None:
    from skillstudio.release import lockfile
    from skillstudio.release.pack import pack_skill

    ws = tmp_path / "ws"
    skill = write_skill(ws, name="crm-query", version="1.2.0")
    old = pack_skill(skill, tmp_path / "old.zip", legacy=True)
    new = pack_skill(skill, tmp_path / "new.zip")
    assert old.digest != new.digest
    (ws / "skills.lock").write_text(json.dumps({"skills": {"crm-query": {"version": "1.2.0", "digest": old.digest}}}))
    [problem] = lockfile.verify_lock(ws)
    assert "content is unchanged" in problem and "re-approve" in problem and new.digest in problem
    (skill / "references" / "fields.md").write_text("changed\n")
    [problem] = lockfile.verify_lock(ws)
    assert "content differs" in problem
