"""The first-run flow: a workspace, a provider, a sandbox check and (optionally) a signing key.

Shown by `run_app` once, when the user profile has no settings yet (`needs_first_run`); finishing or
cancelling it marks the profile as set up, so later starts go straight to the main window. It is a
non-modal QWizard: the app shows it and opens the main window from `sig_done`, and tests drive the
pages directly. Slow things (the connection test, `doctor`, key generation) run on a worker pool.
"""

from __future__ import annotations

import re
import shutil
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from skillstudio import resources
from skillstudio.bundle.workspace import is_workspace
from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.openai_defaults import store_api_key
from skillstudio.ui.common.provider_form import CHAT, OFFLINE, RESPONSES
from skillstudio.ui.common.settings import DEFAULT_MODEL, AppSettings
from skillstudio.ui.common.workers import WorkerPool

if TYPE_CHECKING:  # the check pulls in the routers and asyncio: loaded only when a server is tested
    pass

DONE_KEY = "first_run/done"
COPY_EXAMPLES, OPEN_EXISTING = "examples", "existing"
KEY_NAME = "default"


def needs_first_run(settings: AppSettings) -> bool:
    """A profile that never finished the flow and never opened a workspace (so upgrades skip it)."""
    return settings.value(DONE_KEY) is None and settings.last_workspace() is None


def default_examples_target() -> Path:
    return Path.home() / "SkillStudio" / "skills"


def copy_examples(target: Path) -> Path:
    """Copy the bundled examples into `target` (new or empty); never overwrite a user's files."""
    target = target.expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise SkillStudioError(f"{target} already exists and is not empty",
                               "choose a new or empty folder for the examples, or open it as a workspace")
    try:
        shutil.copytree(resources.examples_dir(), target, dirs_exist_ok=True,  # not the repo's own state
                        ignore=shutil.ignore_patterns(".skillstudio", "__pycache__", ".git"))
    except OSError as exc:
        raise SkillStudioError(f"could not copy the examples to {target}: {exc.strerror or exc}",
                               "choose a folder you can write to") from exc
    return target


def test_connection(base_url: str, token: CancelToken | None = None, timeout: float = 8.0) -> list[str]:
    """GET {base}/models on an OpenAI-compatible server; the model ids, or a one-line error saying why not."""
    import httpx

    base = base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise SkillStudioError(f"{base_url!r} is not a URL", "type e.g. http://localhost:11434/v1")
    try:
        r = httpx.get(f"{base}/models", timeout=timeout, headers={"Authorization": "Bearer no-key-needed"})
    except httpx.ConnectError as exc:
        raise SkillStudioError(f"nothing answers at {base}", "is the server running? check the host and port") from exc
    except httpx.TimeoutException as exc:
        raise SkillStudioError(f"{base} did not answer within {timeout:.0f} s",
                               "is the server busy or behind a firewall?") from exc
    except httpx.HTTPError as exc:
        raise SkillStudioError(f"could not reach {base}: {exc}", "check the base URL") from exc
    if token is not None:
        token.raise_if_cancelled()
    if r.status_code == 401:
        raise SkillStudioError(f"{base} refused the request (401)", "this server wants an API key")
    if r.status_code != 200:
        raise SkillStudioError(f"{base}/models answered HTTP {r.status_code}",
                               "the base URL of an OpenAI-compatible server usually ends in /v1")
    try:
        data = r.json().get("data")
        return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
    except (ValueError, AttributeError, TypeError) as exc:
        raise SkillStudioError(f"{base}/models did not answer in the OpenAI format",
                               "the base URL of an OpenAI-compatible server usually ends in /v1") from exc


_COMMAND = re.compile(r"\b((?:sudo|apt-get|apt|dnf|brew|systemctl|systemd-run|skillstudio|pipx?)\s[^;)(,]*)")


def _test_local_server(base_url: str, kind: str, model: str, token: CancelToken,
                       _progress: object) -> tuple[list[str], str, Any]:
    """Worker side: the server's models, and (with a model to try) one request on the suite's route."""
    from skillstudio.ui.shell.connection_check import check_route

    ids = test_connection(base_url, token)
    model = model or (ids[0] if ids else "")
    if not model:
        return ids, "", None

    return ids, model, check_route(kind, base_url, model, token)


