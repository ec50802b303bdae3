"""The Playground: run one prompt as an agent over the workspace's skills and watch it live.

The form is read in the GUI thread into a plain `RunSpec`; a `_RunJob` (QRunnable) turns it into an
`agent.runner.RunRequest` on a pool thread (reading the API key and the secrets from the keyring may
block) and calls `execute` / `execute_both`. Events and the result travel back through the signals
of one long-lived `RunSignals` QObject made in the GUI thread (queued connections to @Slot methods),
so the worker never touches a widget. Stop cancels the run's token: the loop returns the transcript
so far, which stays on screen and is saved. Closing the widget cancels and waits for the worker.
"""

from __future__ import annotations

import itertools
import json
import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from skillstudio.agent.compaction import CompactionSettings
from skillstudio.agent.hosted import MEMORY_LIMITS
from skillstudio.agent.loop import RunLimits
from skillstudio.agent.transcript import Transcript
from skillstudio.bundle.fileio import atomic_write
from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.ui.common.provider_form import CHAT, PROVIDER_LABELS, RESPONSES, api_key
from skillstudio.ui.common.settings import DEFAULT_MODEL, AppSettings
from skillstudio.ui.playground.transcript_view import OUTCOME_WORDS, TranscriptView

log = logging.getLogger(__name__)

SUBPROCESS, DOCKER, HOSTED = "subprocess", "docker", "hosted"
ENVIRONMENTS = {SUBPROCESS: "Local sandbox (bubblewrap)", DOCKER: "Local Docker", HOSTED: "Hosted container"}
AUTO, PINNED, ROUTE = "auto", "pinned", "route"


@dataclass(frozen=True)
class RunSpec:
    """Everything the form says, as plain values (read in the GUI thread, used on the worker)."""

    workspace: Path
    prompt: str
    environment: str = SUBPROCESS
    provider: str = RESPONSES
    base_url: str = ""
    model: str = DEFAULT_MODEL
    routing: str = AUTO
    target: str = ""  # "name@version" when pinned, the route name when routed
    limits: RunLimits = field(default_factory=RunLimits)
    memory_limit: str | None = None  # hosted container memory (None = the API's default)
    compact_at: int = 200_000  # context tokens that trigger a compaction
    secrets: tuple[str, ...] = ()
    exposed: bool = False
    data_dir: Path | None = None
    side_by_side: bool = False


def build_request(spec: RunSpec) -> Any:
    """The RunRequest for a spec. Worker thread only (keyring reads may block)."""
    from skillstudio.agent.routing import Pin, pin_for_route
    from skillstudio.agent.runner import RunRequest

    base_url = spec.base_url.strip() or None
    key = api_key()
    if not key and not base_url:
        raise SkillStudioError("no OpenAI API key", "store one in Settings (OS keyring), set OPENAI_API_KEY, "
                                                    "or give the base URL of a local server")
    pin = None
    if spec.routing == PINNED:
        pin = Pin.parse(spec.target)
    elif spec.routing == ROUTE:
        pin = pin_for_route(spec.workspace, spec.target)
    session = None
    if spec.secrets:
        from skillstudio.secrets.placeholders import SecretSession

        session = SecretSession.open(spec.secrets, workspace=spec.workspace,
                                     exposed=spec.secrets if spec.exposed else ())
    if spec.data_dir is not None and not spec.data_dir.is_dir():
        raise SkillStudioError(f"data folder {spec.data_dir} does not exist", "pick an existing folder or leave it empty")
    return RunRequest(workspace=spec.workspace, prompt=spec.prompt, model=spec.model.strip() or DEFAULT_MODEL,
                      api_key=key or "no-key-needed", base_url=base_url, provider=spec.provider, pin=pin,
                      sandbox=spec.environment if spec.environment != HOSTED else SUBPROCESS,
                      hosted=spec.environment == HOSTED and not spec.side_by_side, data_dir=spec.data_dir,
                      secrets=list(spec.secrets), secret_session=session, limits=spec.limits,
                      compaction=CompactionSettings("auto", threshold=spec.compact_at),
                      memory_limit=spec.memory_limit,
                      stream=spec.provider == RESPONSES)  # model text and commands show as they are written


