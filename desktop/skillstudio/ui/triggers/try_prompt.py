"""Try a prompt: type it, see which skill the model picks (and its raw first shell call — or, for the
offline estimate, every skill's score), then keep it as a trigger or no_trigger case in one click.

The request runs in a `TryJob` on this widget's thread pool (never touching widgets; it only emits
on `TryJobSignals`), against the same catalog and routers as a full run. Saving appends the case
to the skill's `evals/triggers.yaml` as text, so the file's comments and quoting survive; if the
file's layout does not allow a safe append, the cases are written out in our format instead —
either way the result is parsed back and checked before an atomic write replaces the file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont, QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.bundle.fileio import atomic_write, read_text_file
from skillstudio.bundle.triggers import TRIGGERS_PATH, TriggerCase, TriggersError, dump_cases, parse_cases
from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.ui.common.font_scale import relative_font
from skillstudio.ui.common.provider_form import OFFLINE, ProviderChoice, ProviderForm, build_router
from skillstudio.ui.triggers.summary import ESTIMATE_TEXT, fmt_seconds, make_banner

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- saving a case (Qt-free)


def _item_indent(text: str) -> str | None:
    """Indentation of the items of the top-level `cases:` list, if the file has that layout."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\ufeff?cases:\s*(#.*)?$", line):
            for nxt in lines[i + 1:]:
                m = re.match(r"^(\s*)- ", nxt)
                if m:
                    return m.group(1)
            return None
    return None


def _render_item(case: TriggerCase, indent: str, nl: str) -> str:
    lines = [f"{indent}- prompt: {json.dumps(case.prompt, ensure_ascii=False)}",
             f"{indent}  expect: {case.expect}"]
    if case.why:
        lines.append(f"{indent}  why: {json.dumps(case.why, ensure_ascii=False)}")
    return nl.join(lines) + nl


def append_case(skill_dir: Path, prompt: str, expect: str, why: str | None = None) -> Path:
    """Add one case to `skill_dir/evals/triggers.yaml`; the file's existing text is kept as written.

    Raises SkillStudioError when the prompt is empty, already a case of this skill, or the file is
    unreadable or broken (the user fixes it first: we never overwrite cases we could not read).
    """
    prompt = prompt.strip()
    if not prompt:
        raise SkillStudioError("the prompt is empty", "type the prompt to keep as a case")
    if expect not in ("trigger", "no_trigger"):
        raise SkillStudioError(f"expect must be trigger or no_trigger, not {expect!r}")
    new = TriggerCase(prompt=prompt, expect=expect, why=(why or "").strip() or None)
    path = Path(skill_dir) / TRIGGERS_PATH
    text = ""
    existing: list[TriggerCase] = []
    if path.exists():
        try:
            text = read_text_file(path)
            existing = parse_cases(text, str(TRIGGERS_PATH))
        except (OSError, ValueError) as exc:  # TriggersError is a ValueError
            raise SkillStudioError(f"{skill_dir.name}/{TRIGGERS_PATH}: {exc}",
                                   "fix the file first (open the skill's trigger cases); nothing was changed") from None
    for c in existing:
        if c.prompt.strip() == prompt:
            raise SkillStudioError(f"{skill_dir.name} already has this prompt as a {c.expect} case",
                                   "edit it in the skill's trigger cases instead")
    wanted = [*existing, new]
    candidate: str | None = None
    indent = _item_indent(text) if text.strip() else None
    if indent is not None:
        nl = "\r\n" if "\r\n" in text else "\n"
        body = text if text.endswith(("\n", "\r")) else text + nl
        candidate = body + _render_item(new, indent, nl)
        try:
            if parse_cases(candidate) != wanted:
                candidate = None
        except TriggersError:
            candidate = None
    if candidate is None:  # empty file, other layout, or the append would not read back: our format
        candidate = dump_cases(wanted)
    atomic_write(path, candidate)
    return path


# ---------------------------------------------------------------------------- the background request


@dataclass
class TryResult:
    prompt: str
    estimate: bool = False
    model: str = ""
    selected: str | None = None
    first_command: str | None = None
    scores: list[tuple[str, float]] = field(default_factory=list)  # offline: best first
    min_score: float = 0.0
    ttft_s: float | None = None
    latency_s: float | None = None
    usage: dict[str, int] | None = None
    events: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    error: str | None = None


class TryJobSignals(QObject):
    sig_done = Signal(object)  # TryResult, always exactly once


