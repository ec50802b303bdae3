"""Deterministic packing: same content, same bytes; droppings excluded; unsafe folders refused."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from release_support import tree, write_skill

from skillstudio.errors import SkillStudioError
from skillstudio.release.pack import pack_skill

Runner = Callable[..., tuple[int, str, str]]


def test_same_content_same_bytes_whatever_mtimes_modes_and_order(tmp_path: Path) -> None:
    a = write_skill(tmp_path / "a")
    # b: same content written in the reverse order, other mtimes, other (non-exec) permission bits
    b = tmp_path / "b" / "demo-skill"
    files = sorted(p for p in a.rglob("*") if p.is_file())
    for p in reversed(files):
        dst = b / p.relative_to(a)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(p.read_bytes())
        os.chmod(dst, 0o700 if os.access(p, os.X_OK) else 0o600)
        os.utime(dst, (1_700_000_000, 1_700_000_000))
    r1 = pack_skill(a, tmp_path / "1.zip")
    r2 = pack_skill(b, tmp_path / "2.zip")
    assert (tmp_path / "1.zip").read_bytes() == (tmp_path / "2.zip").read_bytes()
    assert r1.sha256 == r2.sha256 == hashlib.sha256((tmp_path / "1.zip").read_bytes()).hexdigest()
    assert (r1.name, r1.version) == ("demo-skill", "1.0.0")

    # and a content change changes the digest
    (b / "references" / "fields.md").write_text("changed\n")
    assert pack_skill(b, tmp_path / "3.zip").sha256 != r1.sha256


def test_entries_sorted_fixed_time_normalised_modes_bytes_untouched(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    (d / "references" / "crlf.txt").write_bytes(b"a\r\nb\r\n\xef\xbb\xbf")
    pack_skill(d, tmp_path / "s.zip")
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        names = zf.namelist()
        assert names == sorted(names)
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            mode = info.external_attr >> 16
            assert mode == (0o100755 if info.filename == "scripts/query.sh" else 0o100644), info.filename
        assert zf.read("references/crlf.txt") == b"a\r\nb\r\n\xef\xbb\xbf"
        assert zf.read("references/logo.bin") == bytes(range(256)) * 4


def test_caches_vcs_state_and_editor_droppings_are_excluded(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    junk = [".git/HEAD", ".skillstudio/history.json", "scripts/__pycache__/x.cpython-311.pyc", ".DS_Store",
            "SKILL.md~", ".SKILL.md.swp", "node_modules/a/index.js", ".pytest_cache/v", "scripts/x.pyc"]
    for j in junk:
        (d / j).parent.mkdir(parents=True, exist_ok=True)
        (d / j).write_text("junk")
    r = pack_skill(d, tmp_path / "s.zip")
    names = zipfile.ZipFile(tmp_path / "s.zip").namelist()
    assert names == ["SKILL.md", "references/fields.md", "references/logo.bin", "scripts/query.sh"]
    assert [f.path for f in r.files] == names
    clean = tmp_path / "clean"
    shutil.copytree(write_skill(tmp_path / "c"), clean)
    assert pack_skill(clean, tmp_path / "c.zip").sha256 == r.sha256


def test_output_inside_the_skill_folder_is_not_packed_into_itself(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    r1 = pack_skill(d, d / "out.zip")
    r2 = pack_skill(d, d / "out.zip")
    assert r1.sha256 == r2.sha256
    assert "out.zip" not in zipfile.ZipFile(d / "out.zip").namelist()


def test_symlink_in_the_folder_is_refused_and_nothing_written(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    (d / "references" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(SkillStudioError, match="symbolic link"):
        pack_skill(d, tmp_path / "out" / "s.zip")
    assert tree(tmp_path / "out") == []


def test_fifo_in_the_folder_is_refused(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    os.mkfifo(d / "scripts" / "pipe")
    with pytest.raises(SkillStudioError, match="not a regular file"):
        pack_skill(d, tmp_path / "s.zip")
    assert not (tmp_path / "s.zip").exists()


def test_a_known_secret_value_is_refused_on_export(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    (d / "references" / "notes.md").write_text("token: sk-live-93jd83hd83hd\n")
    with pytest.raises(SkillStudioError, match="references/notes.md contains the value of a stored secret") as ei:
        pack_skill(d, tmp_path / "s.zip", secret_values=["unrelated-value", "sk-live-93jd83hd83hd"])
    assert "sk-live" not in str(ei.value)  # the error never repeats the secret
    assert not (tmp_path / "s.zip").exists()
    assert pack_skill(d, tmp_path / "s.zip", secret_values=["another-secret"]).size > 0


def test_non_utf8_file_name_is_refused(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    with open(os.fsencode(d / "references") + b"/bad\xff.md", "wb") as fh:
        fh.write(b"x")
    with pytest.raises(SkillStudioError, match="not UTF-8"):
        pack_skill(d, tmp_path / "s.zip")
    assert not (tmp_path / "s.zip").exists()


def test_oversized_bundle_and_missing_skill_md_are_refused(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    (d / "references" / "big.bin").write_bytes(os.urandom(64 * 1024))
    with pytest.raises(SkillStudioError, match="is over"):
        pack_skill(d, tmp_path / "s.zip", max_bytes=32 * 1024)
    assert not (tmp_path / "s.zip").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(SkillStudioError, match="no SKILL.md"):
        pack_skill(tmp_path / "empty", tmp_path / "e.zip")


def test_pack_and_push_refuse_a_value_from_the_secrets_vault(real_keyring: None, tmp_path: Path,
                                                             cli: Runner) -> None:
    from skillstudio.secrets.vault import Vault

    ws = tmp_path / "ws"
    d = write_skill(ws)
    Vault(ws).set("CRM_TOKEN", "crm-9f8e7d6c5b4a", domains=["crm.example.com"])
    assert cli("pack", d, "-o", tmp_path / "ok.zip")[0] == 0
    (d / "references" / "debug.log").write_text("Authorization: Bearer crm-9f8e7d6c5b4a\n")
    code, _, err = cli("pack", d, "-o", tmp_path / "leak.zip")
    assert code == 2 and "references/debug.log contains the value of a stored secret" in err
    assert "crm-9f8e7d6c5b4a" not in err
    assert not (tmp_path / "leak.zip").exists()
    code, _, err = cli("push", d, "oci://127.0.0.1:1/x/y:1", "--key", "nobody", "--plain-http")
    assert code == 2 and "stored secret" in err


def test_pack_refuses_what_import_would_refuse(tmp_path: Path) -> None:
    d = write_skill(tmp_path)
    deep = d.joinpath("assets", *["d"] * 40)  # deeper than import accepts (unpack.MAX_DEPTH)
    deep.mkdir(parents=True)
    (deep / "x.txt").write_text("x")
    with pytest.raises(SkillStudioError, match="would be refused on import"):
        pack_skill(d, tmp_path / "s.zip")
    assert not (tmp_path / "s.zip").exists()
