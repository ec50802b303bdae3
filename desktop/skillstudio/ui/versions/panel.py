"""Per-skill versions: history from git, a coloured diff between any two versions, and Release.

All git work runs in `WorkerPool` jobs (skillstudio.bundle.history / release are synchronous and
Qt-free); results come back to @Slot methods here. Each request carries a serial number so a late
answer for a skill the user has already left is dropped instead of shown.

Selecting one version compares it with the working tree (what changed since then); selecting two
(Ctrl+click) compares them, older → newer, whichever order they were clicked in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFont,
    QFontDatabase,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.bundle import history, release
from skillstudio.bundle.model import load_skill
from skillstudio.cancel import CancelToken
from skillstudio.ui.common.banner import set_banner
from skillstudio.ui.common.font_scale import relative_font
from skillstudio.ui.common.theme import current_theme
from skillstudio.ui.common.workers import WorkerPool

WORKING_TREE = "__working_tree__"
COL_VERSION, COL_CHANGE, COL_DATE, COL_COMMIT = range(4)
HISTORY_LIMIT = 500  # newest commits shown; older ones stay reachable with git itself
_ROLE_REV = Qt.ItemDataRole.UserRole
_ROLE_LABEL = Qt.ItemDataRole.UserRole + 1


@dataclass
class HistoryState:
    """What the panel shows for one skill; built on a worker thread from plain data only."""

    is_repo: bool
    commits: list[history.Commit] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # uncommitted files of the skill
    version: str | None = None
    released: list[str] = field(default_factory=list)
    name: str = ""


def _load_state(workspace: Path, skill_dir: Path | None) -> HistoryState:
    if history.find_repo_root(workspace) is None:
        return HistoryState(is_repo=False)
    if skill_dir is None:
        return HistoryState(is_repo=True)
    skill_dir = Path(skill_dir)
    st = HistoryState(is_repo=True, name=history.skill_name(skill_dir))
    st.commits = history.skill_log(workspace, skill_dir, limit=HISTORY_LIMIT)
    st.changes = history.working_changes(workspace, skill_dir)
    st.released = history.released_versions(workspace, skill_dir)
    st.version = load_skill(skill_dir, with_files=False).version
    return st


class DiffHighlighter(QSyntaxHighlighter):
    """Colours a unified diff: additions, removals, hunk headers and file headers."""

    def __init__(self, doc: QTextDocument, theme: str = "light") -> None:
        super().__init__(doc)
        self.set_theme(theme)

    def set_theme(self, theme: str) -> None:
        dark = theme == "dark"

        def fmt(fg: str, bg: str | None = None, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(fg))
            if bg:
                f.setBackground(QColor(bg))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            return f

        self.f_add = fmt("#7ee2a8", "#12361f") if dark else fmt("#116329", "#dafbe1")
        self.f_del = fmt("#ffa198", "#3d1518") if dark else fmt("#a40e26", "#ffebe9")
        self.f_hunk = fmt("#79c0ff", "#152238") if dark else fmt("#0550ae", "#ddf4ff")
        self.f_file = fmt("#e3e5e8" if dark else "#1d1f23", "#2a2d32" if dark else "#eaeef2", bold=True)
        self.f_meta = fmt("#8a8f98")
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if text.startswith("diff --git"):
            self.setFormat(0, len(text), self.f_file)
        elif text.startswith(("+++", "---", "index ", "new file", "deleted file", "rename ", "similarity",
                              "old mode", "new mode", "Binary files", "\\ No newline")):
            self.setFormat(0, len(text), self.f_meta)
        elif text.startswith("@@"):
            self.setFormat(0, len(text), self.f_hunk)
        elif text.startswith("+"):
            self.setFormat(0, len(text), self.f_add)
        elif text.startswith("-"):
            self.setFormat(0, len(text), self.f_del)


class ReleaseDialog(QDialog):
    """Pick patch/minor/major (each shows the version it gives) and write release notes."""

    def __init__(self, name: str, current: str | None, released: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Release {name}")
        self.setMinimumWidth(460)
        lay = QVBoxLayout(self)
        last = released[-1] if released else None
        intro = QLabel(
            f"<b>{name}</b> is at <b>{current or 'no version'}</b>"
            + (f"; the last release is <b>{last}</b>." if last else "; it has not been released yet.")
            + "<br>The skill is validated first; then SKILL.md's version is bumped, CHANGELOG.md gets "
              f"an entry, and the folder is committed and tagged <code>{name}/v&lt;version&gt;</code>.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        lay.addSpacing(4)
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        self.versions: dict[str, str] = {}
        box = QVBoxLayout()
        for bump, what in (("patch", "fixes, wording"), ("minor", "new behaviour, compatible"),
                           ("major", "breaking change")):
            try:
                new = release.next_release_version(current, released, bump)
                text, ok = f"{bump.capitalize()}  →  {new}    ({what})", True
                self.versions[bump] = new
            except Exception as exc:  # noqa: BLE001 - shown as the reason this bump is not possible
                text, ok = f"{bump.capitalize()}: {getattr(exc, 'message', exc)}", False
            rb = QRadioButton(text)
            rb.setEnabled(ok)
            self.group.addButton(rb)
            self.radios[bump] = rb
            box.addWidget(rb)
        lay.addLayout(box)
        first = next((b for b in ("patch", "minor", "major") if self.radios[b].isEnabled()), None)
        if first:
            self.radios[first].setChecked(True)
        lay.addWidget(QLabel("Release notes (one change per line):"))
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("e.g. Tightened the description so ledger questions no longer trigger it")
        self.notes.setTabChangesFocus(True)
        self.notes.setMinimumHeight(100)
        lay.addWidget(self.notes, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Release")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(first is not None)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def bump(self) -> str:
        return next((b for b, rb in self.radios.items() if rb.isChecked()), "patch")

    def release_notes(self) -> str:
        return self.notes.toPlainText().strip()


class VersionsPanel(QWidget):
    """History, diffs and releases of the selected skill. Call `set_skill(workspace, skill_dir)`."""

    sig_released = Signal(str)  # the new version
    sig_about_to_release = Signal()  # connect (directly) to "save all" so the release sees the user's edits

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = WorkerPool(self, max_threads=1)  # git calls of one panel run one after another
        self._workspace: Path | None = None
        self._skill_dir: Path | None = None
        self._state: HistoryState | None = None
        self._serial = 0
        self._jobs: dict[int, tuple[str, int]] = {}  # job id -> (kind, serial)
        self._diff_job = -1
        self.release_dialog: ReleaseDialog | None = None
        self._build()
        self._show_page()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)

        head = QHBoxLayout()
        self.title = QLabel()
        relative_font(self.title, 1.15, bold=True)
        self.subtitle = QLabel()
        self.subtitle.setStyleSheet("color: palette(placeholder-text);")
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # clip in a narrow dock
        self.btn_refresh = QPushButton("Refresh")
        self.btn_release = QPushButton("Release…")
        self.btn_release.setToolTip("Validate, bump the version, update CHANGELOG.md, commit and tag")
        head.addWidget(self.title)
        head.addSpacing(8)
        head.addWidget(self.subtitle, 1)
        head.addWidget(self.btn_refresh)
        head.addWidget(self.btn_release)
        root.addLayout(head)
        self._head = head
        self._sub_row = QHBoxLayout()  # holds the subtitle when the panel is too narrow for one line
        root.addLayout(self._sub_row)
        self.btn_refresh.clicked.connect(self.refresh)
        self.btn_release.clicked.connect(self.open_release_dialog)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        root.addWidget(self.message)

        self.pages = QStackedWidget()
        root.addWidget(self.pages, 1)

        # page: an explanation (no skill, loading, errors) with an optional action button
        self.info_page = QWidget()
        il = QVBoxLayout(self.info_page)
        il.addStretch(1)
        self.info_title = QLabel()
        self.info_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        relative_font(self.info_title, 1.25, bold=True)
        self.info_text = QLabel()
        self.info_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.info_text.setWordWrap(True)
        self.info_text.setStyleSheet("color: palette(placeholder-text);")
        self.info_text.setMaximumWidth(520)
        self.info_text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.btn_init = QPushButton("Initialise git repository")
        self.btn_init.clicked.connect(self.init_repository)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.btn_init)
        row.addStretch(1)
        il.addWidget(self.info_title)
        text_row = QHBoxLayout()  # centred, at most 520 px wide, wrapping inside a narrow dock too
        text_row.addStretch(1)
        text_row.addWidget(self.info_text, 100)
        text_row.addStretch(1)
        il.addLayout(text_row)
        il.addLayout(row)
        il.addStretch(2)
        self.pages.addWidget(self.info_page)

        # page: history + diff
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.list = QTreeWidget()
        self.list.setColumnCount(4)
        self.list.setHeaderLabels(["Version", "Change", "Date", "Commit"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setStyleSheet("QTreeWidget::item { padding: 3px 2px; }")
        hh = self.list.header()
        hh.setStretchLastSection(False)
        for col, mode in ((COL_VERSION, QHeaderView.ResizeMode.ResizeToContents),
                          (COL_CHANGE, QHeaderView.ResizeMode.Stretch),
                          (COL_DATE, QHeaderView.ResizeMode.ResizeToContents),
                          (COL_COMMIT, QHeaderView.ResizeMode.ResizeToContents)):
            hh.setSectionResizeMode(col, mode)
        self.list.itemSelectionChanged.connect(self._on_selection)

        diff_box = QWidget()
        dl = QVBoxLayout(diff_box)
        dl.setContentsMargins(0, 4, 0, 0)
        dl.setSpacing(4)
        self.diff_title = QLabel()
        self.diff_title.setWordWrap(True)
        self.diff_view = QPlainTextEdit()
        self.diff_view.setReadOnly(True)
        self.diff_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.diff_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.diff_view.setFrameShape(QFrame.Shape.StyledPanel)
        self.highlighter = DiffHighlighter(self.diff_view.document(), current_theme())
        dl.addWidget(self.diff_title)
        dl.addWidget(self.diff_view, 1)
        self.split.addWidget(self.list)
        self.split.addWidget(diff_box)
        self.split.setStretchFactor(0, 2)
        self.split.setStretchFactor(1, 3)
        self.split.setChildrenCollapsible(False)
        self.split.splitterMoved.connect(self._on_splitter_moved)
        self.list.setMinimumSize(200, 70)
        self.list.installEventFilter(self)
        self.diff_view.setMinimumHeight(60)
        self.pages.addWidget(self.split)

    # --------------------------------------------------------------------- API
    def set_skill(self, workspace: Path | None, skill_dir: Path | None) -> None:
        self._workspace = Path(workspace) if workspace is not None else None
        self._skill_dir = Path(skill_dir) if skill_dir is not None else None
        self._state = None
        self._set_message("")
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        self._serial += 1
        self._state = None
        if self._workspace is None:
            self._show_page()
            return
        ws, skill = self._workspace, self._skill_dir

        def job(token: CancelToken, progress: object) -> HistoryState:
            return _load_state(ws, skill)

        self._submit("load", job)
        self._show_page(loading=True)

    @property
    def busy(self) -> bool:
        """True while a git job runs or its answer has not been shown yet."""
        return bool(self._jobs) or self.pool.busy

    def shutdown(self) -> None:
        """Cancel and wait for git jobs (the host calls this when its window closes)."""
        self.pool.shutdown()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # a wide, short dock (bottom of the window) puts history and diff side by side; a tall one stacks them
        size = event.size()
        wide = size.width() > 2 * size.height() and size.width() >= 700
        want = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.split.orientation() != want:
            self.split.setOrientation(want)
            total = size.width() if wide else size.height()
            self.split.setSizes([int(total * 0.42), int(total * 0.58)])
        narrow = size.width() < 640
        if narrow and self._head.indexOf(self.subtitle) >= 0:
            self._head.removeWidget(self.subtitle)
            self._sub_row.addWidget(self.subtitle)
        elif not narrow and self._sub_row.indexOf(self.subtitle) >= 0:
            self._sub_row.removeWidget(self.subtitle)
            self._head.insertWidget(2, self.subtitle, 1)
        self._fit_columns()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.list and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(obj, event)

    def _fit_columns(self) -> None:
        """In a narrow history list the change's subject matters more than the date and the hash."""
        width = self.list.width()
        self.list.setColumnHidden(COL_COMMIT, width < 560)
        self.list.setColumnHidden(COL_DATE, width < 440)

    @Slot(int, int)
    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self._fit_columns()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def selected_revs(self) -> list[str]:
        return [str(i.data(0, _ROLE_REV)) for i in self._selected_items()]

    def select_revs(self, revs: list[str]) -> None:
        """Select history rows by commit id (or WORKING_TREE); the diff follows."""
        self.list.blockSignals(True)
        self.list.clearSelection()
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item is not None and item.data(0, _ROLE_REV) in revs:
                item.setSelected(True)
        self.list.blockSignals(False)
        self._on_selection()

    def diff_text(self) -> str:
        return self.diff_view.toPlainText()

    # ---------------------------------------------------------------- actions
    @Slot()
    def init_repository(self) -> None:
        if self._workspace is None:
            return
        ws = self._workspace

        def job(token: CancelToken, progress: object) -> str:
            return str(history.init_repo(ws))

        self.btn_init.setEnabled(False)
        self._submit("init", job)

    @Slot()
    def open_release_dialog(self) -> None:
        st = self._state
        if st is None or not st.is_repo or self._skill_dir is None or not self.btn_release.isEnabled():
            return
        self.sig_about_to_release.emit()  # the host saves unsaved edits before we read the files
        self.release_dialog = ReleaseDialog(st.name, st.version, st.released, self)
        self.release_dialog.finished.connect(self._on_release_dialog_finished)
        self.release_dialog.open()  # window-modal, non-blocking
        self._update_buttons()

    @Slot(int)
    def _on_release_dialog_finished(self, result: int) -> None:
        dlg = self.release_dialog
        self.release_dialog = None
        if dlg is None:
            return
        dlg.deleteLater()
        if result != QDialog.DialogCode.Accepted or self._workspace is None or self._skill_dir is None:
            self._update_buttons()
            return
        ws, skill, bump, notes = self._workspace, self._skill_dir, dlg.bump(), dlg.release_notes()

        def job(token: CancelToken, progress: object) -> release.ReleaseResult:
            return release.release_skill(ws, skill, bump, notes)

        self._set_message(f"Releasing {self._state.name if self._state else ''} ({bump})…")
        self._submit("release", job)
        self._update_buttons()

    # ---------------------------------------------------------------- workers
    def _submit(self, kind: str, fn: object) -> int:
        job_id, _ = self.pool.submit(fn, on_result=self._on_result, on_error=self._on_error,  # type: ignore[arg-type]
                                     on_finished=self._on_finished)
        self._jobs[job_id] = (kind, self._serial)
        self._update_buttons()
        return job_id

    def _is_stale(self, job_id: int, kind: str, serial: int) -> bool:
        return serial != self._serial or (kind == "diff" and job_id != self._diff_job)

    @Slot(int, object)
    def _on_result(self, job_id: int, value: object) -> None:
        kind, serial = self._jobs.get(job_id, ("", -1))
        if kind == "init":
            self._set_message(f"Created a git repository in {value} and committed the workspace.", ok=True)
            self.btn_init.setEnabled(True)
            self.refresh()
            return
        if kind == "release" and isinstance(value, release.ReleaseResult):
            self._set_message(f"Released {value.skill} {value.version} — tag {value.tag}, "
                              f"commit {value.commit[:8]}.", ok=True)
            self.sig_released.emit(value.version)
            self.refresh()
            return
        if self._is_stale(job_id, kind, serial):
            return  # an answer for a skill, state or selection we have left
        if kind == "load" and isinstance(value, HistoryState):
            self._state = value
            self._fill(value)
        elif kind == "diff" and isinstance(value, tuple):
            title, text = value
            self._show_diff(title, text)

    @Slot(int, str)
    def _on_error(self, job_id: int, message: str) -> None:
        kind, serial = self._jobs.get(job_id, ("", -1))
        if kind in ("load", "diff") and self._is_stale(job_id, kind, serial):
            return
        if kind == "init":
            self.btn_init.setEnabled(True)
        if kind == "load":
            self._show_page(error=message)
        elif kind == "diff":
            self._clear_diff(f"Cannot show the diff: {message}")
        else:
            what = {"release": "Release failed", "init": "Could not create the repository"}.get(kind, "Failed")
            self._set_message(f"{what}: {message}", error=True)

    @Slot(int)
    def _on_finished(self, job_id: int) -> None:
        self._jobs.pop(job_id, None)
        self._update_buttons()

    # ------------------------------------------------------------------- views
    def _set_message(self, text: str, ok: bool = False, error: bool = False) -> None:
        if not text:
            self.message.hide()
            return
        if error or ok:
            set_banner(self.message, "error" if error else "ok")  # coloured by the theme
        else:
            set_banner(self.message, None)
            self.message.setStyleSheet("QLabel { background: palette(alternate-base); border: 1px solid "
                                       "palette(mid); border-radius: 4px; padding: 6px 8px; }")
        self.message.setText(text)
        self.message.show()

    def _show_page(self, loading: bool = False, error: str | None = None) -> None:
        st = self._state
        self.btn_init.hide()
        if self._workspace is None:
            self.title.setText("Versions")
            self.subtitle.setText("")
            self._info("No workspace open", "Open a workspace to see the versions of its skills.")
        elif error is not None:
            self._info("History not available", error)
        elif loading and st is None:
            self._info("Reading history…", "")
        elif st is not None and not st.is_repo:
            self.title.setText("Versions")
            self.subtitle.setText("")
            self._info("This workspace is not a git repository",
                       "Versions, diffs and releases are kept in git. Create a repository here and commit the "
                       "current skills as the first version; nothing leaves this machine.")
            self.btn_init.show()
        elif self._skill_dir is None:
            self.title.setText("Versions")
            self.subtitle.setText("")
            self._info("No skill selected", "Choose a skill in the workspace to see its history.")
        else:
            self.pages.setCurrentWidget(self.split)
        self._update_buttons()

    def _info(self, title: str, text: str) -> None:
        self.info_title.setText(title)
        self.info_text.setText(text)
        self.info_text.setVisible(bool(text))
        self.pages.setCurrentWidget(self.info_page)

    def _update_buttons(self) -> None:
        st = self._state
        working = any(kind != "diff" for kind, _ in self._jobs.values())  # diffs never block a release
        can = (st is not None and st.is_repo and self._skill_dir is not None and not working
               and self.release_dialog is None)
        self.btn_release.setEnabled(can)
        self.btn_release.setVisible(self._skill_dir is not None and (st is None or st.is_repo))
        self.btn_refresh.setEnabled(self._workspace is not None and not working)

    def _fill(self, st: HistoryState) -> None:
        self._show_page()
        if not st.is_repo or self._skill_dir is None:
            return
        self.title.setText(f"Versions of {st.name}")
        released_now = st.version is not None and st.version in st.released
        parts = [f"current {st.version or 'no version'}"]
        if released_now:
            parts.append("released — edits start the next version")
        elif st.released:
            parts.append(f"last release {st.released[-1]}")
        else:
            parts.append("never released")
        if st.changes:
            parts.append(f"{len(st.changes)} uncommitted file{'s' if len(st.changes) != 1 else ''}")
        self.subtitle.setText(" · ".join(parts))

        self.list.blockSignals(True)
        self.list.clear()
        wt = QTreeWidgetItem(["Working tree",
                              f"{len(st.changes)} uncommitted change{'s' if len(st.changes) != 1 else ''}: "
                              + ", ".join(st.changes[:4]) + (" …" if len(st.changes) > 4 else "")
                              if st.changes else "No uncommitted changes", "now", ""])
        wt.setData(0, _ROLE_REV, WORKING_TREE)
        wt.setData(0, _ROLE_LABEL, "the working tree")
        font = wt.font(0)
        font.setItalic(True)
        for col in range(4):
            wt.setFont(col, font)
            wt.setForeground(col, QColor("#8a8f98"))
        self.list.addTopLevelItem(wt)
        for c in st.commits:
            tags = ", ".join(t.split("/", 1)[-1] for t in c.tags)
            item = QTreeWidgetItem([f"{c.version or '—'}  ● released" if tags else (c.version or "—"), c.subject,
                                    _short_date(c.date), c.short])
            item.setData(0, _ROLE_REV, c.rev)
            item.setData(0, _ROLE_LABEL, f"{c.version or c.short} ({c.short})")
            item.setToolTip(COL_CHANGE, f"{c.subject}\n{c.author}, {c.date}")
            if tags:
                item.setToolTip(COL_VERSION, "Released: tag " + ", ".join(c.tags))
                item.setForeground(COL_VERSION, QColor("#1f8a4c"))
                bold = item.font(0)
                bold.setBold(True)
                item.setFont(COL_VERSION, bold)
            self.list.addTopLevelItem(item)
        self.list.blockSignals(False)

        if not st.commits:
            self._clear_diff(
                "This skill has no commits yet. Release it, or commit it with git, to start its history.")
            return
        # a useful first view: uncommitted changes if any, else the most recent change
        if st.changes or len(st.commits) < 2:
            self.select_revs([st.commits[0].rev])
        else:
            self.select_revs([st.commits[0].rev, st.commits[1].rev])

    def _selected_items(self) -> list[QTreeWidgetItem]:
        items = self.list.selectedItems()
        return sorted(items, key=self.list.indexOfTopLevelItem)  # top = newest

    @Slot()
    def _on_selection(self) -> None:
        items = self._selected_items()
        if self._workspace is None or self._skill_dir is None or not items:
            self._clear_diff(
                "Select a version to compare it with the working tree, or two versions (Ctrl+click) to "
                "compare them.")
            return
        newer, older = items[0], items[-1]
        rev_old = str(older.data(0, _ROLE_REV))
        rev_new = str(newer.data(0, _ROLE_REV)) if len(items) > 1 else WORKING_TREE
        if rev_old == WORKING_TREE:  # only the working tree selected: uncommitted changes vs HEAD
            rev_old, label_old = "HEAD", "the last commit"
        else:
            label_old = str(older.data(0, _ROLE_LABEL))
        label_new = "the working tree" if rev_new == WORKING_TREE else str(newer.data(0, _ROLE_LABEL))
        title = f"Changes from <b>{label_old}</b> to <b>{label_new}</b>"
        if len(items) > 2:
            title += f" (the first and last of the {len(items)} selected)"
        ws, skill = self._workspace, self._skill_dir
        b = None if rev_new == WORKING_TREE else rev_new

        def job(token: CancelToken, progress: object) -> tuple[str, str]:
            return title, history.diff(ws, skill, rev_old, b)

        self.diff_title.setText(title + " …")
        self._diff_job = self._submit("diff", job)  # answers of older diff jobs are dropped

    def _show_diff(self, title: str, text: str) -> None:
        files = history.split_diff(text)
        if files:
            added = sum(f.added for f in files)
            removed = sum(f.removed for f in files)
            title += (f" — {len(files)} file{'s' if len(files) != 1 else ''} changed, "
                      f"<span style='color:#1f8a4c'>+{added}</span> "
                      f"<span style='color:#c0392b'>−{removed}</span>")
        self.diff_title.setText(title)
        self.diff_view.setPlainText(text)
        self.diff_view.setExtraSelections(self._line_backgrounds())
        if not text:
            self.diff_view.setPlaceholderText("No differences: the skill's files are the same in both.")

    def _clear_diff(self, placeholder: str) -> None:
        self.diff_title.setText("")
        self.diff_view.setExtraSelections([])
        self.diff_view.setPlainText("")
        self.diff_view.setPlaceholderText(placeholder)

    def _line_backgrounds(self, limit: int = 20000) -> list[QTextEdit.ExtraSelection]:
        """Full-width backgrounds for added/removed/hunk/file lines (the highlighter colours only text)."""
        h = self.highlighter
        out: list[QTextEdit.ExtraSelection] = []
        block = self.diff_view.document().firstBlock()
        while block.isValid() and len(out) < limit:
            t = block.text()
            fmt = None
            if t.startswith("diff --git"):
                fmt = h.f_file
            elif t.startswith("@@"):
                fmt = h.f_hunk
            elif t.startswith("+") and not t.startswith("+++"):
                fmt = h.f_add
            elif t.startswith("-") and not t.startswith("---"):
                fmt = h.f_del
            if fmt is not None:
                sel = QTextEdit.ExtraSelection()
                sel.format.setBackground(fmt.background())
                sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
                sel.cursor = QTextCursor(block)
                out.append(sel)
            block = block.next()
        return out

    def set_theme(self, theme: str) -> None:
        self.highlighter.set_theme(theme)
        self.diff_view.setExtraSelections(self._line_backgrounds())


def _short_date(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso
