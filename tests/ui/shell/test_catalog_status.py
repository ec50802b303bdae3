"""The app opens a real catalog (skills at any depth) and says in one line how many it found where."""

from __future__ import annotations

from pathlib import Path

from mainwindow_support import open_and_check, shot


def _skill(d: Path) -> None:
    d.mkdir(parents=True)
    (d / "SKILL.md").write_text(f"---\nname: {d.name}\ndescription: Does {d.name}. Do not use for other work.\n"
                                "---\n# Body\n", encoding="utf-8")


def test_a_cloned_repository_opens_with_every_skill(qtbot, make_window, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    artifacts_dir: Path) -> None:
    repo = tmp_path / "skills-repo"
    for i in range(12):
        _skill(repo / "skills" / f"skill-{i:02d}")
    _skill(repo / "skills" / ".curated" / "curated-one")
    _skill(repo / "plugins" / "tools" / "skills" / "plugin-one")
    _skill(repo / ".claude" / "skills" / "claude-one")
    _skill(repo / ".git" / "skills" / "never")
    w = make_window(repo)
    assert len(w.tree.skill_items()) == 15
    msg = w.statusBar().currentMessage()
    assert msg.startswith("Opened skills-repo: 15 skills in 4 folders: skills/ (12)"), msg
    assert ".claude/skills/ (1)" in msg
    shot(w, artifacts_dir, "catalog-opened")


def test_the_form_shows_codex_metadata(qtbot, make_window, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       artifacts_dir: Path) -> None:
    ws = tmp_path / "ws"
    _skill(ws / "deploy")
    (ws / "deploy" / "agents").mkdir()
    (ws / "deploy" / "agents" / "openai.yaml").write_text(
        'interface:\n  display_name: "Deploy"\n  brand_color: "#3B82F6"\n  icon_small: ./assets/missing.png\n'
        "policy:\n  allow_implicit_invocation: false\n", encoding="utf-8")
    _skill(ws / "plain")
    w = make_window(ws)
    tab = open_and_check(qtbot, w, ws / "deploy" / "SKILL.md")
    assert tab.form is not None
    text = tab.form.codex.text()
    assert tab.form.codex.isVisibleTo(tab.form)
    assert text.startswith("Codex (agents/openai.yaml): display name “Deploy”") and "colour #3B82F6" in text
    assert "explicit-only" in text and "1 problem" in text
    shot(w, artifacts_dir, "form-codex-metadata")
    plain = open_and_check(qtbot, w, ws / "plain" / "SKILL.md")
    assert plain.form is not None and not plain.form.codex.isVisibleTo(plain.form)


def test_the_cases_editor_keeps_route_to_and_fixtures() -> None:
    from skillstudio.bundle.triggers import parse_cases
    from skillstudio.ui.triggers.cases_model import CaseRow

    cases = parse_cases("cases:\n  - prompt: Reconcile these\n    expect: trigger\n    files: {a.csv: 'x'}\n"
                        "  - prompt: Reply to a ticket\n    expect: no_trigger\n    why: support\n"
                        "    route_to: support-reply\n    id: n1\n")
    assert [CaseRow.from_case(c).to_case() for c in cases] == cases
