"""The Playground runs a real agent loop (real bubblewrap sandbox, real openai SDK over a socket) against
a scripted Responses server, shows the run live, stops it, flags pinned-routing violations, turns a run
into a trigger case, and the viewer replays the saved transcript step by step."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from skillstudio.agent.transcript import list_runs
from skillstudio.bundle.triggers import TRIGGERS_PATH, load_cases
from skillstudio.ui.common.theme import apply_theme
from skillstudio.ui.playground.panel import DOCKER, PINNED, ROUTE, Playground
from skillstudio.ui.playground.saved_runs import TranscriptViewer
from support.fake_agent_server import (
    FakeAgentServer,
    Script,
    compaction_item,
    message,
    response,
    shell_call,
    shell_call_output,
)

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
                  shell_call(f"head -3 /skills/{SKILL}/SKILL.md",
                             "echo made-in-sandbox > /data/out.txt && cat /data/out.txt")]),
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
    script = Script(responses=[response([shell_call("echo first")]),
                               response([shell_call("echo started-long-step; sleep 60")]),
                               response([message("never")])])
    with FakeAgentServer(script) as srv:
        playground.base_url.setText(srv.base_url)
        playground.prompt.setPlainText(PROMPT)
        playground.run_button.click()
        assert playground.stop_button.isEnabled() and not playground.run_button.isEnabled()
        # the command's output shows while it still runs
        qtbot.waitUntil(lambda: "started-long-step" in playground.local_view.live_text()
                        and playground.local_view.plain_text().count("started-long-step") == 2, timeout=20000)
        assert "Running…" in playground.local_view.plain_text()
        QApplication.processEvents()
        assert playground.grab().save(str(artifacts_dir / "playground_live.png"))
        with qtbot.waitSignal(playground.sig_run_finished, timeout=20000):
            qtbot.keyClick(playground.prompt, Qt.Key.Key_Escape)
    t = playground.transcripts[0]
    assert t.outcome == "cancelled"
    text = playground.local_view.plain_text()
    assert "$ echo first" in text and "$ echo started-long-step; sleep 60" in text and "Run stopped" in text
    assert "started-long-step" in text and "Running…" not in text  # the partial output was kept
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
    assert playground.local_view.kinds[-2:] == ["blocked", "finished"]
    banner = playground.local_view.banner
    assert banner.isVisible() and "touched crm-query" in banner.text()
    QApplication.processEvents()
    assert playground.grab().save(str(artifacts_dir / "playground_routing_violation.png"))


def test_side_by_side_runs_local_and_hosted_in_two_views(
        qtbot, playground: Playground, artifacts_dir: Path, bwrap_available: None) -> None:  # type: ignore[no-untyped-def]
    assert playground.memory.isHidden()
    playground.side_by_side.setChecked(True)
    assert playground.hosted_view.isVisible() and playground.memory.isVisible()
    playground.memory.setCurrentIndex(playground.memory.findData("4g"))
    script = Script(responses=[
        response([shell_call(f"head -1 /skills/{SKILL}/SKILL.md", call_id="l1")]), response([message("local done")]),
        response([shell_call(f"head -1 /mnt/data/{SKILL}/SKILL.md", call_id="h1", environment="container"),
                  shell_call_output("h1", ("---\n", "", 0)), message("hosted done")])])
    with FakeAgentServer(script) as srv:
        _run(qtbot, playground, srv)
        assert [b["tools"][0]["environment"]["type"] for b in srv.bodies()] == ["local", "local", "container_auto"]
        assert srv.bodies()[2]["tools"][0]["environment"]["memory_limit"] == "4g"
    local, hosted = playground.transcripts
    assert (local.mode, hosted.mode) == ("local", "hosted")
    shown = playground.local_view.plain_text()
    assert "local done" in shown and "hosted done" not in shown
    hosted_text = playground.hosted_view.plain_text()
    assert "in the hosted container" in hosted_text and "hosted done" in hosted_text and "exit 0" in hosted_text
    assert playground.save_fixture_button.isEnabled()  # the local run has shell calls to replay
    QApplication.processEvents()
    assert playground.grab().save(str(artifacts_dir / "playground_side_by_side.png"))


def test_granted_secret_in_exposed_mode_is_badged_and_never_sent_raw(
        qtbot, playground: Playground, example_workspace: Path, artifacts_dir: Path,  # type: ignore[no-untyped-def]
        bwrap_available: None, real_keyring: None) -> None:
    from skillstudio.secrets.vault import Vault

    value = "tok-" + "9f3a" * 6
    Vault(example_workspace).set("BANK_TOKEN", value)
    playground.set_workspace(example_workspace)
    item = playground.secrets.findItems("BANK_TOKEN", Qt.MatchFlag.MatchExactly)[0]
    item.setCheckState(Qt.CheckState.Checked)
    assert playground.granted_secrets() == ["BANK_TOKEN"] and playground.exposed_warning.isHidden()
    playground.exposed.setChecked(True)
    assert playground.exposed_warning.isVisible()
    script = Script(responses=[response([shell_call("printenv BANK_TOKEN")]), response([message("ok")])])
    with FakeAgentServer(script) as srv:
        _run(qtbot, playground, srv)
        raw = srv.raw_text()
    t = playground.transcripts[0]
    assert t.secret_exposed and t.secrets_seen_in_output == ["BANK_TOKEN"]
    view = playground.local_view
    assert view.exposed_badge.isVisible() and view.redacted_badge.isVisible()
    assert value not in raw and value not in view.plain_text()
    assert value not in t.saved_to.read_text(encoding="utf-8")  # type: ignore[union-attr]
    QApplication.processEvents()
    assert playground.grab().save(str(artifacts_dir / "playground_secret_exposed.png"))


def test_compaction_is_a_visible_marker_with_token_counts(
        qtbot, playground: Playground, bwrap_available: None) -> None:  # type: ignore[no-untyped-def]
    playground.compact_at.setValue(300)
    script = Script(responses=[response([shell_call("seq 1 400")]),
                               response([compaction_item("summary-of-the-run"), message("done after compaction")])])
    with FakeAgentServer(script) as srv:
        _run(qtbot, playground, srv)
        assert srv.bodies()[0]["context_management"] == [{"type": "compaction", "compact_threshold": 300}]
    t = playground.transcripts[0]
    assert t.outcome == "completed" and len(t.compaction_events) == 1
    c = t.compaction_events[0]
    view = playground.local_view
    assert view.kinds[-3:] == ["compaction", "message", "finished"]
    assert f"{c['before_tokens']:,} → {c['after_tokens']:,} tokens" in view.plain_text()
    assert "1 compaction(s)" in view.meter.text()


def test_route_from_routes_yaml_pins_the_run(qtbot, playground: Playground, example_workspace: Path,  # type: ignore[no-untyped-def]
                                             bwrap_available: None) -> None:
    from skillstudio.release.lockfile import set_route

    set_route(example_workspace, "month-end", SKILL, "1.0.0")
    playground.routing.setCurrentIndex(playground.routing.findData(ROUTE))
    assert playground.target.currentText() == f"month-end → {SKILL}@1.0.0" and playground.target.isEnabled()
    script = Script(responses=[response([shell_call(f"cat /skills/{SKILL}/SKILL.md | head -1")]),
                               response([message("Reconciled.")])])
    with FakeAgentServer(script) as srv:
        _run(qtbot, playground, srv)
        assert f"Use the {SKILL} skill" in srv.bodies()[0]["instructions"]
    t = playground.transcripts[0]
    assert t.outcome == "completed" and t.routing["pin"] == f"{SKILL}@1.0.0"
    assert playground.local_view.banner.isHidden()


@pytest.mark.docker
def test_local_docker_environment_runs_the_skill_script(qtbot, playground: Playground, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        docker_client: object) -> None:
    data = Path(playground.data_dir.text())
    if os.getuid() == 0:
        os.chown(data, 1000, 1000)  # the container runs as the data folder's owner
    playground.environment.setCurrentIndex(playground.environment.findData(DOCKER))
    script = Script(responses=[
        response([shell_call(f"python3 /skills/{SKILL}/scripts/reconcile.py /skills/{SKILL}/assets/sample-2026-10")]),
        response([message("done in docker")])])
    with FakeAgentServer(script) as srv:
        _run(qtbot, playground, srv)
    t = playground.transcripts[0]
    assert t.outcome == "completed" and t.sandbox == "docker"
    assert "INV-1003" in playground.local_view.plain_text() and "exit 0" in playground.local_view.plain_text()


def test_closing_mid_run_cancels_and_waits(qtbot, playground: Playground, example_workspace: Path,  # type: ignore[no-untyped-def]
                                           bwrap_available: None) -> None:
    script = Script(responses=[response([shell_call("sleep 60")]), response([message("never")])])
    with FakeAgentServer(script) as srv:
        playground.base_url.setText(srv.base_url)
        playground.prompt.setPlainText(PROMPT)
        playground.run_button.click()
        qtbot.waitUntil(lambda: "$ sleep 60" in playground.local_view.plain_text(), timeout=20000)
        playground.close()
        assert playground.wait(0)  # the worker is done once close() returns
    assert json.loads(list_runs(example_workspace)[0].read_text())["outcome"] == "cancelled"


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
                                                 artifacts_dir: Path, bwrap_available: None, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
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
    assert "Replaying a saved run (outcome: completed)" in viewer.view.status.text()
    QApplication.processEvents()
    assert viewer.grab().save(str(artifacts_dir / "transcript_viewer.png"))
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad), "")))
    viewer.open_button.click()
    assert viewer.error.isVisible() and "Cannot open broken.json" in viewer.error.text()
    assert viewer.view.kinds[-1] == "message"  # the run on screen stays


def test_cost_limit_goes_into_the_run_limits(playground: Playground) -> None:
    playground.prompt.setPlainText(PROMPT)
    assert playground.spec().limits.max_cost_usd is None  # 0 = no limit
    playground.max_cost.setValue(0.25)
    assert playground.spec().limits.max_cost_usd == 0.25
