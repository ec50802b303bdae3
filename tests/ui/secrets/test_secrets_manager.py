"""SecretsManager: add, bind, rotate and delete against the real keyring; the value is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QTableWidget, QWidget

from skillstudio.secrets.vault import Vault
from skillstudio.ui.secrets.manager import SecretsManager
from support.leaks import register_test_secret

VALUE = register_test_secret("ui-secret-VALUE-1a2b3c4d")
ROTATED = "ui-rotated-VALUE-9z8y7x"


def _all_visible_text(w: QWidget) -> str:
    parts = [w.windowTitle()]
    for child in w.findChildren(QWidget):
        if isinstance(child, QLineEdit):
            parts += [child.text(), child.displayText(), child.placeholderText()]
        elif isinstance(child, QLabel):
            parts.append(child.text())
        elif isinstance(child, QTableWidget):
            for r in range(child.rowCount()):
                for c in range(child.columnCount()):
                    item = child.item(r, c)
                    parts += [item.text(), item.toolTip()] if item else []
    return "\n".join(parts)


def _manager(qtbot, ws: Path) -> SecretsManager:  # type: ignore[no-untyped-def]
    w = SecretsManager(ws)
    qtbot.addWidget(w)
    w.resize(900, 420)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.save_btn.isEnabled(), timeout=10000)
    return w


def test_add_rotate_rebind_delete(qtbot, real_keyring: None, tmp_path: Path, artifacts_dir: Path,  # type: ignore[no-untyped-def]
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    w = _manager(qtbot, ws)
    assert w.empty.isVisible() and not w.table.isVisible()
    w.apply_combo.setCurrentIndex(1)  # Header…
    assert w.param_edit.isEnabled()
    qtbot.keyClicks(w.name_edit, "GITHUB_TOKEN")
    qtbot.keyClicks(w.desc_edit, "CI bot token")
    qtbot.keyClicks(w.domains_edit, "api.github.com, *.githubusercontent.com")
    qtbot.keyClicks(w.param_edit, "X-Api-Key")
    qtbot.keyClicks(w.value_edit, VALUE)
    assert w.value_edit.displayText() != VALUE  # masked while typing
    with qtbot.waitSignal(w.sig_saved, timeout=10000):
        w.save_btn.click()
    assert w.value_edit.text() == ""  # write-only: cleared at once, never read back
    qtbot.waitUntil(lambda: w.table.rowCount() == 1 and w.save_btn.isEnabled(), timeout=10000)
    v = Vault(ws)
    assert v.value("GITHUB_TOKEN") == VALUE
    meta = v.get("GITHUB_TOKEN")
    assert meta.domains == ["api.github.com", "*.githubusercontent.com"] and str(meta.apply) == "header:X-Api-Key"
    assert w.table.item(0, 1).text() == "api.github.com, *.githubusercontent.com"
    assert w.table.item(0, 3).text() == "stored"
    assert w.name_edit.isReadOnly() and w.editor.title() == "Edit GITHUB_TOKEN"
    assert VALUE not in _all_visible_text(w)

    # A second secret, then a screenshot of the list for a person to look at.
    w.new_btn.click()
    qtbot.keyClicks(w.name_edit, "OPENAI_KEY")
    qtbot.keyClicks(w.domains_edit, "api.openai.com")
    qtbot.keyClicks(w.value_edit, "sk-openai-test-000111")
    with qtbot.waitSignal(w.sig_saved, timeout=10000):
        w.save_btn.click()
    qtbot.waitUntil(lambda: w.table.rowCount() == 2 and w.save_btn.isEnabled(), timeout=10000)
    w.table.selectRow(0)
    QApplication.processEvents()
    assert w.grab().save(str(artifacts_dir / "secrets_manager.png"))

    # Rotate: select, type a new value, save; bindings stay.
    assert w.editor.title() == "Edit GITHUB_TOKEN" and w.value_edit.text() == ""
    qtbot.keyClicks(w.value_edit, ROTATED)
    with qtbot.waitSignal(w.sig_saved, timeout=10000):
        w.save_btn.click()
    qtbot.waitUntil(lambda: w.save_btn.isEnabled(), timeout=10000)
    assert v.value("GITHUB_TOKEN") == ROTATED
    assert v.get("GITHUB_TOKEN").domains == ["api.github.com", "*.githubusercontent.com"]

    # Re-bind without a value: the keyring keeps the value.
    w.domains_edit.setText("api.github.com")
    w.apply_combo.setCurrentIndex(0)  # bearer
    with qtbot.waitSignal(w.sig_saved, timeout=10000):
        w.save_btn.click()
    qtbot.waitUntil(lambda: w.save_btn.isEnabled(), timeout=10000)
    assert v.get("GITHUB_TOKEN").domains == ["api.github.com"] and str(v.get("GITHUB_TOKEN").apply) == "bearer"
    assert v.value("GITHUB_TOKEN") == ROTATED
    assert ROTATED not in _all_visible_text(w) and VALUE not in _all_visible_text(w)

    # Delete (the confirmation dialog is answered by the test, not clicked).
    monkeypatch.setattr(w, "confirm_delete", lambda name: name == "GITHUB_TOKEN")
    with qtbot.waitSignal(w.sig_deleted, timeout=10000):
        w.delete_btn.click()
    qtbot.waitUntil(lambda: w.table.rowCount() == 1 and w.save_btn.isEnabled(), timeout=10000)
    assert [m.name for m in v.list()] == ["OPENAI_KEY"]
    assert w.editor.title() == "New secret"
    # The workspace never holds a value.
    blob = b"".join(p.read_bytes() for p in ws.rglob("*") if p.is_file())
    assert VALUE.encode() not in blob and ROTATED.encode() not in blob
    v.delete("OPENAI_KEY")
    w.close()


def test_bad_input_is_shown_not_saved(qtbot, real_keyring: None, tmp_path: Path, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    w = _manager(qtbot, tmp_path)
    w.resize(900, 420)
    qtbot.keyClicks(w.name_edit, "9BAD")
    qtbot.keyClicks(w.value_edit, VALUE)
    with qtbot.waitSignal(w.sig_error, timeout=5000):
        w.save_btn.click()
    assert "invalid secret name" in w.status.text()
    w.name_edit.setText("GOOD")
    w.domains_edit.setText("https://api.x.com/v1")
    with qtbot.waitSignal(w.sig_error, timeout=5000):
        w.save_btn.click()
    assert "invalid domain" in w.status.text()
    assert Vault(tmp_path).list() == []
    QApplication.processEvents()
    assert w.grab().save(str(artifacts_dir / "secrets_manager_error.png"))
    w.close()


def test_no_keyring_shows_what_to_do(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())
    w = _manager(qtbot, tmp_path)
    qtbot.keyClicks(w.name_edit, "TOKEN")
    qtbot.keyClicks(w.value_edit, VALUE)
    with qtbot.waitSignal(w.sig_error, timeout=10000):
        w.save_btn.click()
    assert "no usable OS keyring" in w.status.text() and "Secret Service" in w.status.text()
    assert not Vault(tmp_path).path.exists()
    w.close()


# Every raw value this module uses, for the leak sweep (tests/zz_leak_sweep).
register_test_secret(ROTATED)
register_test_secret("sk-openai-test-000111")
