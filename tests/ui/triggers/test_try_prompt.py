"""Try a prompt: what was picked (offline scores, or a model's raw first shell call), and saving the
prompt as a case of a chosen skill without disturbing the rest of its triggers.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from skillstudio.bundle.triggers import TRIGGERS_PATH, load_cases, parse_cases
from skillstudio.errors import SkillStudioError
from skillstudio.evals.routers.offline import OfflineRouter
from skillstudio.evals.suite import build_suite
from skillstudio.ui.common.provider_form import CHAT, OFFLINE, RESPONSES
from skillstudio.ui.common.theme import apply_theme
from skillstudio.ui.triggers.try_prompt import TryPromptWidget, append_case
from support.fake_openai import FakeOpenAI, Script

PROMPT = "Pull last quarter's closed-won opportunities for Globex from Salesforce"


@pytest.fixture()
def widget(qtbot, qapp):  # type: ignore[no-untyped-def]
    apply_theme(qapp, "light")
    w = TryPromptWidget()
    qtbot.addWidget(w)
    w.resize(900, 760)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def _try(qtbot, w: TryPromptWidget, prompt: str):  # type: ignore[no-untyped-def]
    w.prompt.setPlainText(prompt)
    with qtbot.waitSignal(w.sig_tried, timeout=20000) as blocker:
        w.try_button.click()
    return blocker.args[0]


def test_offline_try_shows_scores_and_saves_a_no_trigger_case(
        qtbot, widget: TryPromptWidget, example_workspace: Path, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    widget.set_workspace(example_workspace)
    assert not widget.try_button.isEnabled()  # nothing typed yet
    assert "Nothing tried yet" in widget.picked.text()
    QApplication.processEvents()
    assert widget.grab().save(str(artifacts_dir / "try_prompt_empty.png"))
    widget.provider.set_kind(OFFLINE)
    result = _try(qtbot, widget, PROMPT)

    suite = build_suite(example_workspace)
    router = OfflineRouter()
    router.prepare(suite)
    expected = router.select(PROMPT)
    assert expected is not None and result.selected == expected
    assert f"<b>{expected}</b>" in widget.picked.text()
    assert widget.estimate_banner.isVisible()
    assert widget.scores.isVisible() and widget.scores.rowCount() == len(suite.catalog)
    best = widget.scores.item(0, 0)
    assert best is not None and best.text() == expected  # best score first
    assert widget.save_skill.currentText() == expected  # saving defaults to the picked skill

    # Keep it as a near miss of another skill.
    target = next(e.name for e in suite.catalog if e.name != expected)
    triggers = example_workspace / target / TRIGGERS_PATH
    before = triggers.read_text(encoding="utf-8")
    widget.save_skill.setCurrentIndex(widget.save_skill.findText(target))
    widget.why.setText(f"pipeline questions belong to {expected}")
    with qtbot.waitSignal(widget.sig_case_saved, timeout=2000) as saved:
        widget.save_no_trigger.click()
    assert saved.args == [example_workspace / target, "no_trigger"]
    after = triggers.read_text(encoding="utf-8")
    assert after.startswith(before)  # appended: comments, quoting and order of the file are kept
    cases = load_cases(example_workspace / target)
    assert (cases[-1].prompt, cases[-1].expect, cases[-1].why) == (PROMPT, "no_trigger",
                                                                   f"pipeline questions belong to {expected}")
    assert len(cases) == len(parse_cases(before)) + 1
    assert "Saved as a no_trigger case" in widget.save_status.text()
    _snapshot = artifacts_dir / "try_prompt_offline.png"
    QApplication.processEvents()
    assert widget.grab().save(str(_snapshot))

    # The same prompt again is refused with a one-line reason; the file is untouched.
    widget.save_trigger.click()
    assert "already has this prompt" in widget.save_status.text()
    assert triggers.read_text(encoding="utf-8") == after


def test_model_try_shows_the_raw_first_shell_call(
        qtbot, widget: TryPromptWidget, example_workspace: Path, artifacts_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=[("salesforce", "crm-query")])) as srv:
        widget.set_workspace(example_workspace)
        widget.provider.set_kind(RESPONSES)
        widget.provider.base_url.setText(srv.base_url)
        widget.provider.model.setText("gpt-test")
        result = _try(qtbot, widget, PROMPT)
        assert srv.calls("responses") == 1
        assert result.selected == "crm-query"
        assert widget.raw.toPlainText() == "cat /skills/crm-query/SKILL.md"
        assert "gpt-test" in widget.picked.text() and not widget.estimate_banner.isVisible()
        assert "TTFT" in widget.detail.text() and "latency" in widget.detail.text()
        QApplication.processEvents()
        assert widget.grab().save(str(artifacts_dir / "try_prompt_model.png"))

        widget.provider.set_kind(CHAT)
        none = _try(qtbot, widget, "What is the capital of France?")
        assert none.selected is None and "no skill" in widget.picked.text()
        assert srv.calls("completions") == 1


def test_a_refused_key_is_one_clear_line(qtbot, widget: TryPromptWidget, example_workspace: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-bad")
    with FakeOpenAI(Script(refuse_key="sk-bad")) as srv:
        widget.set_workspace(example_workspace)
        widget.provider.set_kind(RESPONSES)
        widget.provider.base_url.setText(srv.base_url)
        widget.prompt.setPlainText(PROMPT)
        widget.try_button.click()
        qtbot.waitUntil(lambda: widget.error.isVisible(), timeout=20000)
    assert "\n" not in widget.error.text() and "key" in widget.error.text().lower()
    assert widget.try_button.isEnabled()


def test_append_case_keeps_crlf_and_falls_back_to_our_format_when_it_must(tmp_path: Path) -> None:
    skill = tmp_path / "s"
    (skill / "evals").mkdir(parents=True)
    f = skill / TRIGGERS_PATH
    crlf = "# cases for s\r\ncases:\r\n- prompt: 'one'\r\n  expect: trigger  # first\r\n"
    f.write_bytes(crlf.encode())
    append_case(skill, "two: with a colon", "no_trigger", "a \"quoted\" why")
    raw = f.read_bytes().decode()
    assert raw.startswith(crlf) and "\n" not in raw.replace("\r\n", "")
    assert [(c.prompt, c.expect, c.why) for c in parse_cases(raw)] == [
        ("one", "trigger", None), ("two: with a colon", "no_trigger", 'a "quoted" why')]

    # A layout an append cannot extend safely (flow style): rewritten in our format, nothing lost.
    f.write_text('cases: [{prompt: "one", expect: trigger}]\n', encoding="utf-8")
    append_case(skill, "two", "trigger")
    assert [(c.prompt, c.expect) for c in load_cases(skill)] == [("one", "trigger"), ("two", "trigger")]

    # No file yet: created.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    append_case(fresh, "hello", "trigger")
    assert [c.prompt for c in load_cases(fresh)] == ["hello"]

    # A broken file is never overwritten.
    f.write_text("cases:\n  - prompt: [unclosed\n", encoding="utf-8")
    with pytest.raises(SkillStudioError, match="fix the file first|invalid YAML"):
        append_case(skill, "three", "trigger")
    assert f.read_text(encoding="utf-8") == "cases:\n  - prompt: [unclosed\n"
    with pytest.raises(SkillStudioError, match="empty"):
        append_case(skill, "   ", "trigger")


def test_a_slow_try_can_be_cancelled(qtbot, widget: TryPromptWidget, example_workspace: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=[("salesforce", "crm-query")], delay_s=3.0)) as srv:
        widget.set_workspace(example_workspace)
        widget.provider.set_kind(RESPONSES)
        widget.provider.base_url.setText(srv.base_url)
        widget.prompt.setPlainText(PROMPT)
        widget.try_button.click()
        assert widget.busy and widget.cancel_button.isEnabled() and not widget.try_button.isEnabled()
        qtbot.waitUntil(lambda: srv.calls("responses") == 1, timeout=10000)
        widget.cancel_button.click()
        qtbot.waitUntil(lambda: not widget.busy, timeout=2500)  # well before the server would answer
    assert widget.result is None and "cancelled" in widget.error.text().lower()
    assert widget.try_button.isEnabled()
    widget.shutdown()  # the window is closing: a late Try starts nothing
    widget.try_prompt()
    assert not widget.busy


def test_a_try_names_the_skills_it_left_out_as_the_cli_does(
        qtbot, widget: TryPromptWidget, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The service's forgiving try, seen in the app: a broken skill is left out and named, not refused."""
    from support.trigger_workspace import write_workspace

    ws = write_workspace(tmp_path / "ws")
    (ws / "support-reply" / "SKILL.md").write_text("---\nname: support-reply\n---\n# no description\n")
    widget.set_workspace(ws)
    widget.provider.set_kind(OFFLINE)
    result = _try(qtbot, widget, "Pull the Salesforce pipeline for Acme")
    assert result.selected == "crm-query" and "support-reply" not in result.skills
    assert "Not offered: support-reply" in widget.detail.text()
    assert not widget.error.isVisible()
