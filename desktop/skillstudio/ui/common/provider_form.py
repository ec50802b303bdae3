"""Where trigger cases go: the provider form shared by the Test panel and "Try a prompt".

Three providers, as in `skillstudio test`: the OpenAI Responses API (default with a key), any
OpenAI-compatible `/chat/completions` server (Ollama, vLLM, LM Studio: base URL + model), and the
offline lexical estimate, which needs nothing and is never presented as a model result.

`ProviderChoice` is a plain value read from the form in the GUI thread; `service_choice` and
`run_options` hand it to the services, which run on a worker thread (reading the key from the OS
keyring may block).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from skillstudio.ui.common.settings import DEFAULT_MODEL, AppSettings

if TYPE_CHECKING:
    from skillstudio.services import providers, settings

OFFLINE, RESPONSES, CHAT = "offline", "responses", "chat"
PROVIDER_LABELS = {
    OFFLINE: "Offline estimate (no model)",
    RESPONSES: "OpenAI Responses",
    CHAT: "OpenAI-compatible chat",
}


@dataclass(frozen=True)
class ProviderChoice:
    kind: str = OFFLINE
    base_url: str = ""
    model: str = DEFAULT_MODEL
    runs: int = 3
    concurrency: int = 8
    threshold: float = 0.5
    use_cache: bool = True
    timeout_s: float = 60.0

    @property
    def is_estimate(self) -> bool:
        return self.kind == OFFLINE


def service_choice(choice: ProviderChoice) -> providers.ProviderChoice:
    """The form's choice as the services take it (the app always names its provider)."""
    from skillstudio.services import providers

    return providers.ProviderChoice(kind=providers.ProviderKind(choice.kind), base_url=choice.base_url,
                                    model=choice.model, timeout_s=choice.timeout_s)


def run_options(choice: ProviderChoice) -> settings.RunOptions:
    from skillstudio.services import settings

    return settings.RunOptions(runs=choice.runs, concurrency=choice.concurrency, threshold=choice.threshold,
                               timeout_s=choice.timeout_s, use_cache=choice.use_cache)


