"""Browse a registry (a local layout folder or oci://host:port) and pull a skill, verified first.

Repositories, tags, a tag's annotations and its signature referrers are read with
`skillstudio.release.browse`; Pull & verify calls `oci.pull_bundle`, which downloads and verifies
against the chosen public key or the workspace trust store in memory and writes only then — a
refusal leaves the destination untouched and is shown as one line. Every registry call runs in a
`WorkerPool` job (credentials come from the keyring inside the core); results arrive at @Slot
methods, the only code here that touches widgets.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.release import browse, crypto, oci
from skillstudio.release import trust as trust_mod
from skillstudio.ui.common.theme import ERROR_STYLE, OK_STYLE
from skillstudio.ui.common.workers import WorkerPool

VERIFY_TRUST, VERIFY_PEM = 0, 1


@dataclass
class _Repos:
    location: browse.Location
    names: list[str]


@dataclass
class _Tags:
    repo: str
    tags: list[str]


class RegistryBrowser(QWidget):
    sig_pulled = Signal(object)  # oci.PullResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Path | None = None
        self._pool = WorkerPool(self)
        self._location: browse.Location | None = None
        self._pull_job: int | None = None
        self._cancelling = False
        self.last_pull: oci.PullResult | None = None
        self.current: browse.ArtifactInfo | None = None

        self.location_edit = QLineEdit(str(browse.default_local_root()))
        self.location_edit.setToolTip("Registry to browse: oci://host:port or a local registry folder")
        self.location_edit.setPlaceholderText("oci://host:port or a local registry folder")
        self.folder_btn = QPushButton("Folder…")
        self.plain_http = QCheckBox("Plain HTTP")
        self.plain_http.setToolTip("Talk to the registry without TLS (local test registries only)")
        self.connect_btn = QPushButton("Connect")
        self.folder_btn.clicked.connect(self._on_choose_folder)
        self.connect_btn.clicked.connect(self.refresh)
        self.location_edit.returnPressed.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(QLabel("Registry"))
        top.addWidget(self.location_edit, 1)
        top.addWidget(self.folder_btn)
        top.addWidget(self.plain_http)
        top.addWidget(self.connect_btn)

        self.repos = QListWidget()
        self.tags = QListWidget()
        self.details = QTextBrowser()
        self.repos.currentItemChanged.connect(self._on_repo_selected)
        self.tags.currentItemChanged.connect(self._on_tag_selected)
        split = QSplitter(Qt.Orientation.Horizontal)
        for title, w in (("Repositories", self.repos), ("Tags", self.tags), ("Version and signatures", self.details)):
            box = QWidget()
            v = QVBoxLayout(box)
            v.setContentsMargins(0, 0, 0, 0)
            v.addWidget(QLabel(f"<b>{title}</b>"))
            v.addWidget(w)
            split.addWidget(box)
        split.setSizes([180, 140, 420])

        pull_box = QGroupBox("Pull && verify")
        form = QFormLayout(pull_box)
        self.verify_combo = QComboBox()
        self.verify_combo.setToolTip("What the pulled skill’s signatures are checked against")
        self.verify_combo.addItems(["Workspace trust store", "Public key PEM"])
        self.pem_edit = QLineEdit()
        self.pem_edit.setToolTip("Public key (.pem) the signature must match")
        self.pem_edit.setPlaceholderText("public key .pem")
        self.pem_btn = QPushButton("Choose…")
        self.pem_btn.clicked.connect(self._on_choose_pem)
        row = QHBoxLayout()
        row.addWidget(self.verify_combo)
        row.addWidget(self.pem_edit, 1)
        row.addWidget(self.pem_btn)
        form.addRow("Verify with", row)
        self.dest_edit = QLineEdit()
        self.dest_edit.setToolTip("New, empty folder the verified skill is unpacked into")
        self.dest_edit.setPlaceholderText("destination folder (new, empty, or a workspace)")
        self.dest_btn = QPushButton("Choose…")
        self.dest_btn.clicked.connect(self._on_choose_dest)
        row = QHBoxLayout()
        row.addWidget(self.dest_edit, 1)
        row.addWidget(self.dest_btn)
        form.addRow("Destination", row)
        self.pull_btn = QPushButton("Pull && verify")
        self.cancel_btn = QPushButton("Cancel")
        self.pull_btn.clicked.connect(self._on_pull)
        self.cancel_btn.clicked.connect(self._on_cancel)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.pull_btn)
        row.addWidget(self.progress, 4)  # while hidden, the stretch keeps the buttons at their natural size
        row.addStretch(1)
        row.addWidget(self.cancel_btn)
        form.addRow("", row)
        self.verify_combo.currentIndexChanged.connect(self._sync)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(pull_box)
        lay.addWidget(self.status)
        self._sync()

    # ------------------------------------------------------------------------------ public
    def set_workspace(self, path: Path | None) -> None:
        """The workspace whose trust store verifies pulls (and the default destination)."""
        self.workspace = Path(path) if path else None
        if self.workspace and not self.dest_edit.text():
            self.dest_edit.setText(str(self.workspace))
        self._sync()

    @Slot()
    def refresh(self) -> None:
        try:
            loc = browse.parse_location(self.location_edit.text(), plain_http=self.plain_http.isChecked())
        except SkillStudioError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        self.repos.clear()
        self.tags.clear()
        self.details.clear()
        self.current = None

        def job(token: CancelToken, progress: Any) -> _Repos:
            return _Repos(loc, browse.list_repositories(loc))

        self._submit(job)
        self._say(f"Listing {loc}…")

    # ------------------------------------------------------------------------------ browsing
    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_repo_selected(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        self.tags.clear()
        self.details.clear()
        self.current = None
        loc = self._location
        if item is None or loc is None:
            return
        repo = item.text()

        def job(token: CancelToken, progress: Any) -> _Tags:
            return _Tags(repo, browse.list_tags(loc, repo))

        self._submit(job)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_tag_selected(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        self.details.clear()
        self.current = None
        self._sync()
        loc, repo = self._location, self.repos.currentItem()
        if item is None or loc is None or repo is None:
            return
        repo_name, tag = repo.text(), item.text()

        def job(token: CancelToken, progress: Any) -> browse.ArtifactInfo:
            return browse.describe(loc, repo_name, tag)

        self._submit(job)

    def _show_artifact(self, info: browse.ArtifactInfo) -> None:
        self.current = info
        names = self._trusted_names()
        e = html.escape
        annotated = info.annotations.get("dev.skillstudio.skill.digest")
        rows = [f"<h3>{e(str(info.ref))}</h3>",
                f"<p>manifest <code>{e(info.manifest_digest)}</code><br>"
                f"bundle <code>{e(info.zip_digest)}</code> ({info.zip_size} bytes)"
                + ("" if info.is_skill else "<br><b>not a Skill Studio bundle</b>")
                + ("<br><span style='color:#b3261e'>the bundle layer differs from the digest in the annotations "
                   "(altered?)</span>" if annotated and annotated != info.zip_digest else "") + "</p>",
                "<p><b>Annotations</b></p><table>"]
        rows += [f"<tr><td>{e(k)}</td><td>&nbsp;{e(v)}</td></tr>" for k, v in sorted(info.annotations.items())]
        rows.append("</table><p><b>Signatures</b></p>")
        if not info.signatures:
            rows.append("<p style='color:#b3261e'>unsigned: a pull will be refused</p>")
        for s in info.signatures:
            who = ", ".join(f"{k[:16]}" + (f" ({e(names[k])}, trusted)" if k in names else "") for k in s.keyids)
            rows.append(f"<p>• {who or '?'}" + (f" — signer {e(s.signer)}" if s.signer else "")
                        + (f"<br><span style='color:#b3261e'>{e(s.error)}</span>" if s.error else "")
                        + f"<br><small><code>{e(s.digest)}</code></small></p>")
        self.details.setHtml("".join(rows))
        self._sync()

    def _trusted_names(self) -> dict[str, str]:
        if self.workspace is None:
            return {}
        try:
            store = trust_mod.load(self.workspace)
        except SkillStudioError:
            return {}
        return {kid: f"{k.name}: {'/'.join(k.roles) or 'no role'}" for kid, k in store.keys.items()}

    # ------------------------------------------------------------------------------ pull
    @Slot()
    def _on_pull(self) -> None:
        info, loc = self.current, self._location
        if info is None or loc is None:
            self._say("Choose a repository and a tag first.", ERROR_STYLE)
            return
        dest_text = self.dest_edit.text().strip()
        try:
            if not dest_text:
                raise SkillStudioError("no destination folder", "choose where the skill goes")
            pubkeys: dict[str, crypto.PublicKey] = {}
            store = None
            if self.verify_combo.currentIndex() == VERIFY_PEM:
                pem = Path(self.pem_edit.text().strip()).expanduser()
                if not self.pem_edit.text().strip() or not pem.is_file():
                    raise SkillStudioError("no public key file", "choose the publisher's .pem")
                key = crypto.load_public_pem(pem.read_bytes(), str(pem))
                pubkeys = {crypto.key_id(key): key}
            else:
                if self.workspace is None:
                    raise SkillStudioError("no workspace open, so no trust store", "choose a public key PEM instead")
                store = trust_mod.load(self.workspace)
        except (SkillStudioError, OSError) as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        ref, dest = info.ref, Path(dest_text).expanduser()

        def job(token: CancelToken, progress: Any) -> oci.PullResult:
            return oci.pull_bundle(ref, dest, pubkeys, trust=store, plain_http=loc.plain_http, cancel=token,
                                   download_progress=progress)

        self._pull_job = self._submit(job)
        self.progress.setRange(0, max(1, info.zip_size))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._say(f"Pulling {ref} (verified before anything is written)…")
        self._sync()

    @Slot()
    def _on_cancel(self) -> None:
        if self._pull_job is not None:
            self._cancelling = True
            self._pool.cancel(self._pull_job)
            self._say("Cancelling…")

    # ------------------------------------------------------------------------------ worker plumbing
    def _submit(self, fn: Any) -> int:
        job_id, _ = self._pool.submit(fn, on_result=self._on_job_result, on_error=self._on_job_error,
                                      on_progress=self._on_job_progress, on_finished=self._on_job_finished)
        return job_id

    @Slot(int, object)
    def _on_job_result(self, job_id: int, value: object) -> None:
        if isinstance(value, _Repos):
            self._location = value.location
            self.repos.clear()
            self.repos.addItems(value.names)
            self._say(f"{len(value.names)} repositories on {value.location}." if value.names
                      else f"No repositories on {value.location} yet.")
        elif isinstance(value, _Tags):
            cur = self.repos.currentItem()
            if cur is not None and cur.text() == value.repo:
                self.tags.clear()
                self.tags.addItems(value.tags)
        elif isinstance(value, browse.ArtifactInfo):
            cur = self.tags.currentItem()
            if cur is not None and cur.text() == getattr(value.ref, "tag", None):
                self._show_artifact(value)
        elif isinstance(value, oci.PullResult):
            self.last_pull = value
            v = value.verified
            roles = f" [{', '.join(value.trusted_roles)}]" if value.trusted_roles else ""
            self._say(f"Verified {v.name}@{v.version or '?'} signed by {', '.join(k[:16] for k in v.keyids)}{roles}"
                      f" → {value.dest}", OK_STYLE)
            self.sig_pulled.emit(value)

    @Slot(int, str)
    def _on_job_error(self, job_id: int, message: str) -> None:
        line = message.splitlines()[0] if message else "failed"
        self._say(("Not pulled: " if job_id == self._pull_job else "") + line, ERROR_STYLE)

    @Slot(int, int, int, int)
    def _on_job_progress(self, job_id: int, done: int, total: int, _cached: int) -> None:
        if job_id == self._pull_job and total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    @Slot(int)
    def _on_job_finished(self, job_id: int) -> None:
        if job_id == self._pull_job:
            self._pull_job = None
            self.progress.setVisible(False)
            if self._cancelling:
                self._say("Pull cancelled: nothing was written.")
            self._cancelling = False
        self._sync()

    # ------------------------------------------------------------------------------ helpers
    @Slot()
    def _on_choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Local registry folder", self.location_edit.text())
        if folder:
            self.location_edit.setText(folder)
            self.refresh()

    @Slot()
    def _on_choose_pem(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Publisher's public key", "", "PEM (*.pem);;All files (*)")
        if path:
            self.pem_edit.setText(path)
            self.verify_combo.setCurrentIndex(VERIFY_PEM)

    @Slot()
    def _on_choose_dest(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Destination folder", self.dest_edit.text())
        if folder:
            self.dest_edit.setText(folder)

    @Slot()
    def _sync(self) -> None:
        pulling = self._pull_job is not None
        self.pem_edit.setEnabled(self.verify_combo.currentIndex() == VERIFY_PEM)
        self.pem_btn.setEnabled(self.verify_combo.currentIndex() == VERIFY_PEM)
        self.pull_btn.setEnabled(not pulling and self.current is not None and self.current.is_skill)
        self.cancel_btn.setEnabled(pulling)

    def _say(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    def shutdown(self) -> None:
        self._pool.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
