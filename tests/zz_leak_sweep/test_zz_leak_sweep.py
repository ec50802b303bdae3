"""The leak sweep: after the whole suite, no raw test secret (in any common encoding) is left anywhere
the app writes — workspace copies, the redirected config/data/cache folders, run histories and
transcripts (`.skillstudio/`), or test-artifacts/.

Why this folder: pytest collects a directory's entries in name order, files and sub-folders mixed,
so a top-level `tests/test_zz_*.py` would run *before* `tests/ui/`. `tests/zz_leak_sweep/` sorts after
every package folder, so in the default order (`pytest` / `make test`) this module runs last;
`test_the_sweep_runs_last` fails if that ever stops being true. The values come from
`support.leaks.register_test_secret`, called by the secrets and sandbox tests.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from support.leaks import find_leaks, registered_secrets, sweep_roots

PLANTED = "sk-planted-LEAK-0042-zz"  # never registered: only these self-tests use it


def _fake_session(base: Path) -> Path:
    """A session temp folder shaped like pytest's: userdirs, a workspace copy, a run history."""
    (base / "userdirs0" / "config").mkdir(parents=True)
    (base / "userdirs0" / "data").mkdir(parents=True)
    (base / "test_x0" / "skills" / "crm-query").mkdir(parents=True)
    (base / "test_y0" / "ws" / ".skillstudio" / "runs").mkdir(parents=True)
    (base / "test_z0" / "scratch").mkdir(parents=True)
    return base


def test_sweep_finds_a_planted_value_and_its_encodings(tmp_path: Path) -> None:
    base = _fake_session(tmp_path / "session")
    art = tmp_path / "artifacts"
    art.mkdir()
    (base / "userdirs0" / "config" / "settings.json").write_text(f'{{"note": "{PLANTED}"}}')
    (base / "test_x0" / "skills" / "crm-query" / "SKILL.md").write_text(
        "token: " + base64.b64encode(PLANTED.encode()).decode())
    (base / "test_y0" / "ws" / ".skillstudio" / "runs" / "r1.json").write_text(PLANTED.encode().hex())
    (art / "report.html").write_text("clean")
    (base / "test_z0" / "scratch" / "ok.txt").write_text(PLANTED)  # not a place the app writes
    roots = sweep_roots(base, art)
    leaks = find_leaks({"PLANTED": PLANTED}, roots)
    found = {leak.path.name for leak in leaks}
    assert found == {"settings.json", "SKILL.md", "r1.json"}
    assert all(leak.names == {"PLANTED"} for leak in leaks)


def test_sweep_finds_nothing_in_a_clean_tree_and_checks_file_names(tmp_path: Path) -> None:
    base = _fake_session(tmp_path / "session")
    (base / "userdirs0" / "data" / "notes.txt").write_text("nothing to see")
    assert find_leaks({"PLANTED": PLANTED}, sweep_roots(base, None)) == []
    (base / "userdirs0" / "data" / f"cache-{PLANTED}.bin").write_bytes(b"")
    assert [leak.path.name for leak in find_leaks({"PLANTED": PLANTED}, sweep_roots(base, None))] == [
        f"cache-{PLANTED}.bin"]


def test_the_sweep_runs_last(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    here = request.node.path
    later = [i.nodeid for i in items[items.index(request.node) + 1:] if i.path != here]
    assert later == [], f"the leak sweep must run after every other test; these run later: {later[:5]}"


def test_no_test_secret_leaked_anywhere(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> None:
    values = registered_secrets()
    if not values:
        pytest.skip("no test secrets were registered in this session (run it after the suite)")
    roots = sweep_roots(tmp_path_factory.getbasetemp(), artifacts_dir)
    assert roots, "nothing to sweep: the suite wrote no workspace, user folder or artifact"
    leaks = find_leaks(values, roots)
    assert not leaks, "raw test secrets found (value or encoding):\n" + "\n".join(str(x) for x in leaks[:20])
