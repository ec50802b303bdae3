"""Import safety: every malicious zip is refused with a clear error and nothing written."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from release_support import tree, write_skill

from skillstudio.errors import CheckFailed
from skillstudio.release.pack import pack_skill
from skillstudio.release.unpack import extract_zip, inspect_zip

SKILL = b"---\nname: x\ndescription: y\n---\nbody\n"


def _zip(entries: list[tuple[str, bytes, int | None]], *, skill: bool = True) -> bytes:
    """Build a zip: (name, data, unix mode or None)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if skill:
            zf.writestr("SKILL.md", SKILL)
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.create_system = 3
                info.external_attr = (mode & 0xFFFF) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _duplicate() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("SKILL.md", SKILL)
        zf.writestr("scripts/a.sh", b"one")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("scripts/a.sh", b"two")
    return buf.getvalue()


def _encrypted_flag() -> bytes:
    raw = bytearray(_zip([("secret.txt", b"data", 0o100644)]))
    # set the "encrypted" bit (general purpose flag bit 0) in the central directory entry of secret.txt
    cd = raw.rfind(b"PK\x01\x02")
    flags = struct.unpack_from("<H", raw, cd + 8)[0]
    struct.pack_into("<H", raw, cd + 8, flags | 1)
    return bytes(raw)


def _lying_sizes() -> bytes:
    raw = bytearray(_zip([("data.txt", b"A" * 5000, 0o100644)]))
    cd = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<I", raw, cd + 24, 10)  # declared uncompressed size: 10 bytes (it is 5000)
    return bytes(raw)


MALICIOUS: dict[str, tuple[Callable[[], bytes], str]] = {
    "zip slip": (lambda: _zip([("../../evil.sh", b"rm -rf ~", 0o100755)]), "outside the bundle"),
    "nested zip slip": (lambda: _zip([("scripts/../../evil", b"x", None)]), "outside the bundle"),
    "absolute path": (lambda: _zip([("/etc/cron.d/evil", b"x", None)]), "absolute path"),
    "windows drive": (lambda: _zip([("C:/Windows/evil.dll", b"x", None)]), "absolute path"),
    "backslashes": (lambda: _zip([("..\\..\\evil", b"x", None)]), "backslashes"),
    "symlink": (lambda: _zip([("scripts/passwd", b"/etc/passwd", stat.S_IFLNK | 0o777)]), "symbolic link"),
    "char device": (lambda: _zip([("dev/null", b"", stat.S_IFCHR | 0o666)]), "device"),
    "fifo": (lambda: _zip([("pipe", b"", stat.S_IFIFO | 0o644)]), "device, pipe or socket"),
    "duplicate names": (_duplicate, "appears twice"),
    "case duplicates": (lambda: _zip([("README.md", b"a", None), ("readme.md", b"b", None)]), "appears twice"),
    "unicode duplicates": (lambda: _zip([("caf\u00e9.md", b"a", None), ("cafe\u0301.md", b"b", None)]),
                           "appears twice"),
    "file and folder": (lambda: _zip([("scripts", b"a", None), ("scripts/x", b"b", None)]), "both a file and a folder"),
    "zip bomb ratio": (lambda: _zip([("zeros.bin", b"\0" * (8 * 1024 * 1024), None)]), "zip bomb"),
    "encrypted": (_encrypted_flag, "encrypted"),
    "lying sizes": (_lying_sizes, "refused bundle"),
    "not a zip": (lambda: b"this is not a zip at all", "not a readable zip"),
    "no SKILL.md": (lambda: _zip([("README.md", b"x", None)], skill=False), "no SKILL.md"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_malicious_zip_is_refused_and_nothing_written(case: str, tmp_path: Path) -> None:
    build, message = MALICIOUS[case]
    data = build()
    (tmp_path / "in.zip").write_bytes(data)
    out = tmp_path / "out"
    for source in (data, tmp_path / "in.zip"):
        with pytest.raises(CheckFailed, match=message) as ei:
            extract_zip(source, out / "skill")
        assert "nothing was written" in str(ei.value)
        assert tree(out) == []  # no partial folder, no temp leftovers
    assert not (tmp_path.parent / "evil.sh").exists()


def test_total_size_and_zip_size_caps(tmp_path: Path) -> None:
    data = _zip([(f"f{i}.bin", bytes([i]) * 50_000, None) for i in range(5)])
    with pytest.raises(CheckFailed, match="inflates to over"):
        extract_zip(data, tmp_path / "a", max_total_bytes=200_000)
    with pytest.raises(CheckFailed, match="limit"):
        extract_zip(data, tmp_path / "b", max_zip_bytes=len(data) - 1)
    assert tree(tmp_path) == []
    extract_zip(data, tmp_path / "c")
    assert (tmp_path / "c" / "f4.bin").read_bytes() == b"\x04" * 50_000


def test_packed_bundle_round_trips_with_modes(tmp_path: Path) -> None:
    d = write_skill(tmp_path / "src")
    r = pack_skill(d, tmp_path / "s.zip")
    entries = extract_zip(tmp_path / "s.zip", tmp_path / "out")
    assert sorted(e.name for e in entries) == sorted(f.path for f in r.files)
    for f in r.files:
        p = tmp_path / "out" / f.path
        assert p.read_bytes() == (d / f.path).read_bytes()
        assert stat.S_IMODE(p.stat().st_mode) == (0o755 if f.executable else 0o644)


def test_existing_non_empty_destination_is_never_overwritten(tmp_path: Path) -> None:
    d = write_skill(tmp_path / "src")
    pack_skill(d, tmp_path / "s.zip")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "mine.txt").write_text("user data")
    with pytest.raises(CheckFailed, match="not empty"):
        extract_zip(tmp_path / "s.zip", dest)
    assert tree(dest) == ["mine.txt"]
    assert (dest / "mine.txt").read_text() == "user data"


def test_inspect_lists_entries_without_writing(tmp_path: Path) -> None:
    data = _zip([("scripts/run.sh", b"#!/bin/sh\n", 0o100755)])
    entries = inspect_zip(data)
    assert [(e.name, e.executable) for e in entries] == [("SKILL.md", False), ("scripts/run.sh", True)]