class ProviderForm(QWidget):
    """Provider, base URL and model; with `run_options`, also runs, concurrency, threshold, no cache."""

    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, run_options: bool = True,
                 settings: AppSettings | None = None) -> None:
        super().__init__(parent)
        self._settings = settings or AppSettings()
        self._run_options = run_options
        self.provider = QComboBox()
        self.provider.setToolTip("The model API: OpenAI Responses, or any Chat Completions-compatible server")
        self.provider.setObjectName("provider")
        for kind in (OFFLINE, RESPONSES, CHAT):
            self.provider.addItem(PROVIDER_LABELS[kind], kind)
        self.base_url = QLineEdit(str(self._settings.value("test/base_url", "") or self._settings.base_url))
        self.base_url.setToolTip("API server address; leave empty for OpenAI")
        self.base_url.setObjectName("base_url")
        self.base_url.setPlaceholderText("empty = OpenAI; or a server, e.g. http://localhost:11434/v1")
        self.base_url.setClearButtonEnabled(True)
        self.model = QLineEdit(str(self._settings.value("test/model", "") or self._settings.model))
        self.model.setToolTip("Model name sent to the API")
        self.model.setObjectName("model")
        self.model.setPlaceholderText(DEFAULT_MODEL)
        self.hint = QLabel()
        self.hint.setObjectName("provider_hint")
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        grid.addWidget(QLabel("Provider"), 0, 0)
        grid.addWidget(self.provider, 0, 1)
        grid.addWidget(self.hint, 0, 2, 1, 3)
        grid.addWidget(QLabel("Base URL"), 1, 0)
        grid.addWidget(self.base_url, 1, 1, 1, 2)
        grid.addWidget(QLabel("Model"), 1, 3)
        grid.addWidget(self.model, 1, 4)
        grid.setColumnStretch(2, 3)
        grid.setColumnStretch(4, 1)
        self.model.setMinimumWidth(160)

        self.runs = QSpinBox()
        self.concurrency = QSpinBox()
        self.threshold = QDoubleSpinBox()
        self.no_cache = QCheckBox("No cache (ask the model again)")
        if run_options:
            self.runs.setRange(1, 50)
            self.runs.setValue(3)
            self.runs.setToolTip("Each case is sent this many times; the trigger rate is measured over them.")
            self.concurrency.setRange(1, 64)
            self.concurrency.setValue(8)
            self.concurrency.setToolTip("Requests in flight at once.")
            self.threshold.setRange(0.05, 1.0)
            self.threshold.setSingleStep(0.05)
            self.threshold.setDecimals(2)
            self.threshold.setValue(0.5)
            self.threshold.setToolTip("A trigger case passes when its trigger rate is at least this; "
                                      "a no_trigger case when it is below.")
            self.no_cache.setToolTip("Cached answers make a re-run of an unchanged suite free; "
                                     "tick to measure the model afresh.")
            row = QHBoxLayout()
            for label, w in (("", self.runs), ("Concurrency", self.concurrency), ("Threshold", self.threshold)):
                w.setMinimumWidth(64)
                if label:
                    row.addWidget(QLabel(label))
                row.addWidget(w)
                row.addSpacing(10)
            row.addWidget(self.no_cache)
            row.addStretch(1)
            grid.addWidget(QLabel("Runs"), 2, 0)
            grid.addWidget(self._wrap(row), 2, 1, 1, 4)

        if run_options:
            self._restore_run_options()
        self.provider.setCurrentIndex(self.provider.findData(self._default_kind()))
        self.provider.currentIndexChanged.connect(self._on_provider_changed)
        self._on_provider_changed()

    def _restore_run_options(self) -> None:
        for key, spin in (("test/runs", self.runs), ("test/concurrency", self.concurrency)):
            try:
                spin.setValue(int(str(self._settings.value(key, spin.value()))))
            except ValueError:
                pass  # a hand-edited settings file: keep the default
        try:
            self.threshold.setValue(float(str(self._settings.value("test/threshold", self.threshold.value()))))
        except ValueError:
            pass

    @staticmethod
    def _wrap(layout: QHBoxLayout) -> QWidget:
        w = QWidget()
        layout.setContentsMargins(0, 0, 0, 0)
        w.setLayout(layout)
        return w

    @Slot()
    def _on_provider_changed(self) -> None:
        kind = self.provider.currentData()
        remote = kind != OFFLINE
        self.base_url.setEnabled(remote)
        self.model.setEnabled(remote)
        self.no_cache.setEnabled(remote)
        self.hint.setText({
            OFFLINE: "Lexical BM25 over names and descriptions, negative cases as counter-evidence. "
                     "Needs no key or server — an estimate, not a model result.",
            RESPONSES: "The whole catalog is offered through the shell tool; the model may look around "
                       "(commands run in the sandbox) and triggers a skill when it reads its files. "
                       "Key from Settings or OPENAI_API_KEY.",
            CHAT: "Ollama, vLLM, LM Studio…: the catalog goes into the system prompt with a read_file "
                  "tool. Give the server's base URL (ending in /v1) and the model name.",
        }[kind])
        self.sig_changed.emit()

    def _default_kind(self) -> str:
        """The last provider used here, else Settings' default for new runs, else what the key allows."""
        for saved in (str(self._settings.value("test/provider", "") or ""), self._settings.provider):
            if saved in PROVIDER_LABELS:
                return saved
        return RESPONSES if os.environ.get("OPENAI_API_KEY") else OFFLINE

    def load_defaults(self) -> None:
        """Settings' default provider, base URL and model, for the next run (after Settings changed them)."""
        self.set_kind(self._default_kind())
        self.base_url.setText(self._settings.base_url)
        self.model.setText(self._settings.model)

    def set_kind(self, kind: str) -> None:
        self.provider.setCurrentIndex(self.provider.findData(kind))

    def choice(self) -> ProviderChoice:
        return ProviderChoice(kind=str(self.provider.currentData()), base_url=self.base_url.text().strip(),
                              model=self.model.text().strip() or DEFAULT_MODEL, runs=self.runs.value() or 1,
                              concurrency=self.concurrency.value() or 1,
                              threshold=round(self.threshold.value() or 0.5, 2),
                              use_cache=not self.no_cache.isChecked())

    def remember(self) -> None:
        """Keep the provider, base URL and model for next time (defaults: the app-wide settings)."""
        self._settings.set_value("test/provider", self.provider.currentData())
        self._settings.set_value("test/base_url", self.base_url.text().strip())
        self._settings.set_value("test/model", self.model.text().strip())
        if self._run_options:
            self._settings.set_value("test/runs", self.runs.value())
            self._settings.set_value("test/concurrency", self.concurrency.value())
            self._settings.set_value("test/threshold", self.threshold.value())
