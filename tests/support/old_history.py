"""A run history as schema 1 wrote it (before trajectories), for tests of what old workspaces hold.

The report is a real one with the fields schema 1 did not know taken out: no verdict rule, no run
categories, turns or trajectories, no misrouting counts, request rows without trajectory columns.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA_1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, started_at TEXT NOT NULL,
    saved_at TEXT NOT NULL, provider TEXT, model TEXT, base_url TEXT, estimate INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL, summary TEXT NOT NULL, report TEXT NOT NULL, source TEXT);
CREATE INDEX runs_order ON runs (started_at, seq);
CREATE TABLE run_skills (run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
    name TEXT NOT NULL, path TEXT, version TEXT, digest TEXT, description TEXT);
CREATE TABLE requests (run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
    case_index INTEGER NOT NULL, run_index INTEGER NOT NULL, selected TEXT, error TEXT,
    cached INTEGER NOT NULL DEFAULT 0, attempts INTEGER, first_command TEXT, ttft_s REAL, latency_s REAL,
    input_tokens INTEGER, output_tokens INTEGER, usage_estimated INTEGER NOT NULL DEFAULT 0,
    early_stop INTEGER, events TEXT, PRIMARY KEY (run_seq, case_index, run_index));
CREATE TABLE migrated_files (name TEXT PRIMARY KEY, run_id TEXT, migrated_at TEXT NOT NULL);
"""

NEWER_REPORT_KEYS = ("verdict_rule", "max_turns")
NEWER_CASE_KEYS = ("categories", "undecided", "turns", "trajectories")
NEWER_SUMMARY_KEYS = ("categories", "undecided", "turns_mean", "decision_p50_s", "decision_p95_s",
                      "routed_cases", "misrouted_runs", "misrouted_cases")


def as_schema_1(report: dict[str, Any]) -> dict[str, Any]:
    """A copy of a current report with what schema 1 did not store taken out."""
    old = json.loads(json.dumps(report))
    for key in NEWER_REPORT_KEYS:
        old.pop(key, None)
    for key in NEWER_SUMMARY_KEYS:
        old["summary"].pop(key, None)
    for case in old["cases"]:
        for key in NEWER_CASE_KEYS:
            case.pop(key, None)
    return old


def write_schema_1_history(state: Path, report: dict[str, Any], requests_log: list[dict[str, Any]],
                           run_id: str = "old-1", started_at: str = "2026-01-01T00:00:00.000000+00:00") -> None:
    """A fresh `runs.sqlite` at schema 1 holding one run (the store migrates it when it opens it)."""
    old = as_schema_1(report)
    old["id"] = run_id
    old["started_at"] = started_at
    state.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(state / "runs.sqlite") as conn:
        conn.executescript(SCHEMA_1)
        conn.execute("INSERT INTO runs (id, started_at, saved_at, provider, model, base_url, settings, summary, "
                     "report) VALUES (?, ?, 'x', ?, ?, '', '{}', ?, ?)",
                     (run_id, started_at, old.get("provider"), old.get("model"), json.dumps(old["summary"]),
                      json.dumps(old)))
        conn.executemany("INSERT INTO requests (run_seq, case_index, run_index, selected, error, cached, "
                         "first_command, latency_s, ttft_s) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [(r["case"], r["run"], r["selected"], r["error"], int(bool(r["cached"])),
                           r["first_command"], r["latency_s"], r["ttft_s"]) for r in requests_log])