def _suite_for(workspace: Path) -> Any:
    """The workspace's catalog (and cases, for the estimator's counter-evidence), forgivingly:
    a try needs no trigger cases, and a broken skill is left out rather than blocking the try."""
    from skillstudio.bundle.workspace import load_workspace
    from skillstudio.evals.suite import SKILLS_ROOT, CatalogEntry, Suite, SuiteCase

    ws = load_workspace(workspace, with_files=False)
    catalog: list[CatalogEntry] = []
    cases: list[SuiteCase] = []
    seen: set[str] = set()
    for skill in ws.skills:
        if skill.parse_error or not skill.description or skill.name in seen:
            continue
        seen.add(skill.name)
        catalog.append(CatalogEntry(skill.name, skill.description, f"{SKILLS_ROOT}/{skill.name}", skill.version))
        if not skill.cases_error:
            cases += [SuiteCase(len(cases), skill.name, c.prompt, c.expect, c.why) for c in skill.cases]
    if not catalog:
        raise SkillStudioError(f"{workspace}: no skill with a readable SKILL.md and description",
                               "fix the skills (the Problems panel shows why)")
    root = ws.root if ws.root.is_dir() else ws.root.parent
    return Suite(root, catalog, cases)


class TryJob(QRunnable):
    """One prompt against the catalog; never touches a widget (pool thread)."""

    def __init__(self, workspace: Path, prompt: str, choice: ProviderChoice, token: CancelToken,
                 signals: TryJobSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.workspace, self.prompt, self.choice, self.token, self.signals = workspace, prompt, choice, token, signals

    def run(self) -> None:
        result = TryResult(self.prompt, estimate=self.choice.kind == OFFLINE)
        try:
            self._run(result)
        except SkillStudioError as exc:
            result.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the app
            log.error("try a prompt failed:\n%s", traceback.format_exc())
            result.error = f"unexpected {exc.__class__.__name__}: {exc}"
        finally:
            self.signals.sig_done.emit(result)

    def _run(self, result: TryResult) -> None:
        from skillstudio.evals.routers.offline import OfflineRouter
        from skillstudio.evals.runner import try_prompt

        suite = _suite_for(self.workspace)
        result.skills = [e.name for e in suite.catalog]
        router = build_router(self.choice)
        result.model = "offline estimate" if router.is_estimate else f"{router.model} ({router.kind})"
        if isinstance(router, OfflineRouter):  # the estimator can say *why*: every skill's score
            router.prepare(suite)
            result.scores = sorted(router.scores(self.prompt).items(), key=lambda kv: -kv[1])
            result.min_score = router.min_score

        async def go() -> Any:
            """The core's one-shot `try_prompt`, abandoned as soon as the user cancels."""
            task = asyncio.ensure_future(try_prompt(suite, router, self.prompt, timeout_s=self.choice.timeout_s))
            try:
                while not task.done():
                    if self.token.cancelled:
                        return None
                    await asyncio.wait({task}, timeout=0.05)
                return task.result()
            finally:
                if not task.done():
                    task.cancel()  # closes the request; the core's try_prompt still closes the router
                await asyncio.gather(task, return_exceptions=True)

        routed = asyncio.run(go())
        if routed is None:
            result.error = "Cancelled."
            return
        result.selected = routed.selected
        result.first_command = routed.first_command
        result.ttft_s, result.latency_s, result.usage = routed.ttft_s, routed.latency_s, routed.usage
        result.events = list(routed.raw_events_summary)


# ---------------------------------------------------------------------------- the widget


class TryPromptWidget(QWidget):
    """Type a prompt, pick a provider, Try (Ctrl+Enter); then save it as a case of a chosen skill."""

    sig_case_saved = Signal(object, str)  # skill folder (Path), expect
    sig_tried = Signal(object)  # TryResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workspace: Path | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._token: CancelToken | None = None
        self._signals: TryJobSignals | None = None
        self.result: TryResult | None = None

        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("try_prompt_text")
        self.prompt.setPlaceholderText("Type a prompt a user might send, e.g. “Pull the Q3 pipeline for Acme "
                                       "from Salesforce” — then press Try (Ctrl+Enter).")
        self.prompt.setTabChangesFocus(True)
        self.prompt.setMaximumHeight(110)
        self.provider = ProviderForm(self, run_options=False)
        self.try_button = QPushButton("Try")
        self.try_button.setObjectName("try_button")
        self.try_button.setToolTip("Send this prompt against the whole catalog (Ctrl+Enter)")
        self.try_button.clicked.connect(self.try_prompt)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(self.try_prompt)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.try_button)

        # --- answer
        self.estimate_banner = make_banner("try_estimate_banner", "estimate")
        self.estimate_banner.setText(ESTIMATE_TEXT)
        self.picked = QLabel()
        self.picked.setObjectName("try_picked")
        self.picked.setTextFormat(Qt.TextFormat.RichText)
        self.picked.setWordWrap(True)
        relative_font(self.picked, 1.3)
        self.raw = QPlainTextEdit()
        self.raw.setObjectName("try_raw")
        self.raw.setReadOnly(True)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw.setFixedHeight(64)
        self.raw.setPlaceholderText("The model's raw first shell call appears here.")
        self.scores = QTableWidget(0, 2)
        self.scores.setObjectName("try_scores")
        self.scores.setHorizontalHeaderLabels(["Skill", "Score"])
        self.scores.verticalHeader().hide()
        self.scores.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.scores.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.scores.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.scores.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.detail = QLabel()
        self.detail.setObjectName("try_detail")
        self.detail.setWordWrap(True)
        self.detail.setProperty("role", "hint")
        self.scores.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
        self.raw_label = QLabel("The model's first shell call, as sent (nothing is executed):")
        self.raw_label.setProperty("role", "hint")
        answer = QGroupBox("What was picked")
        al = QVBoxLayout(answer)
        al.addWidget(self.estimate_banner)
        al.addWidget(self.picked)
        al.addWidget(self.raw_label)
        al.addWidget(self.raw)
        al.addWidget(self.scores)
        al.addWidget(self.detail)
        al.addStretch(1)

        # --- save as a case
        self.save_skill = QComboBox()
        self.save_skill.setToolTip("Skill whose trigger cases the prompt is saved to")
        self.save_skill.setObjectName("save_skill")
        self.save_skill.setMinimumContentsLength(18)
        self.why = QLineEdit()
        self.why.setToolTip("Why this prompt should (or should not) trigger; saved with the case")
        self.why.setObjectName("save_why")
        self.why.setPlaceholderText("why (optional) — e.g. “refund tickets belong to support-reply”")
        self.save_trigger = QPushButton("Save as trigger")
        self.save_trigger.setObjectName("save_trigger")
        self.save_trigger.setToolTip("This skill SHOULD fire for this prompt")
        self.save_no_trigger = QPushButton("Save as no_trigger")
        self.save_no_trigger.setObjectName("save_no_trigger")
        self.save_no_trigger.setToolTip("This skill should NOT fire for this prompt (a near miss)")
        self.save_trigger.clicked.connect(self._save_trigger)
        self.save_no_trigger.clicked.connect(self._save_no_trigger)
        self.save_status = QLabel()
        self.save_status.setObjectName("save_status")
        self.save_status.setWordWrap(True)
        save = QGroupBox("Keep it as a test case")
        sl = QVBoxLayout(save)
        row = QHBoxLayout()
        row.addWidget(QLabel("Skill"))
        row.addWidget(self.save_skill)
        row.addWidget(self.why, 1)
        sl.addLayout(row)
        row2 = QHBoxLayout()
        row2.addWidget(self.save_trigger)
        row2.addWidget(self.save_no_trigger)
        row2.addWidget(self.save_status, 1)
        sl.addLayout(row2)

        self.error = make_banner("try_error", "warning")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Prompt"))
        lay.addWidget(self.prompt)
        lay.addWidget(self.provider)
        lay.addLayout(buttons)
        lay.addWidget(self.error)
        lay.addWidget(answer, 1)
        lay.addWidget(save)
        self.prompt.textChanged.connect(self._update_buttons)
        self._show_result(None)
        self._update_buttons()

    # ------------------------------------------------------------------ workspace

    def set_workspace(self, path: Path) -> None:
        self._workspace = Path(path)
        self.refresh_skills()
        self._update_buttons()

    def refresh_skills(self) -> None:
        from skillstudio.bundle.workspace import workspace_skill_dirs

        current = self.save_skill.currentData()
        self.save_skill.clear()
        if self._workspace is not None:
            for d in workspace_skill_dirs(self._workspace) or [self._workspace]:
                self.save_skill.addItem(d.name, str(d))
        idx = self.save_skill.findData(current)
        if idx >= 0:
            self.save_skill.setCurrentIndex(idx)

    # ------------------------------------------------------------------ try

    @property
    def busy(self) -> bool:
        return self._token is not None

    @Slot()
    def try_prompt(self) -> None:
        text = self.prompt.toPlainText().strip()
        if self.busy or not text:
            return
        if self._workspace is None:
            self._show_error("Open a workspace first: a prompt is tried against its skills.")
            return
        self.error.hide()
        self.provider.remember()
        self._token = CancelToken()
        self._signals = TryJobSignals()
        self._signals.sig_done.connect(self._on_done)
        self.picked.setText("Asking…")
        self._pool.start(TryJob(self._workspace, text, self.provider.choice(), self._token, self._signals))
        self._update_buttons()

    @Slot()
    def cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()

    @Slot(object)
    def _on_done(self, result: object) -> None:
        if self.sender() is not self._signals:
            return
        self._token, self._signals = None, None
        assert isinstance(result, TryResult)
        self._update_buttons()
        if result.error:
            self._show_result(None)
            self._show_error(result.error)
            return
        self._show_result(result)
        self.sig_tried.emit(result)

    def _show_result(self, r: TryResult | None) -> None:
        self.result = r
        self.estimate_banner.setVisible(bool(r and r.estimate))
        if r is None:
            self.picked.setText("<span>Nothing tried yet. Type a prompt above and press <b>Try</b> to see "
                                "which skill it reaches.</span>")
            self.raw.clear()
            self.raw.setVisible(False)
            self.raw_label.setVisible(False)
            self.scores.setVisible(False)
            self.detail.clear()
            return
        who = "The offline estimate" if r.estimate else r.model
        if r.selected:
            self.picked.setText(f"{who} picked <b>{r.selected}</b>")
            idx = self.save_skill.findText(r.selected)
            if idx >= 0:
                self.save_skill.setCurrentIndex(idx)
        else:
            self.picked.setText(f"{who} picked <b>no skill</b> — it would answer directly")
        self.raw_label.setVisible(not r.estimate)
        if r.estimate:
            self.raw.setVisible(False)
            self.scores.setVisible(True)
            self.scores.setRowCount(len(r.scores))
            for row, (name, score) in enumerate(r.scores):
                name_item = QTableWidgetItem(name)
                score_item = QTableWidgetItem(f"{score:.2f}")
                score_item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if name == r.selected:
                    bold = QFont(name_item.font())
                    bold.setBold(True)
                    name_item.setFont(bold)
                    score_item.setFont(bold)
                self.scores.setItem(row, 0, name_item)
                self.scores.setItem(row, 1, score_item)
            self.detail.setText(f"BM25 score over name + description, lowered by similarity to the skill's "
                                f"no_trigger cases. A skill is picked when its score is at least "
                                f"{r.min_score:g}.")
        else:
            self.scores.setVisible(False)
            self.raw.setVisible(True)
            self.raw.setPlainText(r.first_command or "(no shell call — the model answered in text)")
            parts = []
            if r.ttft_s is not None:
                parts.append(f"TTFT {fmt_seconds(r.ttft_s)}")
            if r.latency_s is not None:
                parts.append(f"latency {fmt_seconds(r.latency_s)}")
            if r.usage:
                parts.append(f"tokens {r.usage.get('input_tokens', 0)} in / {r.usage.get('output_tokens', 0)} out")
            if r.events:
                parts.append("stream events: " + ", ".join(r.events[:12]))
            self.detail.setText(" · ".join(parts))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    # ------------------------------------------------------------------ save

    @Slot()
    def _save_trigger(self) -> None:
        self.save_case("trigger")

    @Slot()
    def _save_no_trigger(self) -> None:
        self.save_case("no_trigger")

    def save_case(self, expect: str) -> Path | None:
        skill_dir = self.save_skill.currentData()
        if not skill_dir:
            self._saved("Open a workspace with skills first.", ok=False)
            return None
        try:
            path = append_case(Path(skill_dir), self.prompt.toPlainText(), expect, self.why.text())
        except SkillStudioError as exc:
            self._saved(str(exc), ok=False)
            return None
        except OSError as exc:
            self._saved(f"could not save: {exc.strerror or exc} — check that the folder is writable", ok=False)
            return None
        name = Path(skill_dir).name
        self._saved(f"Saved as a {expect} case of {name} ({name}/{TRIGGERS_PATH.as_posix()}).", ok=True)
        self.why.clear()
        self.sig_case_saved.emit(Path(skill_dir), expect)
        return path

    def _saved(self, text: str, *, ok: bool) -> None:
        self.save_status.setText(text)
        self.save_status.setStyleSheet("color:#17692f;" if ok else "color:#b02a1f;")

    def _update_buttons(self) -> None:
        has_text = bool(self.prompt.toPlainText().strip())
        self.try_button.setEnabled(not self.busy and has_text and self._workspace is not None)
        self.cancel_button.setEnabled(self.busy)
        ready = has_text and self.save_skill.count() > 0
        self.save_trigger.setEnabled(ready)
        self.save_no_trigger.setEnabled(ready)

    # ------------------------------------------------------------------ shutdown

    def shutdown(self) -> None:
        """Cancel a pending try and wait for its thread (the window calls this when it closes)."""
        if self._token is not None:
            self._token.cancel()
        self._pool.waitForDone()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)
