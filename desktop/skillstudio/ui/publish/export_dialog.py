"""Export a skill: choose target, key and version, review exactly what will be published, then push.

Two steps. "Review" packs the deterministic zip and signs it (in a worker: the keyring and
compression must not freeze the window) and shows the digest, the files, the signature and the
manifest with its annotations. "Export" then publishes those reviewed bytes — nothing is re-packed
between review and push, so what the user approved is what goes out. Uploads report progress and
Cancel really stops them (the CancelToken reaches the upload loop; the tag is written last, so a
cancelled export leaves no tag). All work runs in `WorkerPool` jobs; results come back to @Slot
methods and only they touch widgets.
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.release import browse, oci
from skillstudio.release.dsse import Envelope
from skillstudio.release.pack import PackResult
from skillstudio.ui.common.theme import ERROR_STYLE, OK_STYLE
from skillstudio.ui.common.workers import WorkerPool

TARGET_LOCAL, TARGET_OCI, TARGET_OPENAI = 0, 1, 2
WARN_STYLE = "color: #8a5300;"


@dataclass
class Prepared:
    """What the review step produced: the zip on disk, its signature and the push plan."""

    pack: PackResult
    envelope: Envelope
    keyid: str
    plan: oci.PushPlan
    target: oci.Target | None  # None for openai:
    target_text: str


@dataclass
class Exported:
    destination: str
    manifest_digest: str
    zip_digest: str
    lock_note: str


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class ExportDialog(QDialog):
    sig_exported = Signal(object)  # Exported

    def __init__(self, workspace: Path, skill_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = Path(workspace)
        self.skill_dir = Path(skill_dir)
        self._pool = WorkerPool(self)
        self._tmp = tempfile.TemporaryDirectory(prefix="skillstudio-export-")
        self._job: int | None = None
        self._job_kind = ""
        self._cancelling = False
        self._prepared: Prepared | None = None
        self.result_info: Exported | None = None
        self.setWindowTitle(f"Export {self.skill_dir.name}")
        self.setMinimumWidth(640)

        from skillstudio.bundle.model import load_skill

        skill = load_skill(self.skill_dir, with_files=False)
        self.skill_name = skill.name or self.skill_dir.name
        self.version = skill.version

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_settings())
        self.stack.addWidget(self._build_review())

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.back_btn = QPushButton("Back")
        self.review_btn = QPushButton("Review…")
        self.export_btn = QPushButton("Export")
        self.cancel_btn = QPushButton("Close")
        self.review_btn.setDefault(True)
        self.back_btn.clicked.connect(self._on_back)
        self.review_btn.clicked.connect(self._on_review)
        self.export_btn.clicked.connect(self._on_export)
        self.cancel_btn.clicked.connect(self._on_cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.review_btn)
        buttons.addWidget(self.export_btn)
        buttons.addWidget(self.cancel_btn)

        lay = QVBoxLayout(self)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.status)
        lay.addWidget(self.progress)
        lay.addLayout(buttons)
        self._refresh_keys()
        self._on_target_changed(TARGET_LOCAL)
        self._sync_buttons()

    # ------------------------------------------------------------------------------ pages
    def _build_settings(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.target_combo = QComboBox()
        self.target_combo.addItems(["Local registry folder (OCI layout)", "OCI registry (oci://host:port/repo:tag)",
                                    "OpenAI Skills API (openai:)"])
        self.target_combo.currentIndexChanged.connect(self._on_target_changed)
        form.addRow("Target", self.target_combo)

        self.local_edit = QLineEdit(str(browse.default_local_root()))
        self.local_browse_btn = QPushButton("Browse…")
        self.local_browse_btn.clicked.connect(self._on_browse_local)
        self.local_row = QWidget()
        row = QHBoxLayout(self.local_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.local_edit, 1)
        row.addWidget(self.local_browse_btn)
        form.addRow("Folder", self.local_row)

        self.ref_edit = QLineEdit()
        self.ref_edit.setPlaceholderText(f"oci://localhost:5000/skills/{self.skill_name}:{self.version or 'latest'}")
        self.plain_http = QCheckBox("Plain HTTP (local registries only)")
        self.ref_row = QWidget()
        row = QHBoxLayout(self.ref_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.ref_edit, 1)
        row.addWidget(self.plain_http)
        form.addRow("Reference", self.ref_row)
        self.dest_hint = QLabel("")
        self.dest_hint.setStyleSheet("color: palette(mid);")
        self.dest_hint.setWordWrap(True)
        form.addRow("", self.dest_hint)
        self.local_edit.textChanged.connect(self._update_dest_hint)
        self.ref_edit.textChanged.connect(self._update_dest_hint)

        self.key_combo = QComboBox()
        self.generate_btn = QPushButton("Generate key…")
        self.generate_btn.clicked.connect(self._on_generate_key)
        key_row = QWidget()
        row = QHBoxLayout(key_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.key_combo, 1)
        row.addWidget(self.generate_btn)
        form.addRow("Signing key", key_row)

        self.version_label = QLabel(self.version or "(none)")
        self.version_warning = QLabel("")
        self.version_warning.setWordWrap(True)
        self.version_warning.setStyleSheet(WARN_STYLE)
        form.addRow("Version", self.version_label)
        form.addRow("", self.version_warning)
        self._check_version()

        self.lock_check = QCheckBox("Record in skills.lock (needs the key in the workspace trust store)")
        form.addRow("", self.lock_check)
        return page

    def _build_review(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.summary)
        self.files_tree = QTreeWidget()
        self.files_tree.setHeaderLabels(["File", "Size", "sha256"])
        self.files_tree.setRootIsDecorated(False)
        self.files_tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.files_tree, 1)
        lay.addWidget(QLabel("What will be pushed:"))
        self.pushed_text = QPlainTextEdit()
        self.pushed_text.setReadOnly(True)
        self.pushed_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        lay.addWidget(self.pushed_text, 1)
        return page

    # ------------------------------------------------------------------------------ settings
    def _check_version(self) -> None:
        if not self.version:
            self.version_warning.setText("This skill has no metadata.version: the export is tagged 'latest' and "
                                         "cannot be recorded in skills.lock. Release a version first.")
            return
        try:
            from skillstudio.bundle.history import released_versions

            released = released_versions(self.workspace, self.skill_dir)
        except (SkillStudioError, OSError):
            released = []
        if self.version not in released:
            self.version_warning.setText(f"Version {self.version} is not released (no git tag "
                                         f"{self.skill_name}/v{self.version}): it can still change. "
                                         "Release it in Versions first.")
        else:
            self.version_warning.setText("")

    def _refresh_keys(self, select: str | None = None) -> None:
        from skillstudio.release import keys

        self.key_combo.clear()
        try:
            found = keys.list_keys()
        except SkillStudioError as exc:
            self._say(str(exc), ERROR_STYLE)
            found = []
        for k in found:
            self.key_combo.addItem(f"{k.name}  ({k.algorithm}, {k.short_id})", k.name)
        if select:
            self.key_combo.setCurrentIndex(max(0, self.key_combo.findData(select)))
        if not found:
            self.key_combo.addItem("(no signing key: generate one)", None)

    @Slot(int)
    def _on_target_changed(self, index: int) -> None:
        self.local_row.setEnabled(index == TARGET_LOCAL)
        self.ref_row.setEnabled(index == TARGET_OCI)
        self._update_dest_hint()

    @Slot()
    def _update_dest_hint(self) -> None:
        try:
            _, text = self._target()
            self.dest_hint.setText(f"Publishes to {text}")
        except SkillStudioError:
            self.dest_hint.setText("")

    @Slot()
    def _on_browse_local(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Local registry folder", self.local_edit.text())
        if folder:
            self.local_edit.setText(folder)

    @Slot()
    def _on_generate_key(self) -> None:
        name, ok = QInputDialog.getText(self, "Generate signing key",
                                        "Key name (stored in the OS keyring; Ed25519):", text="release")
        if not ok or not name.strip():
            return
        key_name = name.strip()

        def job(token: CancelToken, progress: Any) -> str:
            from skillstudio.release import keys

            return keys.generate(key_name).name

        self._start("key", job)
        self._say(f"Generating {key_name} in the OS keyring…")

    # ------------------------------------------------------------------------------ steps
    def _target(self) -> tuple[oci.Target | None, str]:
        index = self.target_combo.currentIndex()
        if index == TARGET_OPENAI:
            return None, "openai:"
        if index == TARGET_LOCAL:
            root = self.local_edit.text().strip()
            if not root:
                raise SkillStudioError("no local registry folder", "choose a folder")
            t = browse.local_target(Path(root).expanduser(), self.skill_name, self.version)
            return t, str(t)
        text = self.ref_edit.text().strip()
        if not text:
            raise SkillStudioError("no registry reference", "type oci://host:port/repository:tag")
        if not text.startswith("oci://"):
            text = "oci://" + text
        ref = oci.parse_target(text)
        return ref, str(ref)

    @Slot()
    def _on_review(self) -> None:
        key_name = self.key_combo.currentData()
        try:
            if not key_name:
                raise SkillStudioError("no signing key", "generate one with “Generate key…”")
            target, target_text = self._target()
        except SkillStudioError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        skill_dir, out_dir = self.skill_dir, Path(self._tmp.name)

        def job(token: CancelToken, progress: Any) -> Prepared:
            from skillstudio.release import attest
            from skillstudio.release.leaks import known_secret_values
            from skillstudio.release.pack import pack_skill

            res = pack_skill(skill_dir, out_dir / f"{skill_dir.resolve().name}.zip",
                             secret_values=known_secret_values(skill_dir))
            token.raise_if_cancelled()
            sig = out_dir / f"{res.path.name}.sig.json"
            sig.unlink(missing_ok=True)  # a fresh envelope for these bytes
            _, env, kid = attest.sign_bundle(res.path, str(key_name), sig, source_dir=skill_dir)
            return Prepared(res, env, kid, oci.plan_push(res.path.read_bytes(), env), target, target_text)

        self._start("review", job)
        self._say("Packing and signing…")

    @Slot()
    def _on_export(self) -> None:
        prep = self._prepared
        if prep is None:
            return
        plain_http = self.plain_http.isChecked()
        record = self.lock_check.isChecked()
        workspace, skill_dir = self.workspace, self.skill_dir

        def job(token: CancelToken, progress: Any) -> Exported:
            if prep.target is None:
                from skillstudio.release import openai_skills

                token.raise_if_cancelled()
                pub = openai_skills.push_zip(prep.pack.path, prep.pack.name)
                source = f"openai:{pub.skill_id}@{pub.version}"
                out = Exported(source, "", prep.pack.digest, "")
            else:
                res = oci.push_bundle(prep.pack.path, prep.envelope, prep.target, plain_http=plain_http,
                                      cancel=token, upload_progress=progress)
                source = str(res.ref)
                out = Exported(source, res.manifest_digest, res.zip_digest, "")
            if record:
                from skillstudio.release import lockfile, trust

                try:
                    entry = lockfile.lock_from_signature(workspace, skill_dir, prep.envelope, trust.load(workspace),
                                                         source)
                    out.lock_note = f"recorded {prep.pack.name}@{entry.version} in skills.lock"
                except SkillStudioError as exc:
                    out.lock_note = f"not recorded in skills.lock: {exc}"
            return out

        self.progress.setRange(0, max(1, prep.pack.size))
        self.progress.setValue(0)
        self._start("export", job)
        self._say(f"Exporting to {prep.target_text}…")

    @Slot()
    def _on_back(self) -> None:
        self.stack.setCurrentIndex(0)
        self._prepared = None
        self._say("")
        self._sync_buttons()

    @Slot()
    def _on_cancel(self) -> None:
        if self._job is not None:
            self._pool.cancel(self._job)
            self._cancelling = True
            self._say("Cancelling…", WARN_STYLE)
            return
        self.reject()

    # ------------------------------------------------------------------------------ worker plumbing
    def _start(self, kind: str, fn: Any) -> None:
        self._job_kind = kind
        self._job, _ = self._pool.submit(fn, on_result=self._on_job_result, on_error=self._on_job_error,
                                         on_progress=self._on_job_progress, on_finished=self._on_job_finished)
        self.progress.setVisible(True)
        if kind != "export":
            self.progress.setRange(0, 0)  # busy
        self._sync_buttons()

    @Slot(int, object)
    def _on_job_result(self, job_id: int, value: object) -> None:
        if isinstance(value, Prepared):
            self._show_review(value)
        elif isinstance(value, Exported):
            self.result_info = value
            msg = f"Exported to {value.destination}"
            if value.manifest_digest:
                msg += f" (manifest {value.manifest_digest[:19]}…)"
            if value.lock_note:
                msg += f"; {value.lock_note}"
            self._say(msg, ERROR_STYLE if value.lock_note.startswith("not recorded") else OK_STYLE)
            self.cancel_btn.setText("Close")
            self.sig_exported.emit(value)
        elif isinstance(value, str):  # a generated key
            self._refresh_keys(select=value)
            self._say(f"Generated signing key {value} in the OS keyring.", OK_STYLE)

    @Slot(int, str)
    def _on_job_error(self, job_id: int, message: str) -> None:
        self._say(message.splitlines()[0] if message else "failed", ERROR_STYLE)

    @Slot(int, int, int)
    def _on_job_progress(self, job_id: int, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    @Slot(int)
    def _on_job_finished(self, job_id: int) -> None:
        if job_id != self._job:
            return
        cancelled, self._cancelling = self._cancelling, False
        self._job = None
        self.progress.setVisible(False)
        if cancelled:
            self._say("Cancelled: nothing was tagged or recorded." if self._job_kind == "export" else "Cancelled.",
                      WARN_STYLE)
        self._sync_buttons()

    def _show_review(self, prep: Prepared) -> None:
        self._prepared = prep
        p = prep.pack
        signer = next((s for s in prep.envelope.signatures if s.get("keyid") == prep.keyid), {})
        self.summary.setText(
            f"<b>{html.escape(p.name)}</b> {html.escape(p.version or '(no version)')} → "
            f"<code>{html.escape(prep.target_text)}</code><br>"
            f"zip <code>{p.digest}</code> ({_human(p.size)}, {len(p.files)} files)<br>"
            f"signed by <b>{self.key_combo.currentData()}</b> key <code>{signer.get('keyid', prep.keyid)}</code>"
            + (f"<br><span style='color:#8a5300'>{html.escape(self.version_warning.text())}</span>"
               if self.version_warning.text() else ""))
        self.files_tree.clear()
        for f in p.files:
            QTreeWidgetItem(self.files_tree, [f.path, _human(f.size), f.sha256[:16] + "…"])
        self.pushed_text.setPlainText(self._pushed_description(prep))
        self.stack.setCurrentIndex(1)
        self._say("Review what will be published, then Export.")

    def _pushed_description(self, prep: Prepared) -> str:
        if prep.target is None:
            return (f"POST /v1/skills (or /v1/skills/ID/versions): {prep.pack.path.name} "
                    f"({prep.pack.size} bytes, {prep.pack.digest})\n"
                    "The DSSE signature stays local (skills.lock records its key ids).")
        m = prep.plan.manifest
        keyids = ", ".join(s.get("keyid", "") for s in prep.envelope.signatures)
        lines = [f"Target:   {prep.target_text}",
                 f"Config:   {m['config']['mediaType']} ({m['config']['size']} bytes)",
                 f"Layer:    {m['layers'][0]['mediaType']} {m['layers'][0]['digest']} ({m['layers'][0]['size']} bytes)",
                 "Annotations:"]
        lines += [f"  {k} = {v}" for k, v in sorted(m.get("annotations", {}).items())]
        lines += [f"Referrer: {oci.SIGNATURE_TYPE} (DSSE envelope) signed by {keyids}", "",
                  "Manifest:", json.dumps(m, indent=2)]
        return "\n".join(lines)

    # ------------------------------------------------------------------------------ helpers
    def _say(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    def _sync_buttons(self) -> None:
        busy = self._job is not None
        review = self.stack.currentIndex() == 1
        self.review_btn.setVisible(not review)
        self.export_btn.setVisible(review)
        self.back_btn.setVisible(review)
        self.review_btn.setEnabled(not busy)
        self.export_btn.setEnabled(not busy and self._prepared is not None and self.result_info is None)
        self.back_btn.setEnabled(not busy)
        self.generate_btn.setEnabled(not busy)
        first = self.stack.widget(0)
        if first is not None:
            first.setEnabled(not busy)
        self.cancel_btn.setText("Cancel" if busy else "Close")

    def shutdown(self) -> None:
        """Stop any running job and wait for it (no thread outlives the dialog), then drop the temp zip."""
        self._pool.shutdown()
        self._tmp.cleanup()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