class RunSignals(QObject):
    """The worker's channel back to the GUI thread; every signal carries the run number."""

    sig_event = Signal(int, object)  # run number, loop event (dict)
    sig_done = Signal(int, object)  # run number, tuple of Transcripts (one, or local + hosted)
    sig_failed = Signal(int, str)  # run number, one-line message for the user


class _RunJob(QRunnable):
    def __init__(self, number: int, spec: RunSpec, token: CancelToken, signals: RunSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.number, self.spec, self.token, self.signals = number, spec, token, signals

    def _emit(self, event: dict[str, Any]) -> None:  # called on worker/request threads: emit only
        self.signals.sig_event.emit(self.number, event)

    def run(self) -> None:
        from skillstudio.agent.runner import execute, execute_both

        try:
            req = build_request(self.spec)
            if self.spec.side_by_side:
                result: tuple[Transcript, ...] = execute_both(req, self._emit, self.token)
            else:
                result = (execute(req, self._emit, self.token),)
            self.signals.sig_done.emit(self.number, result)
        except SkillStudioError as exc:
            self.signals.sig_failed.emit(self.number, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the app; the log has the traceback
            log.error("agent run failed:\n%s", traceback.format_exc())
            self.signals.sig_failed.emit(self.number, f"{exc.__class__.__name__}: {exc}")


def _spin(low: int, high: int, value: int, suffix: str = "", special: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(low, high)
    s.setValue(value)
    s.setSuffix(suffix)
    if special:
        s.setSpecialValueText(special)
    s.setMinimumWidth(80)
    return s


class Playground(QWidget):
    sig_run_finished = Signal(object)  # the (first) Transcript of a finished run
    sig_case_saved = Signal(str)  # skill name whose triggers.yaml changed

    def __init__(self, parent: QWidget | None = None, settings: AppSettings | None = None) -> None:
        super().__init__(parent)
        settings = settings or AppSettings()
        self.workspace: Path | None = None
        self.skill_name: str | None = None
        self.transcripts: tuple[Transcript, ...] = ()
        self._numbers = itertools.count(1)
        self._current = 0
        self._token: CancelToken | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = RunSignals(self)
        self._signals.sig_event.connect(self._on_event)
        self._signals.sig_done.connect(self._on_done)
        self._signals.sig_failed.connect(self._on_failed)

        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("playground_prompt")
        self.prompt.setTabChangesFocus(True)  # keyboard users leave the prompt with Tab, as in a form
        self.prompt.setPlaceholderText("The task for the agent, e.g. “Reconcile October's bank statement”  "
                                       "(Ctrl+Enter runs, Esc stops)")
        self.prompt.setMaximumHeight(72)
        self.prompt.setMinimumHeight(44)

        self.environment = QComboBox()
        self.environment.setToolTip("Where the agent’s shell commands run: the local sandbox or OpenAI’s hosted container")
        for k, label in ENVIRONMENTS.items():
            self.environment.addItem(label, k)
        self.memory = QComboBox()
        self.memory.setObjectName("container_memory")
        self.memory.addItem("default memory", None)
        for m in MEMORY_LIMITS:
            self.memory.addItem(f"{m} memory", m)
        self.memory.setToolTip("Memory of the hosted container")
        self.provider = QComboBox()
        self.provider.setToolTip("The model API: OpenAI Responses, or any Chat Completions-compatible server")
        for k in (RESPONSES, CHAT):
            self.provider.addItem(PROVIDER_LABELS[k], k)
        self.base_url = QLineEdit(settings.base_url)
        self.base_url.setToolTip("API server address; leave empty for OpenAI")
        self.base_url.setPlaceholderText("empty = OpenAI; or e.g. http://localhost:11434/v1")
        self.base_url.setClearButtonEnabled(True)
        self.model = QLineEdit(settings.model)
        self.model.setToolTip("Model name sent to the API")
        self.model.setPlaceholderText(DEFAULT_MODEL)

        self.routing = QComboBox()
        self.routing.setToolTip("How the skill is chosen: by the model, pinned to one skill@version, or by routes.yaml")
        self.routing.addItem("Auto (the model chooses)", AUTO)
        self.routing.addItem("Pinned skill@version", PINNED)
        self.routing.addItem("Route from routes.yaml", ROUTE)
        self.target = QComboBox()
        self.target.setToolTip("The skill@version or route used when routing is pinned or by route")
        self.target.setMinimumWidth(160)
        self.data_dir = QLineEdit()
        self.data_dir.setToolTip("Folder mounted at /data for the run; empty = a fresh folder")
        self.data_dir.setPlaceholderText("empty = a fresh folder for this run (mounted at /data)")
        self.browse = QPushButton("Browse…")
        self.browse.setToolTip("Choose the folder mounted at /data")

        self.max_turns = _spin(1, 500, 40)
        self.max_turns.setToolTip("Stop after this many model turns")
        self.max_calls = _spin(1, 5000, 200)
        self.max_calls.setToolTip("Stop after this many tool (shell) calls")
        self.max_tokens = _spin(0, 10_000_000, 0, special="no limit")
        self.max_tokens.setToolTip("Stop once the run has used this many tokens (0 = no limit)")
        self.max_tokens.setSingleStep(10_000)
        self.max_wall = _spin(10, 86_400, 1800, " s")
        self.max_wall.setToolTip("Stop the run after this many seconds")
        self.max_cost = QDoubleSpinBox()
        self.max_cost.setRange(0.0, 10_000.0)
        self.max_cost.setDecimals(2)
        self.max_cost.setSingleStep(0.5)
        self.max_cost.setPrefix("$ ")
        self.max_cost.setSpecialValueText("no limit")
        self.max_cost.setToolTip("Stop once the run has cost this much, priced by the price table "
                                 "(resources/prices.json or prices.json in the config folder); 0 = no limit")
        self.compact_at = _spin(200, 2_000_000, 200_000)
        self.compact_at.setSingleStep(10_000)
        self.compact_at.setToolTip("Context size (tokens) at which older turns are compacted: server-side for "
                                   "OpenAI, summarised by the model for other providers.")

        self.secrets = QListWidget()
        self.secrets.setObjectName("secrets_to_grant")
        self.secrets.setMaximumHeight(56)
        self.secrets.setToolTip("Granted secrets reach the tool as placeholders; the real value is put in "
                                "only on requests to the secret's bound domains.")
        self.exposed = QCheckBox("Expose raw values to the tool")
        self.exposed.setToolTip("Give the tool the secrets’ real values (only for tools that cannot use the "
                                "HTTP proxy)")
        self.exposed_warning = QLabel("⚠ The tool sees the real secret and can print or send it anywhere; "
                                      "the run is marked “secret exposed”.")
        self.exposed_warning.setWordWrap(True)
        self.exposed_warning.setStyleSheet("color:#ef6c00;")
        self.exposed_warning.hide()

        self.side_by_side = QCheckBox("Side by side: local and hosted")
        self.side_by_side.setToolTip("Run the same task locally and in the hosted container, shown next to each other")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("run_button")
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Run the task with the agent (Ctrl+Enter)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop_button")
        self.stop_button.setToolTip("Stop the run; the transcript so far is kept (Esc)")
        self.stop_button.setEnabled(False)

        self.setup = setup = QGroupBox("Run settings")
        g = QGridLayout(setup)
        g.setHorizontalSpacing(8)
        g.addWidget(QLabel("Environment"), 0, 0)
        env_row = QHBoxLayout()
        env_row.addWidget(self.environment, 1)
        env_row.addWidget(self.memory)
        g.addLayout(env_row, 0, 1)
        g.addWidget(QLabel("Provider"), 0, 2)
        g.addWidget(self.provider, 0, 3)
        g.addWidget(QLabel("Base URL"), 1, 0)
        g.addWidget(self.base_url, 1, 1)
        g.addWidget(QLabel("Model"), 1, 2)
        g.addWidget(self.model, 1, 3)
        g.addWidget(QLabel("Routing"), 2, 0)
        g.addWidget(self.routing, 2, 1)
        g.addWidget(QLabel("Skill / route"), 2, 2)
        g.addWidget(self.target, 2, 3)
        g.addWidget(QLabel("Data folder"), 3, 0)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(self.browse)
        g.addLayout(data_row, 3, 1, 1, 3)
        limits = QGridLayout()
        limits.setHorizontalSpacing(6)
        for n, (label, w) in enumerate((("Max turns", self.max_turns), ("Tool calls", self.max_calls),
                                        ("Tokens", self.max_tokens), ("Wall time", self.max_wall),
                                        ("Cost", self.max_cost), ("Compact at", self.compact_at))):
            limits.addWidget(QLabel(label), n // 3, (n % 3) * 2)
            limits.addWidget(w, n // 3, (n % 3) * 2 + 1)
        limits.setColumnStretch(6, 1)
        g.addWidget(QLabel("Limits"), 4, 0, Qt.AlignmentFlag.AlignTop)
        g.addLayout(limits, 4, 1, 1, 3)
        g.addWidget(QLabel("Secrets"), 5, 0, Qt.AlignmentFlag.AlignTop)
        g.addWidget(self.secrets, 5, 1)
        expose_col = QVBoxLayout()
        expose_col.addWidget(self.exposed)
        expose_col.addWidget(self.exposed_warning)
        expose_col.addStretch(1)
        g.addLayout(expose_col, 5, 2, 1, 2)
        g.setColumnStretch(1, 3)
        g.setColumnStretch(3, 2)

        self.settings_toggle = QPushButton("Hide settings")
        self.settings_toggle.setCheckable(True)
        self.settings_toggle.setToolTip("More room for the transcript")
        actions = QHBoxLayout()
        actions.addWidget(self.settings_toggle)
        actions.addWidget(self.side_by_side)
        actions.addStretch(1)
        actions.addWidget(self.stop_button)
        actions.addWidget(self.run_button)

        self.local_view = TranscriptView("Transcript")
        self.hosted_view = TranscriptView("Hosted")
        self.hosted_view.hide()
        views = QSplitter(Qt.Orientation.Horizontal)
        views.setHandleWidth(6)
        views.addWidget(self.local_view)
        views.addWidget(self.hosted_view)

        self.message = QLabel()
        self.message.setObjectName("playground_message")
        self.message.setWordWrap(True)
        self.save_case_button = QPushButton("Save as trigger case…")
        self.save_fixture_button = QPushButton("Save as regression fixture…")
        self.export_json_button = QPushButton("Export JSON…")
        self.export_md_button = QPushButton("Export Markdown…")
        after = QHBoxLayout()
        after.addWidget(self.message, 1)
        for b in (self.save_case_button, self.save_fixture_button, self.export_json_button, self.export_md_button):
            after.addWidget(b)

        # settings scroll and give way to the transcript when the panel is short (a dock at the bottom)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(setup)
        views.setMinimumHeight(140)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(scroll)
        self.split.addWidget(views)
        self.split.setStretchFactor(0, 0)
        self.split.setStretchFactor(1, 1)
        self._scroll = scroll
        lay = QVBoxLayout(self)
        lay.addWidget(self.prompt)
        lay.addLayout(actions)
        lay.addWidget(self.split, 1)
        lay.addLayout(after)

        self.routing.currentIndexChanged.connect(self._on_routing_changed)
        self.exposed.toggled.connect(self._on_exposed_toggled)
        self.side_by_side.toggled.connect(self._on_side_by_side)
        self.side_by_side.toggled.connect(self._update_memory)
        self.environment.currentIndexChanged.connect(self._update_memory)
        self.settings_toggle.toggled.connect(self._on_settings_toggled)
        self.browse.clicked.connect(self._browse_data)
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        self.prompt.textChanged.connect(self._update_buttons)
        self.save_case_button.clicked.connect(self.save_trigger_case)
        self.save_fixture_button.clicked.connect(self.save_fixture)
        self.export_json_button.clicked.connect(self.export_json)
        self.export_md_button.clicked.connect(self.export_markdown)
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(seq), self, self.run, context=ctx)
        QShortcut(QKeySequence("Escape"), self, self.stop, context=ctx)
        self._on_routing_changed()
        self._update_memory()
        self._update_buttons()

    # ------------------------------------------------------------------ workspace

    def set_workspace(self, path: Path | str | None) -> None:
        self.workspace = Path(path) if path is not None else None
        self._fill_targets()
        self.reload_secrets()
        self._update_buttons()

    def set_skill(self, skill_dir: Path | str | None) -> None:
        """The skill open in the editor: the default pin and the default skill for a trigger case."""
        self.skill_name = Path(skill_dir).name if skill_dir is not None else None
        if self.routing.currentData() == PINNED:
            self._select_skill_target()

    def _skills(self) -> list[tuple[str, str | None]]:
        if self.workspace is None:
            return []
        from skillstudio.bundle.workspace import load_workspace

        try:
            return [(s.folder_name, s.version) for s in load_workspace(self.workspace).skills]
        except (SkillStudioError, OSError):
            return []

    def _fill_targets(self) -> None:
        mode = self.routing.currentData()
        self.target.clear()
        if mode == PINNED:
            for name, version in self._skills():
                self.target.addItem(f"{name}@{version}" if version else name)
            self._select_skill_target()
        elif mode == ROUTE and self.workspace is not None:
            try:
                from skillstudio.release.lockfile import load_routes

                for route, (name, version) in sorted(load_routes(self.workspace).items()):
                    self.target.addItem(f"{route} → {name}@{version}" if version else f"{route} → {name}", route)
            except Exception as exc:  # noqa: BLE001 - a broken routes.yaml: say so, keep the form usable
                self.message.setText(f"routes.yaml: {str(exc).splitlines()[0] if str(exc) else exc}")
            if not self.target.count():
                self.target.setPlaceholderText("no routes in routes.yaml")
        self.target.setEnabled(mode != AUTO and self.target.count() > 0)

    def _select_skill_target(self) -> None:
        if self.skill_name:
            for i in range(self.target.count()):
                if self.target.itemText(i).split("@")[0] == self.skill_name:
                    self.target.setCurrentIndex(i)

    def reload_secrets(self) -> None:
        """The vault's secret names, read again (a secret was added or deleted elsewhere)."""
        self.secrets.clear()
        names: list[str] = []
        from skillstudio.secrets.vault import Vault

        for vault in ((Vault(self.workspace),) if self.workspace is not None else ()) + (Vault(),):
            try:
                names += [m.name for m in vault.list() if m.name not in names]
            except SkillStudioError as exc:
                self.message.setText(str(exc))
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.secrets.addItem(item)
        if not names:
            self.secrets.addItem(QListWidgetItem("No secrets stored (Secrets manager adds them)"))

    # ------------------------------------------------------------------ form

    @Slot()
    def _on_routing_changed(self) -> None:
        self._fill_targets()

    @Slot(bool)
    def _on_exposed_toggled(self, on: bool) -> None:
        self.exposed_warning.setVisible(on)

    @Slot()
    def _update_memory(self) -> None:
        self.memory.setVisible(self.environment.currentData() == HOSTED or self.side_by_side.isChecked())

    @Slot(bool)
    def _on_settings_toggled(self, hidden: bool) -> None:
        self._scroll.setVisible(not hidden)
        self.settings_toggle.setText("Show settings" if hidden else "Hide settings")

    @Slot(bool)
    def _on_side_by_side(self, on: bool) -> None:
        self.hosted_view.setVisible(on)
        self.local_view.title.setText("Local" if on else "Transcript")

    @Slot()
    def _browse_data(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder for the run", self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)

    def granted_secrets(self) -> list[str]:
        return [self.secrets.item(i).text() for i in range(self.secrets.count())
                if self.secrets.item(i).flags() & Qt.ItemFlag.ItemIsUserCheckable
                and self.secrets.item(i).checkState() == Qt.CheckState.Checked]

    def spec(self) -> RunSpec:
        assert self.workspace is not None
        target = self.target.currentData() if self.routing.currentData() == ROUTE else self.target.currentText()
        data = self.data_dir.text().strip()
        return RunSpec(
            workspace=self.workspace, prompt=self.prompt.toPlainText().strip(),
            environment=str(self.environment.currentData()), provider=str(self.provider.currentData()),
            base_url=self.base_url.text().strip(), model=self.model.text().strip() or DEFAULT_MODEL,
            routing=str(self.routing.currentData()), target=str(target or ""),
            limits=RunLimits(max_turns=self.max_turns.value(), max_tool_calls=self.max_calls.value(),
                             max_tokens=self.max_tokens.value() or None, max_wall_s=float(self.max_wall.value()),
                             max_cost_usd=self.max_cost.value() or None),
            memory_limit=self.memory.currentData(), compact_at=self.compact_at.value(),
            secrets=tuple(self.granted_secrets()), exposed=self.exposed.isChecked(),
            data_dir=Path(data).expanduser() if data else None, side_by_side=self.side_by_side.isChecked())

    @property
    def running(self) -> bool:
        return self._token is not None

    @Slot()
    def _update_buttons(self) -> None:
        idle = not self.running
        self.run_button.setEnabled(idle and self.workspace is not None and bool(self.prompt.toPlainText().strip()))
        self.stop_button.setEnabled(not idle)
        has_run = idle and bool(self.transcripts)
        local = has_run and self.transcripts[0].mode == "local"
        self.save_case_button.setEnabled(has_run)
        has_shell = local and any(i.get("type") == "shell_call" for i in self.transcripts[0].items)
        self.save_fixture_button.setEnabled(has_shell)
        self.export_json_button.setEnabled(has_run)
        self.export_md_button.setEnabled(has_run)

    # ------------------------------------------------------------------ running

    @Slot()
    def run(self) -> None:
        if self.running or not self.run_button.isEnabled():
            return
        spec = self.spec()
        if spec.routing != AUTO and not spec.target:
            self.message.setText("Pick the skill or route to pin the run to.")
            return
        self.transcripts = ()
        self._current = next(self._numbers)
        self._token = CancelToken()
        exposed = bool(spec.secrets) and spec.exposed
        for view in (self.local_view, self.hosted_view):
            view.clear_view()
            view.set_exposed(exposed)
        self.local_view.hosted = spec.environment == HOSTED and not spec.side_by_side
        self.hosted_view.hosted = True
        self._on_side_by_side(spec.side_by_side)
        self.message.setText("Running…")
        self._update_buttons()
        self._pool.start(_RunJob(self._current, spec, self._token, self._signals))

    @Slot()
    def stop(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.message.setText("Stopping… (the transcript so far is kept)")

    @Slot(int, object)
    def _on_event(self, number: int, event: object) -> None:
        if number != self._current or not isinstance(event, dict):
            return
        view = self.hosted_view if event.get("side") == "hosted" else self.local_view
        view.add_event(event)

    @Slot(int, object)
    def _on_done(self, number: int, result: object) -> None:
        if number != self._current:
            return
        self._token = None
        self.transcripts = tuple(result) if isinstance(result, tuple) else ()
        for view, t in zip((self.local_view, self.hosted_view), self.transcripts, strict=False):
            view.set_exposed(t.secret_exposed)
            view.set_redacted(t.secrets_seen_in_output)
            for v in t.violations:
                view.show_violation(v)
        first = self.transcripts[0] if self.transcripts else None
        if first is not None:
            where = f" — saved to {first.saved_to.name}" if first.saved_to else ""
            self.message.setText(" · ".join(f"{t.mode}: {OUTCOME_WORDS.get(t.outcome, t.outcome)}"
                                            for t in self.transcripts) + where)
        self._update_buttons()
        if first is not None:
            self.sig_run_finished.emit(first)

    @Slot(int, str)
    def _on_failed(self, number: int, message: str) -> None:
        if number != self._current:
            return
        self._token = None
        self.message.setText(f"<span style='color:#c62828'>Could not run: {message}</span>")
        self._update_buttons()

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Cancel the run and wait for the worker (the window is closing)."""
        if self._token is not None:
            self._token.cancel()
        self._pool.clear()
        self._pool.waitForDone()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------ after a run

    def _doc(self) -> dict[str, Any] | None:
        return self.transcripts[0].to_json() if self.transcripts else None

    @Slot()
    def save_trigger_case(self) -> None:
        doc = self._doc()
        if doc is None or self.workspace is None:
            return
        from skillstudio.agent.fixtures import save_trigger_case

        names = [name for name, _ in self._skills()]
        if not names:
            return
        pinned = (doc.get("routing") or {}).get("pin")
        default = (str(pinned).split("@")[0] if pinned else None) or self.skill_name or \
            next((n for n in doc.get("skills_loaded") or [] if n in names), names[0])
        skill, ok = QInputDialog.getItem(self, "Save as trigger case",
                                         "Add this prompt to the cases of skill (expect “trigger” if the run "
                                         "loaded it, else “no_trigger”):",
                                         names, names.index(default) if default in names else 0, False)
        if not ok or not skill:
            return
        try:
            case = save_trigger_case(self.workspace, doc, str(skill))
        except SkillStudioError as exc:
            self.message.setText(f"<span style='color:#c62828'>{exc}</span>")
            return
        self.message.setText(f"Saved to {skill}/evals/triggers.yaml as a “{case.expect}” case.")
        self.sig_case_saved.emit(str(skill))

    @Slot()
    def save_fixture(self) -> None:
        doc = self._doc()
        if doc is None or self.workspace is None:
            return
        from skillstudio.agent.fixtures import save_fixture

        name, ok = QInputDialog.getText(self, "Save as regression fixture",
                                        "Fixture name (letters, digits, . _ -):", text=f"run-{doc['run_id']}")
        if not ok or not name.strip():
            return
        try:
            path = save_fixture(self.workspace, doc, name.strip())
        except SkillStudioError as exc:
            self.message.setText(f"<span style='color:#c62828'>{exc}</span>")
            return
        self.message.setText(f"Saved fixture {path.relative_to(self.workspace)} — "
                             f"`skillstudio replay WORKSPACE {path.stem}` re-runs its commands without a model.")

    def _export(self, suffix: str, title: str) -> None:
        if not self.transcripts:
            return
        t = self.transcripts[0]
        start = str((self.workspace or Path.home()) / f"run-{t.run_id}{suffix}")
        path, _ = QFileDialog.getSaveFileName(self, title, start, f"*{suffix}")
        if not path:
            return
        if len(self.transcripts) > 1 and suffix == ".json":
            text = json.dumps([x.to_json() for x in self.transcripts], indent=2, ensure_ascii=False) + "\n"
        elif suffix == ".json":
            text = json.dumps(t.to_json(), indent=2, ensure_ascii=False) + "\n"
        else:
            text = "\n".join(x.to_markdown() for x in self.transcripts)
        try:
            atomic_write(Path(path), text)
        except OSError as exc:
            self.message.setText(f"<span style='color:#c62828'>Cannot write {path}: {exc.strerror or exc}</span>")
            return
        self.message.setText(f"Exported to {path}")

    @Slot()
    def export_json(self) -> None:
        self._export(".json", "Export transcript as JSON")

    @Slot()
    def export_markdown(self) -> None:
        self._export(".md", "Export transcript as Markdown")