def fix_commands(fix: str) -> list[str]:
    """The commands inside a doctor hint (`quoted`, or starting with a known tool), for one-click copy."""
    found = re.findall(r"`([^`]+)`", fix)
    found += _COMMAND.findall(re.sub(r"`[^`]+`", " ", fix))
    out: list[str] = []
    for cmd in (c.strip().rstrip(".") for c in found):
        if cmd and cmd not in out:
            out.append(cmd)
    return out


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("Hint")
    return label


class WorkspacePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Welcome! First, where do your skills live?")
        self.setSubTitle("A workspace is a folder whose sub-folders are skills (each with a SKILL.md).")
        self.examples = QRadioButton("Start with the examples — copy them into a folder of mine")
        self.existing = QRadioButton("Open a folder I already have")
        self.examples.setChecked(True)
        self.group = QButtonGroup(self)
        self.group.addButton(self.examples)
        self.group.addButton(self.existing)
        self.examples_path = QLineEdit(str(default_examples_target()))
        self.examples_path.setObjectName("examples_path")
        self.existing_path = QLineEdit()
        self.existing_path.setObjectName("existing_path")
        self.existing_path.setPlaceholderText("a folder with skills (it may be empty: create skills later)")
        self.error = QLabel("")
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        grid = QGridLayout()
        for row, (radio, edit) in enumerate(((self.examples, self.examples_path),
                                             (self.existing, self.existing_path))):
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _=False, e=edit: self._browse(e))
            grid.addWidget(radio, row * 2, 0, 1, 2)
            grid.addWidget(edit, row * 2 + 1, 0)
            grid.addWidget(browse, row * 2 + 1, 1)
            edit.textChanged.connect(lambda _t, r=radio: r.setChecked(True))
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(_hint("The examples are five small skills (CRM, ledger, support, network, compliance) "
                            "with trigger cases — a good place to try the trigger tests and the playground."))
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.chosen: Path | None = None

    def _browse(self, edit: QLineEdit) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a folder", edit.text() or str(Path.home()))
        if path:
            edit.setText(path)

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        self.error.clear()
        try:
            if self.examples.isChecked():
                target = Path(self.examples_path.text().strip()).expanduser()
                if not self.examples_path.text().strip():
                    raise SkillStudioError("no folder given", "type where the examples should go")
                self.chosen = target if is_workspace(target) and self.chosen == target else copy_examples(target)
            else:
                path = Path(self.existing_path.text().strip()).expanduser()
                if not self.existing_path.text().strip() or not path.is_dir():
                    raise SkillStudioError(f"{path} is not a folder", "choose an existing folder")
                self.chosen = path
        except SkillStudioError as exc:
            self.error.setText(str(exc))
            return False
        return True


