"""Export dialog, registry browser, trust and lock views against real parts: the OS keyring (Secret Service),
a local OCI layout folder and a real Distribution registry on loopback. Modal file/input dialogs are
monkeypatched; everything else is clicked."""

from __future__ import annotations

import email.parser
import email.policy
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox, QTableWidget

from skillstudio.release import keys, lockfile, trust
from skillstudio.release.registry import (
    MANIFEST,
    OciRef,
    RegistryClient,
    descriptor,
    sha256_digest,
)
from skillstudio.ui.publish.export_dialog import ExportDialog
from skillstudio.ui.publish.lock_view import LockView
from skillstudio.ui.publish.registry_browser import VERIFY_PEM, VERIFY_TRUST, RegistryBrowser
from skillstudio.ui.publish.trust_view import TrustView

WAIT = 20000


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def _cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    return item.text() if item is not None else ""


def _shot(w, artifacts: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    w.grab().save(str(artifacts / name))


def _dialog(qtbot, ws: Path, skill: str) -> ExportDialog:  # type: ignore[no-untyped-def]
    d = ExportDialog(ws, ws / skill)
    qtbot.addWidget(d)
    d.resize(820, 640)
    d.show()
    qtbot.waitExposed(d)
    return d


def _key(name: str) -> bytes:
    keys.delete(name)  # the session keyring is shared by tests
    keys.generate(name)
    return keys.export_public(name)


def _review(qtbot, d: ExportDialog) -> None:  # type: ignore[no-untyped-def]
    d.review_btn.click()
    qtbot.waitUntil(lambda: d.stack.currentIndex() == 1 and d._job is None, timeout=WAIT)


def _export(qtbot, d: ExportDialog) -> None:  # type: ignore[no-untyped-def]
    d.export_btn.click()
    qtbot.waitUntil(lambda: d._job is None and (d.result_info is not None or "failed" in d.status.text()),
                    timeout=WAIT)
    assert d.result_info is not None, d.status.text()


def _browse(qtbot, b: RegistryBrowser, location: str, repo: str, tag: str, *, plain_http: bool = False) -> None:  # type: ignore[no-untyped-def]
    b.location_edit.setText(location)
    b.plain_http.setChecked(plain_http)
    b.connect_btn.click()
    qtbot.waitUntil(lambda: bool(b.repos.findItems(repo, Qt.MatchFlag.MatchExactly)), timeout=WAIT)
    b.repos.setCurrentItem(b.repos.findItems(repo, Qt.MatchFlag.MatchExactly)[0])
    qtbot.waitUntil(lambda: bool(b.tags.findItems(tag, Qt.MatchFlag.MatchExactly)), timeout=WAIT)
    b.tags.setCurrentItem(b.tags.findItems(tag, Qt.MatchFlag.MatchExactly)[0])
    qtbot.waitUntil(lambda: b.current is not None and getattr(b.current.ref, "tag", None) == tag, timeout=WAIT)


def _pull(qtbot, b: RegistryBrowser, dest: Path) -> None:  # type: ignore[no-untyped-def]
    b.last_pull = None
    b.dest_edit.setText(str(dest))
    b.pull_btn.click()
    qtbot.waitUntil(lambda: b._pull_job is None, timeout=WAIT)


def test_export_local_layout_then_browse_pull_trust_and_lock(  # type: ignore[no-untyped-def]
        qtbot, real_keyring: None, example_workspace: Path, tmp_path: Path, artifacts_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_workspace
    keys.delete("ui-author")
    d = _dialog(qtbot, ws, "crm-query")
    assert "not released" in d.version_warning.text()  # a copy outside git has no release tag
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("ui-author", True)))
    d.generate_btn.click()
    qtbot.waitUntil(lambda: d.key_combo.currentData() == "ui-author", timeout=WAIT)
    pem = tmp_path / "ui-author.pem"
    pem.write_bytes(keys.export_public("ui-author"))

    # trust the key through the trust view (file + name + role dialogs answered)
    tv = TrustView()
    qtbot.addWidget(tv)
    tv.set_workspace(ws)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(pem), "")))
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("author and approver", True)))
    tv.add_btn.click()
    assert tv.table.rowCount() == 1 and _cell(tv.table, 0, 1) == "approver, author"
    tv.require["approver"].setChecked(True)
    tv.save_policy_btn.click()
    assert trust.load(ws).require_roles == ["approver"]

    registry = tmp_path / "registry"
    d.local_edit.setText(str(registry))
    d.lock_check.setChecked(True)
    _review(qtbot, d)
    prep = d._prepared
    assert prep is not None and prep.pack.digest in d.summary.text()
    assert "org.opencontainers.image.version = 1.0.0" in d.pushed_text.toPlainText()
    assert d.files_tree.topLevelItemCount() == len(prep.pack.files) and "SKILL.md" in [
        f.path for f in prep.pack.files]
    _shot(d, artifacts_dir, "release-export-review.png")
    _export(qtbot, d)
    assert (registry / "crm-query" / "oci-layout").is_file()
    assert "recorded crm-query@1.0.0 in skills.lock" in d.status.text()
    lock = lockfile.load_lock(ws)
    assert lock["crm-query"].digest == prep.pack.digest and lock["crm-query"].signers == [prep.keyid]
    _shot(d, artifacts_dir, "release-export-done.png")
    d.close()

    # browse the local registry and pull with the trust store (policy: approver)
    b = RegistryBrowser()
    qtbot.addWidget(b)
    b.resize(1000, 620)
    b.show()
    b.set_workspace(ws)
    _browse(qtbot, b, str(registry), "crm-query", "1.0.0")
    assert "ui-author: approver/author, trusted" in b.details.toPlainText()
    assert b.current is not None and b.current.annotations["org.opencontainers.image.title"] == "crm-query"
    b.verify_combo.setCurrentIndex(VERIFY_TRUST)
    dest = tmp_path / "pulled"
    _pull(qtbot, b, dest)
    assert b.last_pull is not None, b.status.text()
    assert (dest / "SKILL.md").read_bytes() == (ws / "crm-query" / "SKILL.md").read_bytes()
    assert "Verified crm-query@1.0.0" in b.status.text()
    _shot(b, artifacts_dir, "release-registry-browser-local.png")
    b.close()

    # lock view: the entry and a route; the local snippet goes to the clipboard
    lockfile.set_route(ws, "pipeline-questions", "crm-query", "1.0.0")
    lockfile.set_route(ws, "refunds", "support-reply", "2.0.0")
    lv = LockView()
    qtbot.addWidget(lv)
    lv.resize(900, 420)
    lv.show()
    lv.set_workspace(ws)
    assert lv.lock_table.rowCount() == 1 and _cell(lv.lock_table, 0, 0) == "crm-query"
    assert lv.routes_table.rowCount() == 2
    statuses = {_cell(lv.routes_table, r, 0): _cell(lv.routes_table, r, 2) for r in range(2)}
    assert statuses == {"pipeline-questions": "approved", "refunds": "not in skills.lock"}
    lv.routes_table.selectRow(0)
    lv.local_btn.click()
    code = QApplication.clipboard().text()
    assert "crm-query@1.0.0" in code and prep.pack.digest in code
    compile(code, "snippet.py", "exec")
    lv.hosted_btn.click()  # no OpenAI skill id in the lock: a clear refusal, clipboard untouched
    assert "no OpenAI skill id" in lv.status.text() and QApplication.clipboard().text() == code
    _shot(lv, artifacts_dir, "release-lock-view.png")

    tv.resize(820, 320)
    tv.show()
    tv.reload()
    _shot(tv, artifacts_dir, "release-trust-view.png")
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    tv.table.selectRow(0)
    tv.remove_btn.click()
    assert tv.table.rowCount() == 0 and not (trust.trust_dir(ws) / "ui-author.pem").exists()


