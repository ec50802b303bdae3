"""The Playground runs a real agent loop (real bubblewrap sandbox, real openai SDK over a socket) against
a scripted Responses server, shows the run live, stops it, flags pinned-routing violations, turns a run
into a trigger case, and the viewer replays the saved transcript step by step."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog  # noqa: E402

from skillstudio.agent.transcript import list_runs  # noqa: E402
from skillstudio.bundle.triggers import TRIGGERS_PATH, load_cases  # noqa: E402
from skillstudio.ui.playground import PINNED, Playground  # noqa: E402
from skillstudio.ui.resources import apply_theme  # noqa: E402
from skillstudio.ui.transcript_viewer import TranscriptViewer  # noqa: E402
from support.fake_agent_server import FakeAgentServer, Script, message, response, shell_call  # noqa: E402

SKILL = "ledger-reconcile"
PROMPT = "Reconcile October's bank statement"


@pytest.fixture()
def playground(qtbot, qapp, example_workspace: Path, tmp_path: Path) -> Iterator[Playground]:  # type: ignore[no-untyped-def]
    apply_theme(qapp, "light")
    w = Playground()
    qtbot.addWidget(w)
    w.resize(1200, 860)
    w.set_workspace(example_workspace)
    data = tmp_path / "data"
    data.mkdir()
    w.data_dir.setText(str(data))
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def _run(qtbot, w: Playground, server: FakeAgentServer, prompt: str = PROMPT) -> None:  # type: ignore[no-untyped-def]
    w.base_url.setText(server.base_url)
    w.model.setText("gpt-test")
    w.prompt.setPlainText(prompt)
    with qtbot.waitSignal(w.sig_run_finished, timeout=30000):
        qtbot.keyClick(w.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_run_shows_shell_call_and_its_real_output_then_saves_a_trigger_case(
        qtbot, playground: Playground, example_workspace: Path, artifacts_dir: Path,  # type: ignore[no-untyped-def]
        bwrap_available: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert playground.run_button.isEnabled() is False  # no prompt yet
    script = Script(responses=[
        response([message("Let me read the skill.", phase="commentary"),
                  shell_call(f"head -3 /skills/{SKILL}/SKILL.md", "echo made-in-sandbox > /data/out.txt && cat /data/out.txt")]),
        response([shell_call("exit 3")]),
        response([message("Reconciled: 2 breaks found.")], in_tokens=400, out_tokens=60),
    ])
    with FakeAgentServer(script) as srv:
        _run(qtbot, playground, srv)
    t = playground.transcripts[0]
    assert t.outcome == "completed" and t.skills_loaded == [SKILL]
    view = playground.local_view
    text = view.plain_text()
    assert f"$ head -3 /skills/{SKILL}/SKILL.md" in text
    assert f"name: {SKILL}" in text  # the real file, read inside the bubblewrap sandbox
    assert "made-in-sandbox" in text and (tmp_path / "data" / "out.txt").read_text() == "made-in-sandbox\n"
    assert "exit 3" in text and "Reconciled: 2 breaks found." in text
    assert view.kinds == ["message", "shell_call", "output", "shell_call", "output", "message", "finished"]
    assert view.meter.text().startswith("Tokens: 600 in · 100 out")
    assert view.banner.isHidden() and view.exposed_badge.isHidden()
    # what went back to the model is the sandbox's real output
    sent = [i for i in srv.bodies()[1]["input"] if i.get("type") == "shell_call_output"]
    assert "made-in-sandbox" in json.dumps(sent)
    assert playground.save_case_button.isEnabled() and playground.save_fixture_button.isEnabled()
    QApplication.processEvents()
    assert playground.grab().save(str(artifacts_dir / "playground_run.png"))

    before = (example_workspace / SKILL / TRIGGERS_PATH).read_text(encoding="utf-8")
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: (SKILL, True)))
    playground.save_trigger_case()
    after = (example_workspace / SKILL / TRIGGERS_PATH).read_text(encoding="utf-8")
    assert after.startswith(before)  # appended; comments and layout of the file untouched
    cases = load_cases(example_workspace / SKILL)
    assert cases[-1].prompt == PROMPT and cases[-1].expect == "trigger"

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("october-recon", True)))
    playground.save_fixture()
    fixture = json.loads((example_workspace / ".skillstudio" / "fixtures" / "october-recon.json").read_text())
    assert [c["commands"] for c in fixture["calls"]][1] == ["exit 3"]

    out = tmp_path / "export.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    playground.export_markdown()
    assert f"$ head -3 /skills/{SKILL}/SKILL.md" in out.read_text(encoding="utf-8")
    out = tmp_path / "export.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    playground.export_json()
    assert json.loads(out.read_text(encoding="utf-8"))["final"] == "Reconciled: 2 breaks found."


def test_stop_mid_run_keeps_the_transcript(qtbot, playground: Playground, example_workspace: Path,  # type: ignore[no-untyped-def]
                                           artifacts_dir: Path, bwrap_available: None) -> None:
    script = Script(responses=[response([shell_call("echo first")]), response([shell_call("sleep 60")]),
                               response([message("never")])])
    with FakeAgentServer(script) as srv:
        playground.base_url.setText(srv.base_url)
        playground.prompt.setPlainText(PROMPT)
        playground.run_button.click()
        assert playground.stop_button.isEnabled() and not playground.run_button.isEnabled()
        qtbot.waitUntil(lambda: "$ sleep 60" in playground.local_view.plain_text(), timeout=20000)
        with qtbot.waitSignal(playground.sig_run_finished, timeout=20000):
            qtbot.keyClick(playground.prompt, Qt.Key.Key_Escape)
    t = playground.transcripts[0]
    assert t.outcome == "cancelled"
    text = playground.local_view.plain_text()
    assert "$ echo first" in text and "first" in text and "$ sleep 60" in text and "Run cancelled" in text
    assert json.loads(list_runs(example_workspace)[0].read_text())["outcome"] == "cancelled"  # saved too
    assert playground.run_button.isEnabled() and not playground.stop_button.isEnabled()
    QApplication.processEvents()
    assert playground.grab().save(str(artifacts_dir / "playground_stopped.png"))


def test_pinned_run_reading_another_skill_shows_the_red_banner(
        qtbot, playground: Playground, artifacts_dir: Path, bwrap_available: None) -> None:  # type: ignore[no-untyped-def]
    playground.routing.setCurrentIndex(playground.routing.findData(PINNED))
    playground.set_skill(Path("anywhere") / SKILL)
    assert playground.target.currentText() == f"{SKILL}@1.0.0"
    script = Script(responses=[response([shell_call(f"cat /skills/{SKILL}/SKILL.md | head -2")]),
                               response([shell_call("cat /skills/crm-query/SKILL.md")]),
                               response([message("never asked")])])
    with FakeAgentServer(script) as srv:
        _run(qtbot, playground, srv)
        assert len(srv.bodies()) == 2
        assert [s["name"] for s in srv.bodies()[0]["tools"][0]["environment"]["skills"]] == [SKILL]
    t = playground.transcripts[0]
    assert t.outcome == "routing_violation"
    banner = playground.local_view.banner
    assert banner.isVisible() and "touched crm-query" in banner.text()
    QApplication.processEvents()
    assert playground.grab().save(str(artifacts_dir / "playground_routing_violation.png"))


def test_bad_setup_is_one_line_and_nothing_runs(qtbot, playground: Playground,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    playground.routing.setCurrentIndex(playground.routing.findData(PINNED))
    playground.target.setCurrentIndex(-1)
    playground.prompt.setPlainText(PROMPT)
    playground.run()
    assert "Pick the skill" in playground.message.text() and not playground.running
    playground.routing.setCurrentIndex(0)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    playground.data_dir.setText("/no/such/folder")
    playground.base_url.setText("http://127.0.0.1:9/v1")
    playground.run()
    qtbot.waitUntil(lambda: not playground.running, timeout=10000)
    assert "does not exist" in playground.message.text() and not playground.transcripts


def test_viewer_steps_through_a_saved_transcript(qtbot, qapp, example_workspace: Path,  # type: ignore[no-untyped-def]
                                                 artifacts_dir: Path, bwrap_available: None, tmp_path: Path) -> None:
    from skillstudio.agent.runner import RunRequest, execute

    script = Script(responses=[response([shell_call(f"ls /skills/{SKILL}")]), response([message("Done.")])])
    with FakeAgentServer(script) as srv:
        data = tmp_path / "d"
        data.mkdir()
        execute(RunRequest(workspace=example_workspace, prompt=PROMPT, base_url=srv.base_url, model="gpt-test",
                           data_dir=data))
    apply_theme(qapp, "light")
    viewer = TranscriptViewer()
    qtbot.addWidget(viewer)
    viewer.resize(900, 600)
    viewer.set_workspace(example_workspace)
    viewer.show()
    assert viewer.runs.count() == 1 and viewer.step_label.text() == "Step 1 of 4"
    assert viewer.view.kinds == ["prompt", "shell_call"] and viewer.next_button.isEnabled()
    viewer.next_step()
    assert viewer.view.kinds[-1] == "output" and "SKILL.md" in viewer.view.plain_text()
    viewer.next_step()
    viewer.next_step()
    assert viewer.view.kinds[-2:] == ["message", "finished"] and not viewer.next_button.isEnabled()
    viewer.previous_step()
    assert viewer.view.kinds[-1] == "message" and viewer.step_label.text() == "Step 3 of 4"
    QApplication.processEvents()
    assert viewer.grab().save(str(artifacts_dir / "transcript_viewer.png"))
    bad = example_workspace / ".skillstudio" / "runs" / "agent" / "broken.json"
    bad.write_text("{not json")
    assert viewer.open(bad) is False and "Cannot open broken.json" in viewer.error.text()