class ProviderPage(QWizardPage):
    sig_tested = Signal(bool, str)  # ok, the message shown

    def __init__(self, settings: AppSettings, pool: WorkerPool) -> None:
        super().__init__()
        self.settings, self.pool = settings, pool
        self.setTitle("Which model runs your trigger tests?")
        self.setSubTitle("Trigger tests ask a model which skill it would read for each prompt. "
                         "You can change this any time in Settings.")
        self.offline = QRadioButton("Offline estimate — no model, no key (a lexical estimate, clearly marked)")
        self.openai = QRadioButton("OpenAI — paste an API key (kept in the OS keyring, never in a file)")
        self.local = QRadioButton("A local OpenAI-compatible server (Ollama, vLLM, LM Studio…)")
        self.offline.setChecked(True)
        group = QButtonGroup(self)
        for b in (self.offline, self.openai, self.local):
            group.addButton(b)
            b.toggled.connect(self._sync)
        self.key = QLineEdit()
        self.key.setObjectName("api_key")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("sk-…")
        self.base_url = QLineEdit("http://localhost:11434/v1")
        self.base_url.setObjectName("base_url")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setObjectName("model")
        self.model.setCurrentText(settings.model if settings.model != DEFAULT_MODEL else "")
        line = self.model.lineEdit()
        assert line is not None  # an editable combo box always has one
        line.setPlaceholderText("model name, e.g. llama3.1")
        # which route trigger tests will use on this server: shown, never picked silently
        self.local_api = QComboBox()
        self.local_api.setObjectName("local_api")
        self.local_api.addItem("Responses API (/responses) — as OpenAI; recent Ollama, vLLM", RESPONSES)
        self.local_api.addItem("Chat Completions (/chat/completions) — LM Studio, older Ollama", CHAT)
        self.local_api.setToolTip("The endpoint the trigger tests send each case to; Test connection checks it")
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("test_connection")
        self.test_button.clicked.connect(self.test)
        self.result = QLabel("")
        self.result.setObjectName("connection_result")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self._job: int | None = None
        self._outcome: tuple[bool, str] | None = None

        form = QFormLayout()
        form.addRow("API key", self.key)
        form.addRow("Base URL", self.base_url)
        form.addRow("API", self.local_api)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.test_button)
        form.addRow("Model", row)
        lay = QVBoxLayout(self)
        lay.addWidget(self.offline)
        lay.addWidget(self.openai)
        lay.addWidget(self.local)
        lay.addLayout(form)
        lay.addWidget(self.result)
        lay.addWidget(self.error)
        lay.addStretch(1)
        self._sync()

    @property
    def kind(self) -> str:
        if self.local.isChecked():
            return str(self.local_api.currentData())
        return RESPONSES if self.openai.isChecked() else OFFLINE

    @Slot()
    def _sync(self) -> None:
        self.key.setEnabled(self.openai.isChecked())
        for w in (self.base_url, self.local_api, self.model, self.test_button):
            w.setEnabled(self.local.isChecked())
        self.error.clear()

    @Slot()
    def test(self) -> None:
        """In the background: list the models (GET /models), then send one real routing request on the
        route the suite will use (/responses or /chat/completions); the result says what to do next."""
        if self._job is not None:
            return
        self.local.setChecked(True)
        base, kind, typed = self.base_url.text(), str(self.local_api.currentData()), self.model.currentText().strip()
        self.result.setText(f"Connecting to {base.strip()}…")
        self.test_button.setEnabled(False)
        self._job, _ = self.pool.submit(partial(_test_local_server, base, kind, typed),
                                        on_result=self._on_models, on_error=self._on_error,
                                        on_finished=self._on_finished)

    def _on_models(self, _job: int, outcome: object) -> None:
        ids, model, check = outcome if isinstance(outcome, tuple) else ([], "", None)
        current = self.model.currentText().strip()
        self.model.clear()
        self.model.addItems(ids)
        self.model.setCurrentText(model or (current if current in ids or not ids else ids[0]))
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        msg = (f"✓ Connected — the server offers {len(ids)} model(s): {shown}" if ids
               else "✓ Connected, but the server lists no models — type the model name")
        if check is not None:  # a RouteCheck (only _test_local_server makes these)
            msg += "\n" + check.message(self.base_url.text(), model)
        self.result.setText(msg)
        self._outcome = (True, msg)

    def _on_error(self, _job: int, message: str) -> None:
        msg = f"✗ {message}"
        self.result.setText(msg)
        self._outcome = (False, msg)

    def _on_finished(self, _job: int) -> None:
        self._job = None
        self.test_button.setEnabled(self.local.isChecked())
        if self._outcome is not None:  # after the button is usable again, so a retry can follow at once
            ok, msg = self._outcome
            self._outcome = None
            self.sig_tested.emit(ok, msg)

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        self.error.clear()
        kind = self.kind
        if self.openai.isChecked():
            key = self.key.text().strip()
            if not key:
                self.error.setText("Paste your OpenAI API key, or choose the offline estimate for now.")
                return False
            try:
                store_api_key(key)
            except Exception as exc:  # noqa: BLE001 - keyring backends raise many kinds
                self.error.setText(f"Could not store the key in the OS keyring ({exc.__class__.__name__}). "
                                   "Unlock your keyring, set OPENAI_API_KEY, or choose the offline estimate.")
                return False
        if self.local.isChecked():
            if not self.base_url.text().strip() or not self.model.currentText().strip():
                self.error.setText("Give the server's base URL and a model name (Test connection lists them).")
                return False
            self.settings.base_url = self.base_url.text().strip()
            self.settings.model = self.model.currentText().strip()
        self.settings.set_value("test/provider", kind)
        self.settings.set_value("test/base_url", self.base_url.text().strip() if self.local.isChecked() else "")
        if self.local.isChecked():
            self.settings.set_value("test/model", self.model.currentText().strip())
        return True