def test_export_to_registry_browse_pull_and_refusals(  # type: ignore[no-untyped-def]
        qtbot, real_keyring: None, oci_registry: str, example_workspace: Path, tmp_path: Path,
        artifacts_dir: Path) -> None:
    ws = example_workspace
    pem = tmp_path / "ui-pub.pem"
    pem.write_bytes(_key("ui-publisher"))
    other = tmp_path / "other.pem"
    other.write_bytes(_key("ui-other"))
    d = _dialog(qtbot, ws, "support-reply")
    d._refresh_keys(select="ui-publisher")
    d.target_combo.setCurrentIndex(1)
    d.ref_edit.setText(f"oci://{oci_registry}/skills/support-reply:1.0.0")
    # without plain HTTP the registry cannot be reached: one clear line, nothing pushed
    _review(qtbot, d)
    d.export_btn.click()
    qtbot.waitUntil(lambda: d._job is None and "plain" in d.status.text().lower(), timeout=WAIT)
    assert "\n" not in d.status.text() and "Traceback" not in d.status.text()
    d.back_btn.click()
    d.plain_http.setChecked(True)
    _review(qtbot, d)
    _export(qtbot, d)
    digest = d.result_info.manifest_digest if d.result_info else ""
    d.close()

    b = RegistryBrowser()
    qtbot.addWidget(b)
    b.resize(1000, 620)
    b.show()
    b.set_workspace(ws)
    _browse(qtbot, b, f"oci://{oci_registry}", "skills/support-reply", "1.0.0", plain_http=True)
    assert b.current is not None and b.current.manifest_digest == digest
    assert [t for t in (b.tags.item(i).text() for i in range(b.tags.count())) if t.startswith("sha256-")] == []
    assert len(b.current.signatures) == 1 and b.current.signatures[0].signer == "ui-publisher"

    # the wrong key: refused, nothing written
    b.verify_combo.setCurrentIndex(VERIFY_PEM)
    b.pem_edit.setText(str(other))
    refused = tmp_path / "refused"
    _pull(qtbot, b, refused)
    assert b.last_pull is None and b.status.text().startswith("Not pulled:") and tree(refused) == []
    # the publisher's key: verified and written
    b.pem_edit.setText(str(pem))
    dest = tmp_path / "pulled"
    _pull(qtbot, b, dest)
    assert b.last_pull is not None, b.status.text()
    assert (dest / "SKILL.md").read_bytes() == (ws / "support-reply" / "SKILL.md").read_bytes()
    _shot(b, artifacts_dir, "release-registry-browser-oci.png")

    # an unsigned copy (same manifest and blobs, no signature referrer) is refused; so is a tampered bundle
    # (one byte of the zip changed) that still carries the original signature as its referrer
    src = RegistryClient(OciRef(oci_registry, "skills/support-reply"), plain_http=True)
    raw, _, digest = src.get_manifest("1.0.0", (MANIFEST,)) or (b"", "", "")
    m = json.loads(raw)
    zip_bytes = src.get_blob(m["layers"][0]["digest"], 1 << 26)
    [sig_desc] = src.referrers(digest)
    sig_raw = (src.get_manifest(sig_desc["digest"], (MANIFEST,)) or (b"", "", ""))[0]
    sig_m = json.loads(sig_raw)
    with RegistryClient(OciRef(oci_registry, "skills/unsigned"), plain_http=True) as dst:
        for desc in [m["config"], *m["layers"], sig_m["config"], *sig_m["layers"]]:
            dst.push_blob(src.get_blob(desc["digest"], 1 << 26))
        dst.put_manifest("1.0", raw, MANIFEST)
        bad = bytearray(zip_bytes)
        bad[len(bad) // 2] ^= 0x01
        bad_digest = dst.push_blob(bytes(bad))
        m["layers"][0].update(digest=bad_digest, size=len(bad))
        m2 = json.dumps(m).encode()
        dst.put_manifest("tampered", m2, MANIFEST)
        sig_m["subject"] = descriptor(MANIFEST, m2)
        sig2 = json.dumps(sig_m).encode()
        dst.put_referrer(sha256_digest(m2), sig2, descriptor(MANIFEST, sig2, artifactType=sig_desc["artifactType"],
                                                             annotations=sig_desc.get("annotations")))
    src.close()
    for tag, shown, why in (("1.0", "unsigned: a pull will be refused", "not signed"),
                            ("tampered", "differs from the digest in the annotations", "altered")):
        _browse(qtbot, b, f"oci://{oci_registry}", "skills/unsigned", tag, plain_http=True)
        assert shown in b.details.toPlainText()
        target = tmp_path / f"refused-{tag}"
        _pull(qtbot, b, target)
        assert b.last_pull is None and why in b.status.text() and tree(target) == [], b.status.text()
    _shot(b, artifacts_dir, "release-registry-browser-refused.png")
    b.close()


def test_cancel_mid_upload_leaves_no_tag(  # type: ignore[no-untyped-def]
        qtbot, real_keyring: None, oci_registry: str, example_workspace: Path, tmp_path: Path,
        artifacts_dir: Path) -> None:
    ws = example_workspace
    big = ws / "ledger-reconcile" / "assets"
    big.mkdir(exist_ok=True)
    (big / "statements.bin").write_bytes(os.urandom(30 * 1024 * 1024))
    _key("ui-big")
    d = _dialog(qtbot, ws, "ledger-reconcile")
    d._refresh_keys(select="ui-big")
    d.target_combo.setCurrentIndex(1)
    d.plain_http.setChecked(True)
    ref = f"oci://{oci_registry}/skills/big:1.0.0"
    d.ref_edit.setText(ref)
    _review(qtbot, d)
    zip_digest = d._prepared.pack.digest if d._prepared else ""
    shots: list[int] = []

    def cancel_midway(value: int) -> None:
        if 0 < value < d.progress.maximum() and not shots:
            shots.append(value)
            _shot(d, artifacts_dir, "release-export-uploading.png")
            d.cancel_btn.click()

    d.progress.valueChanged.connect(cancel_midway)
    d.export_btn.click()
    qtbot.waitUntil(lambda: d._job is None, timeout=60000)
    assert shots, "no upload progress was shown"
    assert d.result_info is None and d.status.text().startswith("Cancelled")
    with RegistryClient(OciRef(oci_registry, "skills/big"), plain_http=True) as c:
        assert c.get_manifest("1.0.0") is None
        assert not c.blob_exists(zip_digest)
    _shot(d, artifacts_dir, "release-export-cancelled.png")
    d.close()


def test_secret_in_bundle_and_registry_login_are_one_line_refusals(  # type: ignore[no-untyped-def]
        qtbot, real_keyring: None, oci_registry_auth: tuple[str, str, str], example_workspace: Path,
        artifacts_dir: Path) -> None:
    from skillstudio.secrets.vault import Vault
    from support.leaks import register_test_secret

    ws = example_workspace
    value = register_test_secret("crm-ui-9f8e7d6c5b4a")
    Vault(ws).set("CRM_TOKEN", value, domains=["crm.example.com"])
    leak = ws / "crm-query" / "references" / "debug.log"
    leak.write_text(f"Authorization: Bearer {value}\n")
    _key("ui-secret")
    d = _dialog(qtbot, ws, "crm-query")
    d._refresh_keys(select="ui-secret")
    d.review_btn.click()
    qtbot.waitUntil(lambda: d._job is None and bool(d.status.text()) and "Packing" not in d.status.text(),
                    timeout=WAIT)
    assert d.stack.currentIndex() == 0 and d._prepared is None
    assert "references/debug.log contains the value of a stored secret" in d.status.text()
    assert value not in d.status.text()
    _shot(d, artifacts_dir, "release-export-secret-refused.png")

    # a registry that needs a login, and none stored: a clear error, nothing pushed
    leak.unlink()
    host, _, _ = oci_registry_auth
    d.target_combo.setCurrentIndex(1)
    d.plain_http.setChecked(True)
    d.ref_edit.setText(f"oci://{host}/skills/crm-query:1.0.0")
    _review(qtbot, d)
    d.export_btn.click()
    qtbot.waitUntil(lambda: d._job is None and "requires a login" in d.status.text(), timeout=WAIT)
    assert d.result_info is None and "registry login" in d.status.text()
    d.close()


class _SkillsAPI(BaseHTTPRequestHandler):
    """The Skills API wire format (list + create from a multipart zip) — the only fake allowed."""

    uploads: list[bytes] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: dict[str, object]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802
        self._send({"object": "list", "data": [], "has_more": False, "first_id": None, "last_id": None})

    def do_POST(self) -> None:  # noqa: N802
        assert self.headers.get("Authorization") == "Bearer sk-ui-test" and self.path == "/v1/skills"
        body = self.rfile.read(int(self.headers["Content-Length"]))
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        self.uploads += [bytes(p.get_payload(decode=True)) for p in msg.iter_parts() if p.get_filename()]
        self._send({"id": "skill_ui1", "object": "skill", "created_at": 1, "name": "crm-query", "description": "d",
                    "default_version": "1", "latest_version": "1"})


def test_export_to_openai_records_the_skill_id_for_the_hosted_snippet(  # type: ignore[no-untyped-def]
        qtbot, real_keyring: None, example_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _SkillsAPI.uploads = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SkillsAPI)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ui-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    try:
        ws = example_workspace
        trust.add_key(ws, "ui-openai", _key("ui-openai"), ["approver"])
        d = _dialog(qtbot, ws, "crm-query")
        d._refresh_keys(select="ui-openai")
        d.target_combo.setCurrentIndex(2)
        d.lock_check.setChecked(True)
        _review(qtbot, d)
        assert "POST /v1/skills" in d.pushed_text.toPlainText()
        _export(qtbot, d)
        prep = d._prepared
        assert prep is not None and _SkillsAPI.uploads == [prep.pack.path.read_bytes()]
        assert "recorded crm-query@1.0.0" in d.status.text()
        d.close()
        assert lockfile.load_lock(ws)["crm-query"].openai == {"skill_id": "skill_ui1", "version": "1"}
        lockfile.set_route(ws, "pipeline-questions", "crm-query", "1.0.0")
        lv = LockView()
        qtbot.addWidget(lv)
        lv.set_workspace(ws)
        lv.hosted_btn.click()
        code = QApplication.clipboard().text()
        assert "'skill_id': 'skill_ui1'" in code and "'version': '1'" in code, lv.status.text()
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)
