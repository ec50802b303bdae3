"""Settings: the default provider, model and base URL of new runs, a proxy for model requests, theme,
editor, and the OpenAI API key — which goes to the OS keyring only.

The key field is write-only: it never shows a stored key, it only says whether one is stored.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFontComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from skillstudio.errors import SkillStudioError
from skillstudio.openai_defaults import KEYRING_SERVICE, KEYRING_USER, store_api_key  # noqa: F401 - re-exported
from skillstudio.ui.common.provider_form import PROVIDER_LABELS
from skillstudio.ui.common.proxy import check_proxy_url
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.editor.prefs import EditorPrefs


def stored_key_present() -> bool | None:
    """True/False, or None when no keyring is usable here."""
    from skillstudio.services.providers import key_status

    return key_status().stored


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self.setMinimumWidth(480)
        self.settings = settings
        self.error: str | None = None
        self.defaults_changed = False  # the provider, model or base URL of new runs changed: forms reload them
        self.provider = QComboBox()
        self.provider.setObjectName("settings_provider")
        self.provider.addItem("Decide from the API key", "")
        for kind, label in PROVIDER_LABELS.items():
            self.provider.addItem(label, kind)
        self.provider.setCurrentIndex(max(0, self.provider.findData(settings.provider)))
        self.provider.setToolTip("What Trigger Tests, Try a prompt and the optimizer start with")
        self.model = QLineEdit(settings.model)
        self.model.setObjectName("settings_model")
        self.base_url = QLineEdit(settings.base_url)
        self.base_url.setObjectName("settings_base_url")
        self.base_url.setPlaceholderText("empty = OpenAI; or e.g. http://localhost:11434/v1 (Ollama)")
        self.proxy = QLineEdit(settings.proxy)
        self.proxy.setObjectName("settings_proxy")
        self.proxy.setPlaceholderText("empty = the environment's; or http://proxy.example.com:3128")
        self.proxy.setToolTip("HTTP(S) proxy for model requests made by this app (the CLI keeps its environment)")
        self.no_proxy = QLineEdit(settings.no_proxy)
        self.no_proxy.setObjectName("settings_no_proxy")
        self.no_proxy.setToolTip("Hosts reached directly, comma-separated (NO_PROXY)")
        self.theme = QComboBox()
        self.theme.setObjectName("settings_theme")
        self.theme.addItems(["light", "dark"])
        self.theme.setCurrentText(settings.theme)
        self.api_key = QLineEdit()
        self.api_key.setObjectName("settings_api_key")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        present = stored_key_present()
        self.api_key.setPlaceholderText({True: "a key is stored — type to replace it",
                                         False: "paste your key (stored in the OS keyring)",
                                         None: "no OS keyring available — set OPENAI_API_KEY instead"}[present])
        self.api_key.setEnabled(present is not None)
        self.forget_key = QCheckBox("Remove the stored key")
        self.forget_key.setObjectName("settings_forget_key")
        self.forget_key.setEnabled(bool(present))
        note = QLabel("The API key is kept only in the OS keyring (never in a file). "
                      "OPENAI_API_KEY in the environment wins over it.")
        note.setWordWrap(True)
        note.setObjectName("Hint")
        form = QFormLayout()
        form.addRow("Default provider", self.provider)
        form.addRow("Default model", self.model)
        form.addRow("Base URL", self.base_url)
        form.addRow("Proxy", self.proxy)
        form.addRow("No proxy for", self.no_proxy)
        form.addRow("Theme", self.theme)
        form.addRow("OpenAI API key", self.api_key)
        form.addRow("", self.forget_key)
        prefs = EditorPrefs.load(settings)
        self.editor_font = QFontComboBox()
        self.editor_font.setObjectName("settings_editor_font")
        self.editor_font.setFontFilters(QFontComboBox.FontFilter.MonospacedFonts)
        self.editor_font.setCurrentFont(prefs.font())
        self.editor_size = QSpinBox()
        self.editor_size.setObjectName("settings_editor_size")
        self.editor_size.setRange(6, 48)
        self.editor_size.setSuffix(" pt")
        self.editor_size.setValue(prefs.font_size)
        self.tab_width = QSpinBox()
        self.tab_width.setObjectName("settings_tab_width")
        self.tab_width.setRange(1, 16)
        self.tab_width.setValue(prefs.tab_width)
        self.wrap = QCheckBox("Wrap long lines")
        self.wrap.setObjectName("settings_wrap")
        self.wrap.setChecked(prefs.wrap)
        form.addRow("Editor font", self.editor_font)
        form.addRow("Font size", self.editor_size)
        form.addRow("Tab width", self.tab_width)
        form.addRow("", self.wrap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    @Slot()
    def accept(self) -> None:
        if self.apply():
            super().accept()

    def apply(self) -> bool:
        """Store the settings; the key goes to the keyring. False (and `error` set) if that failed."""
        from skillstudio.ui.common import dialogs

        try:
            proxy = check_proxy_url(self.proxy.text())
        except SkillStudioError as exc:
            self.error = str(exc)
            dialogs.show_error(self, "Proxy", self.error)
            self.proxy.setFocus()
            return False
        self.settings.proxy = proxy
        self.settings.no_proxy = self.no_proxy.text().strip()
        old = (self.settings.provider, self.settings.model, self.settings.base_url)
        self.settings.provider = str(self.provider.currentData() or "")
        self.settings.model = self.model.text().strip() or self.settings.model
        self.settings.base_url = self.base_url.text().strip()
        if (self.settings.provider, self.settings.model, self.settings.base_url) != old:
            self.defaults_changed = True
            for key in ("test/provider", "test/model", "test/base_url"):  # the new defaults win over the last run's
                self.settings.set_value(key, "")
        self.settings.theme = self.theme.currentText()
        EditorPrefs(self.editor_font.currentFont().family(), self.editor_size.value(), self.tab_width.value(),
                    self.wrap.isChecked()).save(self.settings)
        self.settings.sync()
        key = self.api_key.text().strip()
        try:
            if key:
                store_api_key(key)
            elif self.forget_key.isChecked():
                store_api_key(None)
        except Exception as exc:  # noqa: BLE001 - keyring backends raise many kinds
            self.error = (f"Could not store the API key in the OS keyring ({exc.__class__.__name__}: {exc}). "
                          "Unlock your keyring, or set OPENAI_API_KEY in the environment.")
            dialogs.show_error(self, "Keyring", self.error)
            return False
        finally:
            self.api_key.clear()
        return True