class SandboxPage(QWizardPage):
    sig_checked = Signal(object)  # list[doctor.Check]

    def __init__(self, pool: WorkerPool) -> None:
        super().__init__()
        self.pool = pool
        self.setTitle("Can skills' scripts run safely here?")
        self.setSubTitle("Skill Studio runs scripts in a sandbox: bubblewrap (Linux) or Docker. "
                         "Nothing here is required to write and test skills.")
        self.status = QLabel("Checking the sandbox…")
        self.status.setWordWrap(True)
        self.rows = QWidget()
        self.grid = QGridLayout(self.rows)
        self.grid.setColumnStretch(2, 1)
        self.recheck = QPushButton("Check again")
        self.recheck.clicked.connect(self.run_checks)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addWidget(self.rows)
        lay.addWidget(self.recheck, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addStretch(1)
        self.checks: list[Any] | None = None
        self.copy_buttons: list[QPushButton] = []
        self._job: int | None = None

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        if self.checks is None:
            self.run_checks()

    @Slot()
    def run_checks(self) -> None:
        if self._job is not None:
            return
        from skillstudio.sandbox import doctor

        self.status.setText("Checking the sandbox…")
        self.recheck.setEnabled(False)
        self._job, _ = self.pool.submit(lambda _t, _p: doctor.checks(), on_result=self._show,
                                        on_error=self._failed, on_finished=self._finished)

    def _failed(self, _job: int, message: str) -> None:
        self.status.setText(f"✗ The check itself failed: {message}")

    def _show(self, _job: int, checks: object) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.copy_buttons = []
        self.checks = list(checks) if isinstance(checks, list) else []
        row = 0
        for c in self.checks:
            mark = QLabel("✓" if c.ok else ("✗" if c.required else "!"))
            mark.setStyleSheet(f"color: {'#1b7f3b' if c.ok else '#b3261e' if c.required else '#a15c00'};"
                               " font-weight: bold;")
            mark.setToolTip("works" if c.ok else "missing (required)" if c.required else "missing (optional)")
            self.grid.addWidget(mark, row, 0)
            self.grid.addWidget(QLabel(f"<b>{c.name}</b>"), row, 1)
            detail = QLabel(c.detail)
            detail.setWordWrap(True)
            self.grid.addWidget(detail, row, 2)
            row += 1
            if c.fix and not c.ok:
                hint = QLabel(f"How to fix: {c.fix}")
                hint.setWordWrap(True)
                hint.setObjectName("Hint")
                hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.grid.addWidget(hint, row, 1, 1, 3)
                row += 1
                for cmd in fix_commands(c.fix):
                    edit = QLineEdit(cmd)
                    edit.setReadOnly(True)
                    edit.setObjectName("fix_command")
                    copy = QPushButton("Copy")
                    copy.setToolTip("Copy this command, then run it in a terminal")
                    copy.clicked.connect(lambda _=False, t=cmd: QGuiApplication.clipboard().setText(t))
                    self.copy_buttons.append(copy)
                    self.grid.addWidget(edit, row, 1, 1, 2)
                    self.grid.addWidget(copy, row, 3)
                    row += 1
        backend = next((c for c in self.checks if c.required), None)
        if backend is not None and backend.ok:
            self.status.setText(f"✓ Scripts can run sandboxed here ({backend.detail}).")
        else:
            self.status.setText("✗ No sandbox backend works yet — copy a fix below, run it, then Check again. "
                                "You can still write and test skills.")
        if any(not c.ok for c in self.checks) and backend is not None and backend.ok:
            self.status.setText(self.status.text() + " Optional extras below: copy a command to add them.")

    def _finished(self, _job: int) -> None:
        self._job = None
        self.recheck.setEnabled(True)
        if self.checks is not None:
            self.sig_checked.emit(self.checks)


class SigningKeyPage(QWizardPage):
    sig_key_created = Signal(object)  # keys.KeyInfo

    def __init__(self, pool: WorkerPool, workspace_page: WorkspacePage | None = None) -> None:
        super().__init__()
        self.pool, self._workspace_page = pool, workspace_page
        self.setTitle("Sign what you release (optional)")
        self.setSubTitle("A signing key lets others verify that a skill they pull is the one you pushed. "
                         "The private key stays in your OS keyring.")
        self.name = QLineEdit(KEY_NAME)
        self.name.setObjectName("key_name")
        self.create_button = QPushButton("Create signing key")
        self.create_button.setObjectName("create_key")
        self.create_button.clicked.connect(self.create_key)
        self.result = QLabel("Skip this if you only write skills for yourself — Publish ▸ Export can create one later.")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.trust = QCheckBox("Trust it in this workspace as author and approver "
                               "(so your releases can be locked, pinned and pulled here)")
        self.trust.setObjectName("trust_key")
        self.trust.setChecked(True)
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.name, 1)
        row.addWidget(self.create_button)
        form.addRow("Key name", row)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.trust)
        lay.addWidget(self.result)
        lay.addStretch(1)
        self.key: Any = None

    def _chosen(self) -> Path | None:
        return self._workspace_page.chosen if self._workspace_page is not None else None

    @Slot()
    def create_key(self) -> None:
        from skillstudio.release import keys, trust

        name = self.name.text().strip()
        workspace = self._chosen() if self.trust.isChecked() else None
        self.create_button.setEnabled(False)
        self.result.setText("Creating the key…")

        def job(_t: CancelToken, _p: object) -> keys.KeyInfo:
            info = keys.generate(name)
            if workspace is not None:
                trust.add_key(workspace, name, keys.export_public(name), ["author", "approver"])
            return info

        self.pool.submit(job, on_result=self._created, on_error=self._failed,
                         on_finished=lambda _j: self.create_button.setEnabled(self.key is None))

    def _created(self, _job: int, info: object) -> None:
        self.key = info
        trusted = " It is trusted in this workspace." if self.trust.isChecked() and self._chosen() else ""
        self.result.setText(f"✓ Key “{getattr(info, 'name', '')}” created — key id {getattr(info, 'keyid', '')}."
                            f"{trusted} Share its public key with "
                            f"`skillstudio keys export {getattr(info, 'name', '')}`.")
        self.sig_key_created.emit(info)

    def _failed(self, _job: int, message: str) -> None:
        self.result.setText(f"✗ {message}")


