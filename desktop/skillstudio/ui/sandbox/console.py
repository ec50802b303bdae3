"""The Sandbox console: run a command (or one of the skill's scripts) exactly as an agent's shell call.

The user picks the backend, the data folder, allowed domains, limits and secrets (placeholders, or
exposed raw values with a warning); the effective policy is shown in plain words and updated as
they type. A run streams stdout/stderr and the egress proxy's allow/refuse decisions live, can be
killed, and ends with the exit code and duration.

Threading: the run is a job on this widget's WorkerPool (ui.common.workers). The job NEVER touches a
widget: output chunks and proxy decisions go out as the job's events, the ConsoleResult as its
result, even after a kill (`after_cancel`), so a killed run still shows its exit status. Every
callback carries the job id, so output of an old run can never land in a new one. Closing the
console cancels the run and waits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QColor, QFont, QFontDatabase, QShowEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from skillstudio.cancel import CancelToken
from skillstudio.sandbox.interactive import (
    ConsoleRequest,
    ConsoleResult,
    defaults,
    describe,
    run,
    skill_scripts,
)
from skillstudio.sandbox.policy import Limits
from skillstudio.sandbox.proxy import ProxyEvent
from skillstudio.ui.common.fit import FitArea
from skillstudio.ui.common.workers import WorkerContext, WorkerPool

log = logging.getLogger(__name__)
BACKENDS = [("subprocess", "Subprocess (bubblewrap)"), ("docker", "Docker container")]
MAX_LINES = 20000  # the output view keeps this many lines (the run itself caps what it returns)
STDERR_COLOR = QColor("#c0392b")
REFUSED_COLOR = QColor("#c0392b")
ALLOWED_COLOR = QColor("#1e8449")


@dataclass(frozen=True)
class _Output:
    """One chunk of the command's output, as the job's event."""

    stream: str  # "stdout" | "stderr"
    text: str


def _run_job(req: ConsoleRequest, command: str, ctx: WorkerContext) -> ConsoleResult:
    """Worker side: run the command, stream output and proxy decisions as events; touches no widget."""
    return run(req, command, ctx.token, on_output=lambda stream, text: ctx.event(_Output(stream, text)),
               on_proxy=ctx.event)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _event_line(event: ProxyEvent) -> str:
    import time

    return f"{time.strftime('%H:%M:%S', time.localtime(event.time))}  {event.line()}"


class SandboxConsole(QWidget):
    """The console for one workspace and (optionally) one skill."""

    sig_started = Signal(int)  # run id
    sig_finished = Signal(object)  # ConsoleResult, or None when the run could not start
    sig_output = Signal(str, str)  # stream, text (already redacted) — for embedding views

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SandboxConsole")
        self.setWindowTitle("Sandbox console")
        self._workspace: Path | None = None
        self._skill: Path | None = None
        self._pool = WorkerPool(self, max_threads=1)
        self._run_id = 0
        self._token: CancelToken | None = None
        self._closed = False
        self.last_result: ConsoleResult | None = None
        self._env: dict[str, str] = {}
        self._deny_write: list[str] | None = None
        self._cpu_s: int | None = Limits().cpu_s
        self._fsize: int | None = Limits().file_size_mb
        self._build()
        self._refresh_policy()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.backend = QComboBox()
        self.backend.setToolTip("Sandbox used to run the command: bubblewrap or Docker")
        self.backend.setObjectName("consoleBackend")
        for key, label in BACKENDS:
            self.backend.addItem(label, key)
        self.data_edit = QLineEdit()
        self.data_edit.setToolTip("The only folder the command may write to")
        self.data_edit.setObjectName("consoleData")
        self.data_edit.setPlaceholderText("the only folder the command may write to")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_data)
        data_row = QHBoxLayout()
        data_row.setContentsMargins(0, 0, 0, 0)
        data_row.addWidget(self.data_edit, 1)
        data_row.addWidget(browse)
        self.allow_edit = QLineEdit()
        self.allow_edit.setToolTip("Hosts the command may reach over the network (comma-separated; empty = none)")
        self.allow_edit.setObjectName("consoleAllow")
        self.allow_edit.setPlaceholderText("none — e.g. api.example.com, *.example.org, host:8443")
        self.timeout = QDoubleSpinBox()
        self.timeout.setToolTip("Kill the command after this many seconds")
        self.timeout.setRange(0.5, 3600)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(" s")
        self.memory = QSpinBox()
        self.memory.setToolTip("Memory limit for the command (0 = no limit)")
        self.memory.setRange(0, 65536)
        self.memory.setSuffix(" MB")
        self.memory.setSpecialValueText("no limit")
        self.pids = QSpinBox()
        self.pids.setToolTip("Maximum number of processes (0 = no limit)")
        self.pids.setRange(0, 100000)
        self.pids.setSpecialValueText("no limit")
        self.output_cap = QSpinBox()
        self.output_cap.setToolTip("Output kept per stream; more is cut off")
        self.output_cap.setRange(1, 1_000_000)
        self.output_cap.setSuffix(" KB")
        limits_row = QGridLayout()
        limits_row.setContentsMargins(0, 0, 0, 0)
        for i, (label, w) in enumerate((("time", self.timeout), ("memory", self.memory), ("processes", self.pids),
                                        ("output", self.output_cap))):
            limits_row.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            limits_row.addWidget(w, i // 2, (i % 2) * 2 + 1)
        limits_row.setColumnStretch(4, 1)

        settings = QGroupBox("Sandbox")
        form = QFormLayout(settings)
        form.addRow("Backend", self.backend)
        form.addRow("Data folder", data_row)
        form.addRow("Allowed domains", self.allow_edit)
        form.addRow("Limits", limits_row)
        self.save_button = QPushButton("Save as the skill's policy")
        self.save_button.setObjectName("consoleSavePolicy")
        self.save_button.setToolTip("Store domains and limits in .skillstudio/policies/ (agent runs use them too)")
        self.save_button.clicked.connect(self.save_policy)
        form.addRow("", self.save_button)

        self.secrets_list = QListWidget()
        self.secrets_list.setObjectName("consoleSecrets")
        self.secrets_list.setMaximumHeight(72)
        self.exposed = QCheckBox("Expose raw values to the tool (for non-HTTP tools)")
        self.exposed.setToolTip("Give the tool the secrets’ real values (only for tools that cannot use the "
                                "HTTP proxy)")
        self.exposed.setObjectName("consoleExposed")
        self.exposed_warning = QLabel("⚠ The tool will hold the real values. Output is still redacted and unbound "
                                      "hosts are still refused, but the tool itself could write them anywhere it "
                                      "may write. The run is marked “secret exposed”.")
        self.exposed_warning.setObjectName("consoleExposedWarning")
        self.exposed_warning.setWordWrap(True)
        self.exposed_warning.setStyleSheet("color: #b9770e;")
        self.exposed_warning.setVisible(False)
        self.secrets_note = QLabel()
        self.secrets_note.setWordWrap(True)
        self.secrets_note.setStyleSheet("color: palette(placeholder-text);")
        secrets_box = QGroupBox("Secrets (tools see placeholders)")
        sv = QVBoxLayout(secrets_box)
        sv.addWidget(self.secrets_list)
        sv.addWidget(self.secrets_note)
        sv.addWidget(self.exposed)
        sv.addWidget(self.exposed_warning)

        self.policy_view = QPlainTextEdit()
        self.policy_view.setObjectName("consolePolicy")
        self.policy_view.setReadOnly(True)
        self.policy_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        policy_box = QGroupBox("Effective policy")
        pv = QVBoxLayout(policy_box)
        pv.addWidget(self.policy_view)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(settings)
        lv.addWidget(secrets_box)
        lv.addWidget(policy_box, 1)

        self.command = QComboBox()
        self.command.setToolTip("The shell command to run in the sandbox (Enter runs it; earlier commands in the list)")
        self.command.setObjectName("consoleCommand")
        self.command.setEditable(True)
        self.command.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.command.lineEdit()
        assert line is not None  # an editable combo box always has one
        line.setPlaceholderText("a shell command line, run with sh -c in the data folder")
        line.returnPressed.connect(self.run_command)
        self.command.setMinimumWidth(320)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("consoleRun")
        self.run_button.setToolTip("Run the command in the sandbox (Enter in the command field)")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run_command)
        self.kill_button = QPushButton("Kill")
        self.kill_button.setObjectName("consoleKill")
        self.kill_button.setToolTip("Kill the running command and everything it started")
        self.kill_button.setEnabled(False)
        self.kill_button.clicked.connect(self.kill)
        cmd_row = QHBoxLayout()
        cmd_row.addWidget(QLabel("Command"))
        cmd_row.addWidget(self.command, 1)
        cmd_row.addWidget(self.run_button)
        cmd_row.addWidget(self.kill_button)

        self.status = QLabel("Ready.")
        self.status.setObjectName("consoleStatus")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output = QPlainTextEdit()
        self.output.setObjectName("consoleOutput")
        self.output.setReadOnly(True)
        self.output.setFont(mono)
        self.output.setMaximumBlockCount(MAX_LINES)
        self.output.setPlaceholderText("stdout and stderr (red) appear here as the command runs")
        self.proxy_log = QPlainTextEdit()
        self.proxy_log.setObjectName("consoleProxyLog")
        self.proxy_log.setReadOnly(True)
        self.proxy_log.setFont(mono)
        self.proxy_log.setMaximumBlockCount(MAX_LINES)
        self.proxy_log.setPlaceholderText("network requests allowed or refused by the egress proxy")
        out_box = QGroupBox("Output")
        ov = QVBoxLayout(out_box)
        ov.addWidget(self.output)
        proxy_box = QGroupBox("Network (egress proxy)")
        xv = QVBoxLayout(proxy_box)
        xv.addWidget(self.proxy_log)
        vsplit = QSplitter(Qt.Orientation.Vertical)
        vsplit.addWidget(out_box)
        vsplit.addWidget(proxy_box)
        vsplit.setStretchFactor(0, 3)
        vsplit.setStretchFactor(1, 1)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(cmd_row)
        self.mounts = QLabel()
        self.mounts.setObjectName("consoleMounts")
        self.mounts.setWordWrap(True)
        self.mounts.setTextFormat(Qt.TextFormat.RichText)
        rv.addWidget(self.mounts)
        rv.addWidget(self.status)
        rv.addWidget(vsplit, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        self._left = left
        split.addWidget(FitArea(left))  # the settings column scrolls rather than squash its fields
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        self._split = split
        self._sized = False
        outer = QVBoxLayout(self)
        outer.addWidget(split)

        self._apply_limits(Limits())
        for sig in (self.data_edit.textChanged, self.allow_edit.textChanged):
            sig.connect(self._refresh_policy)
        self.data_edit.textChanged.connect(self._show_mounts)
        self._show_mounts()
        for spin in (self.timeout, self.memory, self.pids, self.output_cap):
            spin.valueChanged.connect(self._refresh_policy)
        self.backend.currentIndexChanged.connect(self._refresh_policy)
        self.secrets_list.itemChanged.connect(self._refresh_policy)
        self.exposed.toggled.connect(self._on_exposed)
        self._bold = QFont(mono)
        self._bold.setBold(True)

    # ------------------------------------------------------------------ public API

    def set_workspace(self, path: Path | None) -> None:
        """The workspace whose policy, vault and default data folder the console uses.

        Switching workspaces must not keep writing into the previous one: a data folder inside the
        old workspace (its default included) becomes the new one's default, and a skill of the old
        workspace is unmounted."""
        old = self._workspace
        self._workspace = Path(path) if path is not None else None
        text = self.data_edit.text().strip()
        if old is not None and text and _inside(Path(text).expanduser(), old):
            text = ""
        if self._workspace is not None and not text:
            self.data_edit.setText(str(self._workspace / ".skillstudio" / "console-data"))
        elif not text:
            self.data_edit.clear()
        if self._skill is not None and (self._workspace is None or not _inside(self._skill, self._workspace)):
            self.set_skill(None)
        self._load_defaults()
        self.reload_secrets()
        self._show_mounts()

    def set_skill(self, skill_dir: Path | None) -> None:
        """Mount this skill read-only at /skills/<name> and offer its scripts (None: no skill)."""
        self._skill = Path(skill_dir) if skill_dir is not None else None
        self.save_button.setText("Save as the skill's policy" if self._skill else "Save as the workspace's policy")
        current = self.command.currentText()
        self.command.clear()
        self.command.addItems(skill_scripts(self._skill))
        self.command.setEditText(current)
        self._load_defaults()
        self._show_mounts()

    def _show_mounts(self) -> None:
        """Say which skill is mounted where, and which folder is writable: no guessing after a switch."""
        skill = (f"<b>{_escape(self._skill.name)}</b> read-only at <code>/skills/{_escape(self._skill.name)}</code>"
                 if self._skill is not None else "no skill mounted (select one in the tree)")
        data = self.data_edit.text().strip()
        where = f"<code>{_escape(data)}</code> read-write" if data else "no data folder"
        ws = f" · workspace <b>{_escape(self._workspace.name)}</b>" if self._workspace is not None else ""
        self.mounts.setText(f"Skill: {skill} · Data: {where}{ws}")
        self.mounts.setToolTip(f"Skill folder: {self._skill or '(none)'}\nData folder: {data or '(none)'}")

    def request(self) -> ConsoleRequest:
        """What the form says, as the core's request."""
        mem, pids = self.memory.value(), self.pids.value()
        limits = Limits(wall_s=self.timeout.value(), memory_mb=mem or None, pids=pids or None,
                        output_bytes=self.output_cap.value() * 1000, cpu_s=self._cpu_s, file_size_mb=self._fsize)
        text = self.data_edit.text().strip()
        allow = [d for d in self.allow_edit.text().replace(",", " ").split() if d]
        return ConsoleRequest(backend=self.backend.currentData(), data_dir=Path(text).expanduser() if text else None,
                              allow=allow, limits=limits, skill_dir=self._skill, secrets=self.selected_secrets(),
                              exposed=self.exposed.isChecked(), workspace=self._workspace, env=dict(self._env),
                              deny_write=list(self._deny_write) if self._deny_write is not None else None)

    def selected_secrets(self) -> list[str]:
        out = []
        for i in range(self.secrets_list.count()):
            item = self.secrets_list.item(i)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable and item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    @Slot()
    def save_policy(self) -> Path | None:
        """Save domains and limits as the skill's policy (the workspace's when no skill is set)."""
        from skillstudio.sandbox.policy import PolicySettings, save_settings

        if self._workspace is None:
            self.status.setText("Open a workspace first: policies are saved in it.")
            return None
        req = self.request()
        try:
            settings = PolicySettings(network={"allow": req.allow}, limits=req.limits, env=req.env,
                                      **({"deny_write": req.deny_write} if req.deny_write is not None else {}))
            skill = self._skill.resolve().name.lower() if self._skill is not None else None
            path = save_settings(self._workspace, settings, skill)
        except (ValueError, OSError) as exc:
            self.status.setText(f"Not saved: {str(exc).splitlines()[-1].strip()}")
            return None
        self.status.setText(f"Policy saved: {path}")
        return path

    @property
    def running(self) -> bool:
        return self._token is not None

    @Slot()
    def run_command(self) -> None:
        if self._closed or self.running:
            return
        command = self.command.currentText().strip()
        if not command:
            self.status.setText("Type a command or pick one of the skill's scripts.")
            return
        req = self.request()
        self.output.clear()
        self.proxy_log.clear()
        self.last_result = None
        self.status.setStyleSheet("")
        self._write("stdout", f"$ {command}\n", bold=True)
        if req.exposed and req.secrets:
            self._write("stderr", f"[secret exposed: {', '.join(req.secrets)} — the tool holds the raw values; "
                                  "output is redacted, unbound hosts are refused]\n", bold=True)
        self.status.setText(f"Running in the {req.backend} sandbox…")
        self.run_button.setEnabled(False)
        self.kill_button.setEnabled(True)
        self._run_id, self._token = self._pool.start(
            partial(_run_job, req, command), on_result=self._on_done, on_error=self._on_failed,
            on_event=self._on_event, on_finished=self._on_finished, after_cancel=True)
        self.sig_started.emit(self._run_id)

    @Slot()
    def kill(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.status.setText("Killing the process tree…")
            self.kill_button.setEnabled(False)

    def shutdown(self) -> None:
        """Cancel a running command and wait for the worker (the window is closing)."""
        self._closed = True
        self._pool.shutdown()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's naming
        super().showEvent(event)
        if not self._sized:  # settings take 40% of the width, output the rest
            self._sized = True
            total = max(self._split.width(), 800)
            left = min(max(total * 2 // 5, self._left.minimumSizeHint().width() + 20), total * 3 // 5)
            self._split.setSizes([left, total - left])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's naming
        self.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------ slots from the worker

    def _on_event(self, run_id: int, event: object) -> None:
        if isinstance(event, _Output):
            self._on_output(run_id, event.stream, event.text)
        elif isinstance(event, ProxyEvent):
            self._on_proxy(run_id, _event_line(event), event.allowed)

    @Slot(int, str, str)
    def _on_output(self, run_id: int, stream: str, text: str) -> None:
        if run_id == self._run_id:
            self._write(stream, text)
            self.sig_output.emit(stream, text)

    @Slot(int, str, bool)
    def _on_proxy(self, run_id: int, line: str, allowed: bool) -> None:
        if run_id != self._run_id:
            return
        fmt = QTextCharFormat()
        fmt.setForeground(ALLOWED_COLOR if allowed else REFUSED_COLOR)
        cursor = self.proxy_log.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not self.proxy_log.document().isEmpty():
            cursor.insertText("\n")
        cursor.insertText(line, fmt)
        self.proxy_log.setTextCursor(cursor)
        self.proxy_log.ensureCursorVisible()

    @Slot(int, object)
    def _on_done(self, run_id: int, result: object) -> None:
        if run_id != self._run_id or not isinstance(result, ConsoleResult):
            return
        self.last_result = result
        r = result.result
        if r.cancelled:
            verdict = f"killed (exit {r.exit_code})"
        elif r.timed_out:
            verdict = f"timed out after {self.timeout.value():g} s, process tree killed (exit {r.exit_code})"
        else:
            verdict = f"exit {r.exit_code}"
        extra = " · output truncated" if r.truncated else ""
        extra += " · SECRET EXPOSED" if result.secret_exposed else ""
        self.status.setText(f"{verdict} · {r.duration_s:.2f} s{extra}")
        self.status.setStyleSheet("color: #b9770e; font-weight: bold;" if result.secret_exposed else "")
        for w in result.warnings:
            if not w.startswith("secret exposed"):  # already marked at the top of the output
                self._write("stderr", f"\n[{w}]\n", bold=True)
        self._idle()
        self.sig_finished.emit(result)

    @Slot(int, str)
    def _on_failed(self, run_id: int, message: str) -> None:
        if run_id != self._run_id:
            return
        self.status.setText(f"Could not run: {message}")
        self._write("stderr", message + "\n", bold=True)
        self._idle()
        self.sig_finished.emit(None)

    @Slot(int)
    def _on_finished(self, run_id: int) -> None:
        if run_id == self._run_id and self._token is not None:
            self._idle()

    def _idle(self) -> None:
        """Ready for the next run (before sig_finished goes out, so a listener may start one)."""
        self._token = None
        self.run_button.setEnabled(not self._closed)
        self.kill_button.setEnabled(False)

    # ------------------------------------------------------------------ form helpers

    def _write(self, stream: str, text: str, bold: bool = False) -> None:
        fmt = QTextCharFormat()
        if stream == "stderr":
            fmt.setForeground(STDERR_COLOR)
        if bold:
            fmt.setFontWeight(QFont.Weight.Bold)
        cursor = self.output.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, fmt)
        self.output.setTextCursor(cursor)
        self.output.ensureCursorVisible()

    def _apply_limits(self, lim: Limits) -> None:
        self.timeout.setValue(lim.wall_s)
        self.memory.setValue(lim.memory_mb or 0)
        self.pids.setValue(lim.pids or 0)
        self.output_cap.setValue(max(1, lim.output_bytes // 1000))
        self._cpu_s = lim.cpu_s
        self._fsize = lim.file_size_mb

    def _load_defaults(self) -> None:
        d = defaults(self._workspace, self._skill)
        self._env = dict(d.env)
        self._deny_write = d.deny_write
        self._apply_limits(d.limits)
        self.allow_edit.setText(", ".join(d.allow))
        self._refresh_policy()

    def reload_secrets(self) -> None:
        """The vault's secret names, read again (a secret was added or deleted elsewhere)."""
        from skillstudio.secrets.vault import Vault

        self.secrets_list.blockSignals(True)
        self.secrets_list.clear()
        names: dict[str, str] = {}
        problems = []
        for scope, vault_ws in (("workspace", self._workspace), ("user", None)):
            if scope == "workspace" and vault_ws is None:
                continue
            try:
                for meta in Vault(vault_ws).list():
                    bound = ", ".join(meta.domains) or "no domain yet"
                    names.setdefault(meta.name, f"{meta.name}  →  {bound}  ({scope})")
            except Exception as exc:  # noqa: BLE001 - a broken bindings file: say it, keep going
                problems.append(str(exc).splitlines()[0])
        for name, label in sorted(names.items()):
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.secrets_list.addItem(item)
        self.secrets_list.blockSignals(False)
        note = "No secrets yet: add them in the Secrets manager." if not names else \
            "Checked secrets are attached as placeholders; the sidecar adds the value for bound domains only."
        self.secrets_note.setText("; ".join(problems) or note)
        self._refresh_policy()

    @Slot()
    def _choose_data(self) -> None:
        start = self.data_edit.text() or str(self._workspace or Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "Data folder for the sandbox", start)
        if chosen:
            self.data_edit.setText(chosen)

    @Slot(bool)
    def _on_exposed(self, on: bool) -> None:
        self.exposed_warning.setVisible(on)
        self._refresh_policy()

    @Slot()
    def _refresh_policy(self, *_: Any) -> None:
        try:
            req = self.request()
        except ValueError as exc:
            self.policy_view.setPlainText(f"not runnable yet: {str(exc).splitlines()[-1].strip()}")
            return
        domains: list[str] = []
        if req.secrets:
            from skillstudio.secrets.vault import find

            for name in req.secrets:
                try:
                    domains += find(name, self._workspace).get(name).domains
                except Exception:  # noqa: BLE001 - shown as unbound; the run itself reports errors
                    continue
        self.policy_view.setPlainText("\n".join(describe(req, domains)))
