"""Run history in SQLite: round trip, order, migration from JSON runs, concurrency, a damaged file."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.evals import metrics
from skillstudio.evals.routers.offline import OfflineRouter
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.runner import RunSettings, SuiteRun, run_suite_sync
from skillstudio.evals.store import DB_NAME, RunStore, request_log
from skillstudio.evals.suite import build_suite
from support.cli_runner import run_cli
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS


def _offline(workspace: Path, runs: int = 1) -> tuple[dict[str, Any], SuiteRun]:
    run = run_suite_sync(build_suite(workspace), OfflineRouter(), RunSettings(runs=runs))
    return metrics.summarize(run), run


def _normal(x: Any) -> Any:
    return json.loads(json.dumps(x))


def test_round_trip_keeps_report_requests_skills_and_no_credentials(workspace: Path) -> None:
    store = RunStore(workspace / ".skillstudio")
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        url = srv.base_url.replace("http://", "http://alice:hunter2@")
        run = run_suite_sync(build_suite(workspace), ResponsesRouter(model="gpt-4.1-mini", api_key="sk-secret-value",
                                                                     base_url=url), RunSettings(runs=2))
    report = metrics.summarize(run)
    run_id = store.save(report, run)
    loaded = store.load(run_id)
    assert loaded["id"] == run_id and store.list() == [run_id]
    log = loaded.pop("requests_log")
    assert log == _normal(request_log(run)) and len(log) == run.total
    assert {r["selected"] for r in log} >= {"crm-query", "support-reply", None}
    assert all(r["ttft_s"] is not None and r["usage"]["input_tokens"] > 0 for r in log)
    expected = _normal(report)
    expected["base_url"] = srv.base_url.rstrip("/")
    assert {k: v for k, v in loaded.items() if k != "id"} == expected
    with sqlite3.connect(store.path) as conn:
        dump = "\n".join(conn.iterdump())
        skills = conn.execute("SELECT name, version, digest FROM run_skills ORDER BY name").fetchall()
        cols = conn.execute("SELECT provider, model, settings FROM runs").fetchone()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        version = conn.execute("SELECT version FROM schema_version").fetchall()
    for secret in ("hunter2", "alice", "sk-secret-value"):
        assert secret not in dump
    assert [s[0] for s in skills] == ["crm-query", "ledger-reconcile", "support-reply"]
    assert {s[1] for s in skills} == {"1.0.0"} and all(len(s[2]) == 64 for s in skills)
    assert cols[0] == "responses" and cols[1] == "gpt-4.1-mini" and json.loads(cols[2])["concurrency"] == 8
    assert mode == "wal" and version == [(2,)]
    assert store.load(run_id, with_requests=False).get("requests_log") is None


def test_order_is_start_time_then_insertion_never_the_random_id(workspace: Path) -> None:
    store = RunStore(workspace / ".skillstudio")
    report, run = _offline(workspace)
    same_second = dict(report, started_at="2026-11-24T09:00:00+00:00")
    ids = [store.save(same_second, run) for _ in range(12)]  # random id suffixes: sorting them would shuffle
    assert store.list() == ids
    assert store.latest()["id"] == ids[-1] and store.previous()["id"] == ids[-2]
    earlier = store.save(dict(report, started_at="2026-11-24T08:59:59.5+00:00"), run)  # saved last, started first
    later_other_tz = store.save(dict(report, started_at="2026-11-24T10:00:01+01:00"), run)  # 09:00:01 UTC
    assert store.list() == [earlier, *ids, later_other_tz]
    assert store.load("latest")["id"] == later_other_tz and store.load("previous")["id"] == ids[-1]
    cmp = store.compare("previous", "latest")
    assert cmp["baseline"] == ids[-1] and cmp["compared"] == later_other_tz and cmp["fixed"] == cmp["broke"] == []
    with pytest.raises(SkillStudioError, match="no run with this id"):
        store.load("20990101T000000-000000")


def test_latest_and_previous_need_enough_runs(workspace: Path) -> None:
    store = RunStore(workspace / ".skillstudio")
    assert store.list() == [] and not store.path.exists()  # reading never creates a history
    with pytest.raises(SkillStudioError, match="no latest run yet"):
        store.load("latest")
    store.save(*_offline(workspace))
    with pytest.raises(SkillStudioError, match=r"no previous run yet \(1 saved\)"):
        store.load("previous")


def test_json_runs_of_earlier_versions_are_imported_once_and_left_in_place(workspace: Path) -> None:
    state = workspace / ".skillstudio"
    runs_dir = state / "runs"
    (runs_dir / "agent").mkdir(parents=True)
    agent_file = runs_dir / "agent" / "t1.json"  # an agent transcript: not a trigger run, never touched
    agent_file.write_text('{"transcript": []}')
    report, run = _offline(workspace)
    # Written the way the JSON store did: names sort by save time, contents carry the id and the log.
    old = []
    for name, started in (("20261120T100000000001-9f9f9f", "2026-11-20T10:00:00+00:00"),
                          ("20261120T100000000002-0a0a0a", "2026-11-20T10:00:00+00:00"),
                          ("20261119T080000000000-555555", "2026-11-19T08:00:00+00:00")):
        data = {**report, "started_at": started, "id": name, "requests_log": request_log(run),
                "base_url": "https://bob:pw@proxy.example:8443/v1"}
        (runs_dir / f"{name}.json").write_text(json.dumps(data))
        old.append(name)
    (runs_dir / "broken.json").write_text("{not json")
    before = {p: p.read_bytes() for p in runs_dir.rglob("*.json")}

    store = RunStore(state)
    assert store.list() == [old[2], old[0], old[1]]  # by start time, then the order they were saved
    assert any("broken.json" in n and "left as they are" in n for n in store.notices)
    got = store.load(old[0])
    assert got["base_url"] == "https://proxy.example:8443/v1"
    assert got["requests_log"] == _normal(request_log(run)) and got["summary"] == _normal(report["summary"])
    new_id = store.save(report, run)
    assert {p: p.read_bytes() for p in runs_dir.rglob("*.json")} == before  # user data left alone
    again = RunStore(state)  # a second open imports nothing twice
    assert again.list() == [old[2], old[0], old[1], new_id]
    with sqlite3.connect(again.path) as conn:
        assert conn.execute("SELECT count(*) FROM runs WHERE source IS NOT NULL").fetchone()[0] == 3
        assert "transcript" not in "\n".join(conn.iterdump())


def test_a_reader_never_sees_half_a_run_while_another_connection_writes(workspace: Path) -> None:
    report, run = _offline(workspace, runs=3)
    writer_store, reader = RunStore(workspace / ".skillstudio"), RunStore(workspace / ".skillstudio")
    writer_store.save(report, run)
    errors: list[BaseException] = []
    total = 25

    def writer() -> None:
        try:
            for _ in range(total):
                RunStore(workspace / ".skillstudio").save(report, run)  # its own connection, like another window
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    seen: set[str] = set()
    try:
        while t.is_alive() or len(seen) < 2:
            for run_id in reader.list()[-2:]:
                got = reader.load(run_id)
                assert len(got["requests_log"]) == run.total and got["summary"] == _normal(report["summary"])
                seen.add(run_id)
            if not t.is_alive():
                break
    finally:
        t.join()
    assert not errors and len(reader.list()) == total + 1 and len(seen) >= 2


def test_a_damaged_history_is_moved_aside_and_a_fresh_one_started(workspace: Path) -> None:
    state = workspace / ".skillstudio"
    state.mkdir()
    garbage = b"this is not a database, but it is somebody's file\n" * 200
    (state / DB_NAME).write_bytes(garbage)
    store = RunStore(state)
    assert store.list() == []
    assert len(store.notices) == 1 and "moved to runs.sqlite.damaged-" in store.notices[0]
    aside = list(state.glob(f"{DB_NAME}.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage  # nothing lost
    run_id = store.save(*_offline(workspace))
    assert RunStore(state).list() == [run_id]

    (state / DB_NAME).write_bytes(garbage)  # damaged again: the CLI says so in one line, no traceback
    for suffix in ("-wal", "-shm"):
        (state / (DB_NAME + suffix)).unlink(missing_ok=True)
    p = run_cli("runs", "list", str(workspace))
    assert p.returncode == 0 and "Traceback" not in p.stderr
    assert "could not be read" in p.stderr and "moved to runs.sqlite.damaged-" in p.stderr
    assert len(list(state.glob(f"{DB_NAME}.damaged-*"))) == 2


def test_a_history_from_a_newer_version_is_refused_not_overwritten(workspace: Path) -> None:
    state = workspace / ".skillstudio"
    store = RunStore(state)
    store.save(*_offline(workspace))
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(SkillStudioError, match="newer Skill Studio"):
        RunStore(state).list()
    assert not list(state.glob(f"{DB_NAME}.damaged-*"))


def test_runs_export_writes_every_format_of_a_saved_run(workspace: Path, tmp_path: Path) -> None:
    store = RunStore(workspace / ".skillstudio")
    report, run = _offline(workspace)
    first = store.save(report, run)
    store.save(report, run)
    out = {ext: tmp_path / f"r.{ext}" for ext in ("json", "xml", "html", "csv")}
    p = run_cli("runs", "export", str(workspace), first, "--json", str(out["json"]), "--junit", str(out["xml"]),
                "--html", str(out["html"]), "--csv", str(out["csv"]))
    assert p.returncode == 0, p.stderr
    exported = json.loads(out["json"].read_text())
    assert exported["id"] == first and exported["summary"] == _normal(report["summary"])
    assert "<testsuites" in out["xml"].read_text() and "Confusion matrix" in out["html"].read_text()
    assert len(out["csv"].read_text().splitlines()) == len(report["cases"]) + 1
    # an exported file is itself a run reference
    again = store.load(out["json"])
    assert again["id"] == first
