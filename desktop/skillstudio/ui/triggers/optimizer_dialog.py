"""The description optimizer in the app: run `services.optimize` on a worker, show a word diff, accept or reject.

Why a dialog and not a panel: the result is a single decision (take the new description or not), and the
edit must land in the SKILL.md editor as one undo step — never written behind the user's back.
Scores come from the router chosen in the shared provider form (the offline estimate is allowed and
labelled as an estimate); proposals always come from a model over `/chat/completions`, because an
estimator cannot write a description. The service saves the whole suite's "before" run (and the "after"
run when a proposal won) to the history, exactly as `skillstudio optimize` does.

`optimizer_job` runs on this dialog's WorkerPool and NEVER touches a widget: its candidates and the
service's status lines travel as events of its WorkerContext to @Slot methods here.
"""

from __future__ import annotations

import difflib
import html
import logging
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from skillstudio.bundle import skillmd
from skillstudio.bundle.model import find_skill_md
from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.ui.common.contracts import EditorHost
from skillstudio.ui.common.provider_form import ProviderChoice, ProviderForm
from skillstudio.ui.common.workers import JobMessage, WorkerContext, WorkerPool

log = logging.getLogger(__name__)

SUGGESTED_WHY = "near miss suggested by the description optimizer"


@dataclass
class OptimizerOutcome:
    """What the worker hands to the GUI thread: plain data only."""

    result: Any = None  # evals.optimizer.OptimizeResult
    saved_runs: list[str] = field(default_factory=list)  # run ids of the before/after runs
    save_error: str | None = None
    error: str | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class OptimizerJobSpec:
    """The dialog's form as plain values (read in the GUI thread, used on the worker)."""

    workspace: Path
    skill: str
    choice: ProviderChoice
    proposer_url: str
    proposer_model: str
    iterations: int
    seed: int


def optimizer_job(spec: OptimizerJobSpec, ctx: WorkerContext) -> OptimizerOutcome:
    """Build the suite, optimize one skill's description, save the before/after runs (pool thread)."""
    from skillstudio.services.optimize import OptimizeRequest, ProposerChoice, optimize_and_record
    from skillstudio.ui.common.provider_form import run_options, service_choice

    c = spec.choice
    proposer = ProposerChoice(base_url=spec.proposer_url or None, timeout_s=c.timeout_s,
                              **({"model": spec.proposer_model} if spec.proposer_model else {}))
    done = optimize_and_record(
        OptimizeRequest(workspace=spec.workspace, skill=spec.skill, provider=service_choice(c), proposer=proposer,
                        options=run_options(c), iterations=spec.iterations, seed=spec.seed),
        ctx.job_context(), on_candidate=ctx.event)
    return OptimizerOutcome(result=done.result, saved_runs=done.saved_runs, save_error=done.save_error,
                            cancelled=done.cancelled)


_DEL = '<span style="background:#fbd3d0;color:#8a1c12;text-decoration:line-through">{}</span>'
_INS = '<span style="background:#cdeccf;color:#13561b">{}</span>'


