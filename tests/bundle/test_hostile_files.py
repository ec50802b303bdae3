"""Workspace files are data: YAML alias bombs, deep nesting, links to devices, FIFOs and files outside
the skill are refused with one line, in bounded time and memory (checked in a subprocess under a
memory limit, so a regression fails instead of taking the machine down)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from skillstudio.bundle import safeyaml, tokens
from skillstudio.bundle.fileio import UnreadableFile, read_regular, read_text_file
from skillstudio.bundle.model import load_skill

REPO = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1024 * 1024 * 1024  # 1 GB of address space: the bombs below needed 3-5 GB before


def _bomb(levels: int = 9, width: int = 9, indent: str = "") -> str:
    """The classic 'billion laughs' in under 1 KB: width**levels nodes once expanded."""
    lines = [f'{indent}l0: &l0 [{", ".join(["lol"] * width)}]']
    for i in range(1, levels):
        lines.append(f'{indent}l{i}: &l{i} [{", ".join([f"*l{i - 1}"] * width)}]')
    return "\n".join(lines) + "\n"


def _skill(root: Path, name: str, front: str = "", triggers: str | None = None) -> Path:
    d = root / name
    (d / "evals").mkdir(parents=True)
    (d / "SKILL.md").write_text(f"---\nname: {name}\ndescription: A test skill. Do not use for other work.\n"
                                f"{front}---\n# {name}\n")
    if triggers is not None:
        (d / "evals" / "triggers.yaml").write_text(triggers)
    return d


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _cli(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "desktop")}
    return subprocess.run([sys.executable, "-m", "skillstudio", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, preexec_fn=_limited, check=False)


def test_alias_bomb_is_refused_before_expansion() -> None:
    bomb = _bomb()
    assert len(bomb.encode()) < 1024
    with pytest.raises(safeyaml.YamlLimitError, match="alias bomb"):
        safeyaml.safe_load(bomb)
    with pytest.raises(yaml.YAMLError):  # callers that catch yaml.YAMLError report it as they report bad YAML
        safeyaml.load(bomb, yaml.BaseLoader)
    # anchors within the budget are ordinary YAML and still load
    assert safeyaml.safe_load(_bomb(levels=3, width=3))["l1"] == [["lol"] * 3] * 3


@pytest.mark.parametrize("text, what", [
    ("a: " + "[" * 100 + "]" * 100, "nests deeper"),
    ("a: &a [1, *a]", "cycle"),
    ("a: " + "x" * (5 * 1024 * 1024), "MB"),
])
def test_deep_cyclic_and_huge_yaml_are_refused(text: str, what: str) -> None:
    with pytest.raises(safeyaml.YamlLimitError, match=what):
        safeyaml.check(text)


def test_very_deep_yaml_is_one_yaml_error_not_a_recursion_error() -> None:
    with pytest.raises(yaml.YAMLError):  # libyaml stops at 1,000 levels itself; PyYAML's composer would recurse
        safeyaml.safe_load("a: " + "[" * 5000 + "]" * 5000)


def test_bomb_in_front_matter_and_triggers_gives_one_line_in_every_command(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _skill(ws, "front-bomb", front="metadata:\n" + _bomb(indent="  "))
    _skill(ws, "cases-bomb", triggers="x:\n" + _bomb(indent="  ") + "cases:\n  - prompt: *l8\n    expect: trigger\n")
    for args in (("validate", ws), ("tokens", ws), ("test", ws, "--offline")):
        proc = _cli(*args)
        assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-2000:]
        assert proc.returncode in (0, 1, 2)
        if args[0] != "tokens":  # tokens counts what it can; validate and test say what is wrong
            assert "alias bomb" in proc.stdout + proc.stderr, (args, proc.stdout[-2000:], proc.stderr[-2000:])
    proc = _cli("validate", ws / "front-bomb")
    assert proc.returncode == 1 and "front matter refused" in proc.stdout


def test_links_to_devices_fifos_and_outside_files_are_never_read(tmp_path: Path) -> None:
    d = _skill(tmp_path, "hostile-files")
    refs = d / "references"
    refs.mkdir()
    (refs / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(refs / "pipe.md")
    secret = tmp_path / "credentials.txt"
    secret.write_text("token=abc\n")
    (refs / "creds.md").symlink_to(secret)
    (refs / "inside.md").symlink_to(d / "SKILL.md")  # a link that stays in the skill is fine
    (refs / "plain.md").write_text("hello world\n")

    proc = _cli("tokens", d, "--json", timeout=60)  # a FIFO would hang, /dev/zero would fill memory
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["skills"][0]
    assert sorted(report["skipped"]) == ["references/creds.md", "references/pipe.md", "references/zero.md"]
    assert "references/plain.md" in report["files"] and "references/inside.md" in report["files"]

    skill = load_skill(d)
    types = {f.rel_path: f.file_type for f in skill.files}
    assert types["references/pipe.md"] == "FIFO" and types["references/zero.md"] == "symbolic link"
    assert types["references/plain.md"] == "file"
    st = tokens.skill_tokens(skill)
    assert "FIFO" in st.skipped_why["references/pipe.md"]
    assert "symbolic link" in st.skipped_why["references/zero.md"]
    assert "links out of the skill" in st.skipped_why["references/creds.md"]


def test_skill_md_and_triggers_that_are_links_or_fifos(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    a = ws / "linked-out"
    a.mkdir(parents=True)
    (a / "SKILL.md").symlink_to("/etc/passwd")
    b = _skill(ws, "fifo-cases")
    os.mkfifo(b / "evals" / "triggers.yaml")
    proc = _cli("validate", ws, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "it was not read" in proc.stdout and "replace the link with the file itself" in proc.stdout
    assert "FIFO" in proc.stdout
    assert "root:" not in proc.stdout  # nothing of the link's target is shown
    proc = _cli("test", ws, "--offline", timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "FIFO" in proc.stderr


def test_read_regular_caps_and_checks_the_open_file(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_bytes(b"x" * 100)
    assert read_regular(f, 100) == b"x" * 100
    with pytest.raises(UnreadableFile, match="not read") as exc:
        read_regular(f, 99)
    assert exc.value.kind == "too large"
    with pytest.raises(UnreadableFile) as exc:
        read_regular(Path("/dev/zero"), 10)
    assert exc.value.kind == "device"
    link = tmp_path / "skill" / "l.txt"
    link.parent.mkdir()
    link.symlink_to(f)
    with pytest.raises(UnreadableFile, match="links out of the skill"):
        read_regular(link, 1000, root=link.parent)
    assert read_regular(link, 1000, root=tmp_path) == b"x" * 100
    # without a root no link is followed; the editor opens what the user linked by resolving it first
    with pytest.raises(UnreadableFile, match="links are not followed"):
        read_text_file(link)
    assert read_text_file(link.resolve()) == "x" * 100
    dev = tmp_path / "dev.txt"
    dev.symlink_to("/dev/zero")
    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_text_file(dev.resolve())
    with pytest.raises(UnreadableFile, match="links out of the skill"):
        read_text_file(dev, root=tmp_path)


def test_a_folder_link_out_of_the_skill_is_refused_one_inside_is_followed(tmp_path: Path) -> None:
    skill, outside = tmp_path / "skill", tmp_path / "outside"
    (skill / "refs").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.md").write_text("token=abc\n")
    (skill / "refs" / "real.md").write_text("inside\n")
    (skill / "out").symlink_to(outside, target_is_directory=True)
    (skill / "alias").symlink_to(skill / "refs", target_is_directory=True)
    with pytest.raises(UnreadableFile, match="outside the skill folder") as exc:
        read_text_file(skill / "out" / "secret.md", root=skill)
    assert exc.value.kind == "outside" and "token" not in str(exc.value)
    assert read_text_file(skill / "alias" / "real.md", root=skill) == "inside\n"


def test_one_yaml_policy_for_every_workspace_file(tmp_path: Path) -> None:
    """Trigger cases and agents/openai.yaml are read by the same bounded loader as front matter: a few
    anchors are ordinary YAML, a bomb or a cycle is refused in one line that says where."""
    from skillstudio.bundle import openai_yaml
    from skillstudio.bundle.triggers import TriggersError, parse_cases

    (case,) = parse_cases("base: &p Pull the pipeline status\ncases:\n  - prompt: *p\n    expect: trigger\n")
    assert case.prompt == "Pull the pipeline status"
    with pytest.raises(TriggersError, match=r"alias bomb.*\(line 5\)"):
        parse_cases(_bomb() + "cases: []\n")
    with pytest.raises(TriggersError, match=r"invalid YAML: .*\(line 3\)"):
        parse_cases("cases:\n  - prompt: p\n   - expect: [\n")
    meta = openai_yaml.parse("interface: &i {display_name: Deploy}\nx:\n" + _bomb(indent="  "), tmp_path)
    assert not meta.usable and "alias bomb" in meta.findings[0].message and meta.findings[0].line == 7
