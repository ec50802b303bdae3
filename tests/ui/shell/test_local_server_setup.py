"""The wizard's local-server set-up tests the route the suite will use and advises in the app's own terms."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from skillstudio.ui.common.provider_form import CHAT, RESPONSES
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.shell.first_run import FirstRunWizard
from support.fake_openai import FakeOpenAI, Script


def _provider_page(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    w = FirstRunWizard(AppSettings())
    w.show()
    qtbot.waitExposed(w)
    w.workspace_page.examples_path.setText(str(tmp_path / "skills"))
    w.next()
    assert w.currentPage() is w.provider_page
    page = w.provider_page
    page.local.setChecked(True)
    return w, page


def _close(w: FirstRunWizard) -> None:
    if shiboken6.isValid(w):
        w.close()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_a_chat_only_server_is_found_out_and_the_advice_names_the_control(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w, page = _provider_page(qtbot, tmp_path)
    try:
        assert page.local_api.currentData() == RESPONSES  # the choice is shown, not made silently
        with FakeOpenAI(Script(endpoints=("completions",))) as srv:
            page.base_url.setText(srv.base_url)
            page.model.setCurrentText("llama3.1")
            with qtbot.waitSignal(page.sig_tested, timeout=30000) as tested:
                page.test_button.click()
            text = page.result.text()
            assert tested.args[0] is False
            assert srv.calls("responses") >= 1  # a real request on the route the suite uses, not only /models
            assert "/responses" in text and "Chat Completions" in text and "under API" in text
            assert "--" not in text  # no CLI flags inside the app
            page.local_api.setCurrentIndex(page.local_api.findData(CHAT))
            with qtbot.waitSignal(page.sig_tested, timeout=30000) as tested:
                page.test_button.click()
            assert tested.args[0] is True and "Chat Completions works" in page.result.text()
            assert srv.calls("completions") >= 2
        w.next()
        settings = AppSettings()
        assert settings.value("test/provider") == CHAT and settings.value("test/model") == "llama3.1"
        assert str(settings.value("test/base_url")).endswith("/v1")
    finally:
        _close(w)


def test_a_responses_server_is_checked_with_a_routing_request(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w, page = _provider_page(qtbot, tmp_path)
    try:
        with FakeOpenAI(Script()) as srv:
            page.base_url.setText(srv.base_url)
            page.model.setCurrentText("")
            with qtbot.waitSignal(page.sig_tested, timeout=30000) as tested:
                page.test_button.click()
            assert tested.args[0] is True, page.result.text()
            assert "Responses API works" in page.result.text()
            body = srv.state.bodies[-1]
            assert body["model"] == "gpt-5.4"  # the first listed model was tried
            assert body["tools"][0]["type"] == "shell"  # the suite's request shape, catalog offered
        w.next()
        assert w.currentPage() is w.sandbox_page, page.error.text()
        assert AppSettings().value("test/provider") == RESPONSES  # a local server, no OpenAI key asked
    finally:
        _close(w)


def test_trigger_panel_gives_advice_without_cli_flags(qtbot) -> None:  # type: ignore[no-untyped-def]
    from skillstudio.ui.triggers.panel import TriggerPanel

    panel = TriggerPanel()
    qtbot.addWidget(panel)
    panel._warn("HTTP 404 (wrong base URL or unknown model; a server without the Responses API needs "
                "--provider chat): not found")
    assert "--provider" not in panel.notice.text() and "OpenAI-compatible chat" in panel.notice.text()