def word_diff_html(old: str, new: str) -> str:
    """Old and new text as one paragraph: removed words struck out in red, added words in green.
    A rewrite (little in common) shows the whole old text, then the whole new one: word-by-word
    interleaving of two unrelated sentences is unreadable."""
    a, b = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < 0.4:
        return (f'<p style="line-height:140%">{_DEL.format(html.escape(old))}</p>'
                f'<p style="line-height:140%">{_INS.format(html.escape(new))}</p>')
    parts: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(html.escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            parts.append(_DEL.format(html.escape("".join(a[i1:i2]))))
        if op == "replace":
            parts.append(" ")
        if op in ("insert", "replace"):
            parts.append(_INS.format(html.escape("".join(b[j1:j2]))))
    return f'<p style="line-height:140%">{"".join(parts)}</p>'


def _fmt(score: float | None) -> str:
    return "—" if score is None else f"{score:.0%}"


class OptimizerDialog(QDialog):
    """Provider + budget, Start/Cancel, live candidates, then the diff to Accept or Reject."""

    sig_accepted = Signal(str, list)  # new description, suggested no_trigger prompts the user ticked
    sig_finished = Signal(object)  # OptimizerOutcome of a run: done, cancelled or stopped

    def __init__(self, workspace: Path, skill_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.skill_dir = Path(workspace), Path(skill_dir)
        self.skill = self._skill_name()
        self.setWindowTitle(f"Optimize the description — {self.skill}")
        self.setObjectName("optimizer_dialog")
        self.outcome: OptimizerOutcome | None = None
        self._token: CancelToken | None = None
        self._job: int | None = None
        self._pool = WorkerPool(self, max_threads=1)
        self._build()

    def _skill_name(self) -> str:
        md = find_skill_md(self.skill_dir)
        try:
            from skillstudio.bundle.fileio import read_text_file

            fm, _ = skillmd.load_front_matter(read_text_file(md)) if md else ({}, None)
            name = fm.get("name") if isinstance(fm, dict) else None
        except (OSError, ValueError):
            name = None
        return str(name or self.skill_dir.name)

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.provider = ProviderForm(self, run_options=True)
        scoring = QGroupBox("Scoring (the whole catalog competes, as in the Test panel)")
        QVBoxLayout(scoring).addWidget(self.provider)

        self.proposer_url = QLineEdit(self.provider.base_url.text())
        self.proposer_url.setObjectName("proposer_url")
        self.proposer_url.setPlaceholderText("empty = OpenAI; or e.g. http://localhost:11434/v1")
        self.proposer_model = QLineEdit(self.provider.model.text())
        self.proposer_model.setObjectName("proposer_model")
        self.iterations = QSpinBox()
        self.iterations.setObjectName("iterations")
        self.iterations.setRange(1, 20)
        self.iterations.setValue(3)
        self.iterations.setToolTip("Proposals to try at most; each is scored on both halves of the cases.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 9999)
        self.seed.setToolTip("Seed of the fixed, stratified 60/40 train/validation split.")
        proposing = QGroupBox("Proposing model (OpenAI-compatible /chat/completions)")
        form = QFormLayout(proposing)
        form.addRow("Base URL", self.proposer_url)
        form.addRow("Model", self.proposer_model)
        budget = QHBoxLayout()
        budget.addWidget(self.iterations)
        budget.addWidget(QLabel("Split seed"))
        budget.addWidget(self.seed)
        budget.addStretch(1)
        form.addRow("Iterations", budget)
        note = QLabel("The model sees only the training failures; the best proposal by validation score wins. "
                      "Nothing is written until you accept.")
        note.setWordWrap(True)
        note.setProperty("role", "hint")
        form.addRow(note)

        self.progress = QProgressBar()
        self.progress.setObjectName("optimizer_progress")
        self.status = QLabel("Not started.")
        self.status.setObjectName("optimizer_status")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("candidates")
        self.table.setHorizontalHeaderLabels(["#", "Train", "Validation", "Note", "Description"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(120)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.scores = QLabel()
        self.scores.setObjectName("optimizer_scores")
        self.diff = QTextBrowser()
        self.diff.setObjectName("optimizer_diff")
        self.diff.setMinimumHeight(110)
        self.diff.document().setDefaultFont(self.font())  # prose, not code
        self.suggestions = QListWidget()
        self.suggestions.setObjectName("suggested_cases")
        self.suggestions.setMaximumHeight(110)
        self.result_box = QGroupBox("Result")
        rl = QVBoxLayout(self.result_box)
        rl.addWidget(self.scores)
        rl.addWidget(self.diff, 1)
        self.suggest_label = QLabel("Suggested near-miss no_trigger cases (ticked ones are added):")
        rl.addWidget(self.suggest_label)
        rl.addWidget(self.suggestions)
        self.result_box.setVisible(False)

        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setEnabled(False)
        self.accept_button = QPushButton("Accept")
        self.accept_button.setObjectName("accept")
        self.accept_button.setEnabled(False)
        self.reject_button = QPushButton("Reject")
        self.reject_button.setObjectName("reject")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.accept_button.clicked.connect(self._on_accept)
        self.reject_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.accept_button)

        top = QHBoxLayout()
        top.addWidget(scoring, 3)
        top.addWidget(proposing, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.result_box, 2)
        layout.addLayout(buttons)
        self.resize(1100, 760)

    # ---------------------------------------------------------------- run
    @property
    def running(self) -> bool:
        return self._token is not None

    @Slot()
    def start(self) -> None:
        if self.running or self._pool.closed:
            return
        self.provider.remember()
        self.outcome = None
        self.table.setRowCount(0)
        self.result_box.setVisible(False)
        self.accept_button.setEnabled(False)
        self.progress.setRange(0, self.iterations.value() + 1)
        self.progress.setValue(0)
        self.status.setText("Starting…")
        self.start_button.setEnabled(False)
        self.accept_button.setDefault(False)
        self.cancel_button.setEnabled(True)
        spec = OptimizerJobSpec(self.workspace, self.skill, self.provider.choice(), self.proposer_url.text().strip(),
                                self.proposer_model.text().strip(), self.iterations.value(), self.seed.value())
        self._job, self._token = self._pool.start(
            partial(optimizer_job, spec), on_result=self._on_done, on_error=self._on_failed,
            on_event=self._on_event, on_finished=self._on_finished, after_cancel=True)

    @Slot()
    def cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    @Slot(int, object)
    def _on_event(self, job: int, event: object) -> None:
        if job != self._job:
            return
        if isinstance(event, JobMessage):
            self._on_message(event.text)
        else:
            self._on_candidate(event)

    def _on_message(self, text: str) -> None:
        if self.running and not (self._token and self._token.cancelled):
            self.status.setText(text[:1].upper() + text[1:] + "…")

    def _on_candidate(self, cand: Any) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for col, value in enumerate((str(cand.iteration), _fmt(cand.train_score), _fmt(cand.val_score),
                                     cand.note, cand.description)):
            item = QTableWidgetItem(value)
            item.setToolTip(cand.description if col == 4 else value)
            self.table.setItem(r, col, item)
        for col in range(4):  # the description column stretches and elides: a long one must not hide the rest
            self.table.resizeColumnToContents(col)
        self.progress.setValue(min(self.progress.maximum(), r + 1))

    @Slot(int, str)
    def _on_failed(self, job: int, message: str) -> None:
        self._on_done(job, OptimizerOutcome(error=message))

    @Slot(int)
    def _on_finished(self, job: int) -> None:
        """Last word of a job: if it brought no outcome, it stopped quietly on a cancel."""
        self._on_done(job, OptimizerOutcome(cancelled=True))

    @Slot(int, object)
    def _on_done(self, job: int, outcome: object) -> None:
        if job != self._job or not isinstance(outcome, OptimizerOutcome):
            return
        self._token, self._job = None, None
        self.outcome = outcome
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if outcome.cancelled:
            self.status.setText("Cancelled. Nothing was changed.")
        elif outcome.error or outcome.result is None:
            self.status.setText(f"Stopped: {outcome.error or 'no result'}")
        else:
            self.progress.setValue(self.progress.maximum())
            self._show_result(outcome)
        self.sig_finished.emit(outcome)

    def _show_result(self, outcome: OptimizerOutcome) -> None:
        res = outcome.result
        before = res.candidates[0]
        estimate = " (offline estimate, not a model result)" if self.provider.choice().is_estimate else ""
        self.scores.setText(f"Validation score: {_fmt(before.val_score)} → {_fmt(res.best.val_score)}{estimate} — "
                            f"train {len(res.train_prompts)} / validation {len(res.val_prompts)} cases")
        if res.improved:
            family = html.escape(self.font().family(), quote=True)  # prose, not code (the theme styles browsers mono)
            self.diff.setHtml(f'<div style="font-family:\'{family}\'">'
                              f"{word_diff_html(res.original, res.best.description)}</div>")
        else:
            self.diff.setHtml("<p>No proposal scored better on the validation cases: "
                              "the current description stays.</p>")
        self.suggestions.clear()
        for prompt in res.negative_suggestions:
            item = QListWidgetItem(prompt)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.suggestions.addItem(item)
        self.suggest_label.setVisible(bool(res.negative_suggestions))
        self.suggestions.setVisible(bool(res.negative_suggestions))
        self.result_box.setVisible(True)
        self.accept_button.setEnabled(res.improved or bool(res.negative_suggestions))
        self.accept_button.setDefault(self.accept_button.isEnabled())
        self.start_button.setText("Run again")
        saved = f"{len(outcome.saved_runs)} run(s) saved to the history"
        self.status.setText(f"Done. {saved}." + (f" {outcome.save_error}" if outcome.save_error else ""))

    def checked_cases(self) -> list[str]:
        return [self.suggestions.item(i).text() for i in range(self.suggestions.count())
                if self.suggestions.item(i).checkState() == Qt.CheckState.Checked]

    @Slot()
    def _on_accept(self) -> None:
        res = self.outcome.result if self.outcome else None
        if res is None:
            return
        self.sig_accepted.emit(res.best.description, self.checked_cases())
        self.accept()

    # ---------------------------------------------------------------- closing
    def shutdown(self) -> None:
        """Cancel a run and wait for its thread: nothing outlives the dialog."""
        self._pool.shutdown()
        self._token, self._job = None, None

    def done(self, result: int) -> None:  # Accept, Reject, Escape all end here
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)


def apply_to_editor(host: EditorHost, skill_dir: Path, new_description: str, cases: list[str]) -> str:
    """Put an accepted result into the open editors, unsaved, so the user reviews and saves (or undoes).

    The description becomes ONE undo step in the SKILL.md tab (opened if needed); the cases are added
    as one undo step in the skill's trigger-cases tab. Returns a one-line summary for the status bar.
    """
    skill_dir = Path(skill_dir).resolve()
    md = find_skill_md(skill_dir)
    if md is None:
        raise SkillStudioError(f"{skill_dir.name}: no SKILL.md found", "reload the workspace")
    tab = host.open_file(md)
    if tab is None:
        raise SkillStudioError(f"cannot open {md.name}", "check that the file is readable")
    said: list[str] = []
    try:
        new_text = skillmd.set_field(tab.buffer_text(), "description", new_description)
    except skillmd.FrontMatterError as exc:
        raise SkillStudioError(f"SKILL.md front matter is broken (line {exc.line})",
                               "fix it, then accept the optimizer's result again") from None
    if tab.apply_text(new_text):
        said.append("description updated (Ctrl+Z undoes it)")
    if cases:
        editor = host.open_cases(skill_dir)
        if editor is None or editor.is_broken():
            said.append("cases not added: evals/triggers.yaml is broken")
        else:
            added = editor.add_new_cases(cases, "no_trigger", SUGGESTED_WHY, "add suggested no_trigger cases")
            said.append(f"{added} no_trigger case(s) added to the cases tab")
    host.show_document(tab)
    return "; ".join(said) + " — review and save." if said else "nothing changed"
