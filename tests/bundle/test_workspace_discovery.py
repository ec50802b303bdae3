"""Real catalogs open: skills at any depth, in every layout public repositories use (issue 11 §4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skillstudio.bundle.workspace import (
    discover,
    is_workspace,
    iter_skill_dirs,
    load_workspace,
    resolve,
    resolve_skill_dirs,
    workspace_skill_dirs,
)


def skill(d: Path, name: str | None = None, md: str = "SKILL.md") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    name = name or d.name
    (d / md).write_text(f"---\nname: {name}\ndescription: Does {name}. Do not use for other things.\n---\n# {name}\n",
                        encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def big_catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[Path]]:
    """~3,000 skills in the layouts of real skill repositories, plus places that must never count."""
    root = tmp_path_factory.mktemp("catalog")
    want: set[Path] = set()
    for i in range(2400):
        want.add(skill(root / "skills" / f"s{i:04d}"))
    for p in range(40):
        for j in range(5):
            want.add(skill(root / "plugins" / f"plugin-{p}" / "skills" / f"p{p}-{j}"))
    for j in range(150):
        want.add(skill(root / ".claude" / "skills" / f"claude-{j}"))
    for j in range(50):
        want.add(skill(root / ".agents" / "skills" / f"agents-{j}"))
    for dot in (".curated", ".system", ".experimental"):
        for j in range(30):
            want.add(skill(root / "skills" / dot / f"{dot[1:]}-{j}"))
    want.add(skill(root / "node_modules" / "pkg" / "skills" / "vendored"))  # every folder counts (CONTRACT)
    want.add(skill(root / "lower", md="skill.md"))
    # never: inside .git / .skillstudio, inside another skill
    skill(root / ".git" / "skills" / "in-git")
    skill(root / ".skillstudio" / "cache" / "in-state")
    skill(root / "skills" / "s0000" / "examples" / "nested-skill")
    (root / "skills" / "s0001" / "references").mkdir()
    (root / "skills" / "s0001" / "references" / "SKILL.md.bak").write_text("x", encoding="utf-8")
    return root, want


def test_every_skill_of_a_big_mixed_catalog_is_found(big_catalog: tuple[Path, set[Path]]) -> None:
    root, want = big_catalog
    found = discover(root)
    assert len(want) > 2_850
    assert set(found.skills) == want and len(found.skills) == len(want)  # no duplicates either
    assert not found.truncated
    assert found.skills == sorted(found.skills, key=lambda p: p.relative_to(root).parts)


def test_one_line_says_how_many_were_found_where(big_catalog: tuple[Path, set[Path]]) -> None:
    root, want = big_catalog
    line = discover(root).summary()
    assert line.startswith(f"{len(want):,} skills in ")
    assert "skills/ (2,400)" in line and ".claude/skills/ (150)" in line and ".agents/skills/ (50)" in line
    assert line.index("skills/ (2,400)") < line.index(".claude/skills/ (150)")  # largest first
    assert "more folders" in line and "\n" not in line


def test_the_workspace_model_carries_the_line(big_catalog: tuple[Path, set[Path]]) -> None:
    root, want = big_catalog
    ws = load_workspace(root, with_files=False)
    assert len(ws.skills) == len(want) and ws.found == discover(root).summary()


def test_example_workspace(example_workspace: Path) -> None:
    found = resolve(example_workspace)
    assert len(found.skills) == 5 and found.summary() == "5 skills at the top level"
    assert resolve(example_workspace.parent).summary() == "5 skills in skills/"


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    skill(outside / "secret-skill")
    ws = tmp_path / "ws"
    real = skill(ws / "skills" / "real")
    (ws / "escape").symlink_to(outside, target_is_directory=True)  # leaves the folder
    (ws / ".claude" / "skills").mkdir(parents=True)
    (ws / ".claude" / "skills" / "real").symlink_to(real, target_is_directory=True)  # stays inside: a duplicate
    (ws / "loop").symlink_to(ws, target_is_directory=True)  # a cycle
    assert workspace_skill_dirs(ws) == [real]


def test_a_skill_md_link_still_marks_the_folder(tmp_path: Path) -> None:
    """The loader/validator then says what the link is; discovery only needs to know a skill is there."""
    d = tmp_path / "ws" / "linked"
    d.mkdir(parents=True)
    (tmp_path / "elsewhere.md").write_text("---\nname: linked\ndescription: x\n---\n", encoding="utf-8")
    (d / "SKILL.md").symlink_to(tmp_path / "elsewhere.md")
    assert workspace_skill_dirs(tmp_path / "ws") == [d]


def test_path_is_a_skill_a_workspace_or_missing(tmp_path: Path) -> None:
    s = skill(tmp_path / "one")
    assert resolve_skill_dirs(s) == [s]
    (tmp_path / "empty" / "deep" / "er").mkdir(parents=True)
    assert resolve_skill_dirs(tmp_path / "empty") == [tmp_path / "empty"]
    assert resolve_skill_dirs(tmp_path / "nope") == [tmp_path / "nope"]
    assert resolve(tmp_path / "empty").summary() == "no skills found in 3 folders"
    assert resolve(tmp_path).skills == [s]


def test_is_workspace_stops_at_the_first_skill(tmp_path: Path) -> None:
    skill(tmp_path / "a" / "first")
    for i in range(50):
        (tmp_path / "z" / f"d{i}").mkdir(parents=True)
    it = iter_skill_dirs(tmp_path)
    assert next(it) == tmp_path / "a" / "first"
    assert is_workspace(tmp_path) and not is_workspace(tmp_path / "z") and not is_workspace(tmp_path / "a" / "first")


def test_huge_trees_are_bounded_and_say_so(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"d{i:02d}").mkdir()
    skill(tmp_path / "d29" / "late")
    found = discover(tmp_path, max_folders=10)
    assert found.truncated and found.folders == 10 and found.skills == []
    assert "search stopped after 10 folders" in found.summary()
    assert discover(tmp_path).skills == [tmp_path / "d29" / "late"]


def test_unreadable_folders_are_skipped(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    ok = skill(tmp_path / "ok")
    locked = tmp_path / "locked"
    skill(locked / "hidden")
    locked.chmod(0)
    try:
        assert workspace_skill_dirs(tmp_path) == [ok]
    finally:
        locked.chmod(0o755)


def test_state_dir_gets_its_gitignore_once(tmp_path: Path) -> None:
    from skillstudio.bundle.statedir import GITIGNORE, ensure_state_dir

    state = ensure_state_dir(tmp_path / ".skillstudio")
    assert (state / ".gitignore").read_text(encoding="utf-8") == GITIGNORE
    (state / ".gitignore").write_text("# mine\n", encoding="utf-8")
    ensure_state_dir(state)
    assert (state / ".gitignore").read_text(encoding="utf-8") == "# mine\n"  # a user's file is never touched