class FirstRunWizard(QWizard):
    """Non-modal: `sig_done(workspace or None)` fires once, on Finish or Cancel."""

    sig_done = Signal(object)

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.pool = WorkerPool(self, max_threads=2)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # used once: nothing of it outlives Finish/Cancel
        self.setWindowTitle("Welcome to Skill Studio")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.workspace_page = WorkspacePage()
        self.provider_page = ProviderPage(settings, self.pool)
        self.sandbox_page = SandboxPage(self.pool)
        self.key_page = SigningKeyPage(self.pool, self.workspace_page)  # no lambda on self: no GC cycle
        for page in (self.workspace_page, self.provider_page, self.sandbox_page, self.key_page):
            self.addPage(page)
        self.resize(760, 560)
        self._done = False

    @property
    def workspace(self) -> Path | None:
        return self.workspace_page.chosen

    def done(self, result: int) -> None:  # noqa: D401 - Qt API: Finish and Cancel both end here
        self.pool.shutdown()
        self.settings.set_value(DONE_KEY, True)
        if result == int(QWizard.DialogCode.Accepted) and self.workspace is not None:
            self.settings.add_recent_workspace(self.workspace)
        self.settings.sync()
        if not self._done:  # the main window opens before this one hides, so the app never has no window
            self._done = True
            self.sig_done.emit(self.workspace if result == int(QWizard.DialogCode.Accepted) else None)
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.pool.shutdown()
        super().closeEvent(event)
