"""Run history in SQLite: `<workspace>/.skillstudio/runs.sqlite`.

Every run keeps the full report (the `test --json` dictionary), the skills' versions and content
digests, provider, model and settings, and one row per request (selected skill, TTFT, latency,
usage, cached, error) — so any run can be exported again or compared without re-running.

Why SQLite: one file, atomic per-run writes (one transaction), readers that never block the writer
(WAL), and a real order: runs sort by when they started, then by insertion — never by a random id.
Never a secret: API keys are not part of a run and credentials in a base URL are stripped first.
JSON runs of earlier versions (`.skillstudio/runs/*.json`) are imported once and left in place; a
damaged database is moved aside (kept for the user) and a fresh one started, with a notice saying so.

Schema 2 (migrated in place): each request also keeps how the run decided — outcome, category,
model turns and the trajectory (commands, truncated outputs). Runs stored before it have none and
are labelled with the rule they were judged by, "first-call rule"; they stay readable and comparable.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skillstudio.bundle.statedir import ensure_state_dir
from skillstudio.errors import SkillStudioError
from skillstudio.evals.metrics import redact_url
from skillstudio.evals.runner import SuiteRun
from skillstudio.evals.trajectory import FIRST_CALL, LEGACY_RULE, category

__all__ = ["DB_NAME", "SCHEMA_VERSION", "RunStore", "redact_url", "request_log"]

DB_NAME = "runs.sqlite"
SCHEMA_VERSION = 2
_BUSY_TIMEOUT_S = 15.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order: the tie-breaker for equal start times
    id TEXT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,  -- UTC ISO-8601 with microseconds: sorts as text
    saved_at TEXT NOT NULL,
    provider TEXT, model TEXT, base_url TEXT, estimate INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL,  -- JSON
    summary TEXT NOT NULL,  -- JSON
    report TEXT NOT NULL,  -- JSON: the whole report without the request log
    source TEXT  -- the JSON file a migrated run came from
);
CREATE INDEX IF NOT EXISTS runs_order ON runs (started_at, seq);
CREATE TABLE IF NOT EXISTS run_skills (
    run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
    name TEXT NOT NULL, path TEXT, version TEXT, digest TEXT, description TEXT
);
CREATE INDEX IF NOT EXISTS run_skills_run ON run_skills (run_seq);
CREATE TABLE IF NOT EXISTS requests (
    run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
    case_index INTEGER NOT NULL, run_index INTEGER NOT NULL,
    selected TEXT, error TEXT, cached INTEGER NOT NULL DEFAULT 0, attempts INTEGER,
    first_command TEXT, ttft_s REAL, latency_s REAL,
    input_tokens INTEGER, output_tokens INTEGER, usage_estimated INTEGER NOT NULL DEFAULT 0,
    early_stop INTEGER, events TEXT,
    outcome TEXT, category TEXT, turns INTEGER, trajectory TEXT,  -- schema 2 (NULL: first-call rule)
    PRIMARY KEY (run_seq, case_index, run_index)
);
CREATE TABLE IF NOT EXISTS migrated_files (name TEXT PRIMARY KEY, run_id TEXT, migrated_at TEXT NOT NULL);
"""


# Columns added after schema 1, with their types (ALTER TABLE on an older history).
_ADDED_COLUMNS = {"requests": [("outcome", "TEXT"), ("category", "TEXT"), ("turns", "INTEGER"),
                               ("trajectory", "TEXT")]}


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an older history to SCHEMA_VERSION in place (one transaction; old rows stay as they are)."""
    for table, columns in _ADDED_COLUMNS.items():
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    conn.execute("DELETE FROM schema_version")
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))


def request_log(run: SuiteRun) -> list[dict[str, Any]]:
    out = []
    skills = {c.index: c.skill for c in run.suite.cases}
    for (case, r), o in sorted(run.outcomes.items()):
        res = o.result
        out.append({"case": case, "run": r, "selected": o.selected if o.error is None else None,
                    "error": o.error, "cached": o.cached, "attempts": o.attempts,
                    "first_command": res.first_command if res else None,
                    "latency_s": res.latency_s if res else None, "ttft_s": res.ttft_s if res else None,
                    "usage": res.usage if res else None, "early_stop": res.early_stop if res else None,
                    "events": res.raw_events_summary if res else [],
                    "outcome": res.outcome if res else None,
                    "category": category(res, skills.get(case)) if res and o.error is None else None,
                    "turns": res.turns if res else None, "trajectory": res.trajectory if res else []})
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _sort_stamp(value: Any, fallback: str) -> str:
    """Started-at as UTC with microseconds, so text order is time order whatever the input format."""
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return fallback
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _new_id(stamp: str) -> str:
    digits = "".join(ch for ch in stamp[:26] if ch.isdigit())
    return f"{digits[:8]}T{digits[8:]}-{uuid.uuid4().hex[:6]}"


def _int(x: Any) -> int | None:
    return None if x is None else int(x)


class StoreCorrupt(SkillStudioError):
    """A history operation failed after the database opened (disk full, locked too long, damaged)."""


class RunStore:
    """Saved runs of one workspace. Cheap to create; the database opens on first use."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / DB_NAME
        self.folder = self.state_dir / "runs"  # JSON runs of earlier versions (imported, left in place)
        self.notices: list[str] = []  # things the user should be told (a damaged DB moved aside, ...)
        self._ready = False

    # ------------------------------------------------------------------ connection

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            known = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone()
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone() if known else None
            if row is not None and row[0] is not None and int(row[0]) > SCHEMA_VERSION:
                raise SkillStudioError(f"{self.path} was written by a newer Skill Studio (schema {row[0]})",
                                       "update Skill Studio to read this run history")  # and leave it as is
            conn.executescript(_SCHEMA)
            conn.execute("BEGIN IMMEDIATE")  # two windows opening a new history: one version row
            try:
                found = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
                if found is None:
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                elif int(found) < SCHEMA_VERSION:
                    _migrate(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return conn
        except BaseException:
            conn.close()
            raise

    def _move_aside(self, why: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{DB_NAME}.damaged-{stamp}-{uuid.uuid4().hex[:4]}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.replace(Path(str(aside) + suffix))
        self.notices.append(f"the run history {self.path.name} could not be read ({why}); it was moved "
                            f"to {aside.name} (kept, nothing deleted) and a fresh history was started")

    def _ensure(self) -> None:
        if self._ready:
            return
        ensure_state_dir(self.state_dir)  # with its .gitignore: run history stays out of git
        try:
            try:
                conn = self._open_checked()
            except sqlite3.OperationalError:
                raise  # locked, unwritable, ...: the file itself is fine, never move it
            except sqlite3.DatabaseError as exc:  # not a database / malformed: keep it aside, start fresh
                self._move_aside(str(exc))
                conn = self._open_checked()
            try:
                self._migrate_json(conn)
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            raise SkillStudioError(f"cannot open the run history {self.path}: {exc}",
                                   "check that the folder is writable and no other program holds the file") \
                from None
        self._ready = True

    @contextmanager
    def _db(self, *, create: bool = True) -> Iterator[sqlite3.Connection | None]:
        """A connection (None when there is no history yet and `create` is False)."""
        if not create and not self._ready and not self.path.exists() and not any(self.folder.glob("*.json")):
            yield None
            return
        self._ensure()
        conn = self._connect()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise StoreCorrupt(f"the run history {self.path} failed: {exc}",
                               "check free disk space, close other Skill Studio windows and try again; if it "
                               "persists, move the file away (a fresh history starts on the next run)") from None
        finally:
            conn.close()

    # ------------------------------------------------------------------ writing

    def save(self, report: dict[str, Any], run: SuiteRun | None = None) -> str:
        """Store one run atomically (one transaction); returns its id."""
        data = dict(report)
        data["base_url"] = redact_url(str(data.get("base_url") or ""))
        log = request_log(run) if run is not None else list(data.get("requests_log") or [])
        data.pop("requests_log", None)
        saved = _now()
        started = _sort_stamp(data.get("started_at"), saved)
        data["id"] = _new_id(started)  # always new: a re-saved report is another run
        with self._db() as conn:
            assert conn is not None
            self._insert(conn, data, log, started, saved, None)
        return str(data["id"])

    def _insert(self, conn: sqlite3.Connection, data: dict[str, Any], log: list[dict[str, Any]], started: str,
                saved: str, source: str | None) -> bool:
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "INSERT OR IGNORE INTO runs (id, started_at, saved_at, provider, model, base_url, estimate, "
                "settings, summary, report, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (data["id"], started, saved, data.get("provider"), data.get("model"), data.get("base_url"),
                 int(bool(data.get("estimate"))), json.dumps(data.get("settings") or {}),
                 json.dumps(data.get("summary") or {}), json.dumps(data, ensure_ascii=False), source))
            if cur.rowcount == 0:  # the same run id is already there (a re-import)
                conn.execute("ROLLBACK")
                return False
            seq = cur.lastrowid
            conn.executemany(
                "INSERT INTO run_skills (run_seq, name, path, version, digest, description) VALUES (?,?,?,?,?,?)",
                [(seq, s.get("name"), s.get("path"), s.get("version"), s.get("digest"), s.get("description"))
                 for s in data.get("skills") or []])
            conn.executemany(
                "INSERT OR REPLACE INTO requests (run_seq, case_index, run_index, selected, error, cached, "
                "attempts, first_command, ttft_s, latency_s, input_tokens, output_tokens, usage_estimated, "
                "early_stop, events, outcome, category, turns, trajectory) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(seq, int(r["case"]), int(r["run"]), r.get("selected"), r.get("error"), int(bool(r.get("cached"))),
                  _int(r.get("attempts")), r.get("first_command"), r.get("ttft_s"), r.get("latency_s"),
                  _int((r.get("usage") or {}).get("input_tokens")),
                  _int((r.get("usage") or {}).get("output_tokens")),
                  int(bool((r.get("usage") or {}).get("estimated"))),
                  None if r.get("early_stop") is None else int(bool(r["early_stop"])),
                  json.dumps(r.get("events") or []), r.get("outcome"), r.get("category"), _int(r.get("turns")),
                  json.dumps(r.get("trajectory") or [], ensure_ascii=False)) for r in log])
            conn.execute("COMMIT")
            return True
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _migrate_json(self, conn: sqlite3.Connection) -> None:
        """Import JSON runs of earlier versions once (by file name); the files stay where they are."""
        files = sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []
        if not files:
            return
        done = {r[0] for r in conn.execute("SELECT name FROM migrated_files")}
        unreadable = []
        for f in files:
            if f.name in done:
                continue
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
                if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
                    raise ValueError("not a saved run")
            except (OSError, ValueError):
                unreadable.append(f.name)
                continue
            data["id"] = str(data.get("id") or f.stem)
            data["base_url"] = redact_url(str(data.get("base_url") or ""))
            log = [r for r in data.pop("requests_log", None) or [] if isinstance(r, dict)
                   and "case" in r and "run" in r]
            saved = datetime.fromtimestamp(f.stat().st_mtime, UTC).isoformat(timespec="microseconds")
            self._insert(conn, data, log, _sort_stamp(data.get("started_at"), saved), saved, f.name)
            conn.execute("INSERT OR REPLACE INTO migrated_files (name, run_id, migrated_at) VALUES (?,?,?)",
                         (f.name, data["id"], _now()))
        if unreadable:
            self.notices.append(f"{len(unreadable)} old run file(s) in {self.folder} could not be imported "
                                f"({', '.join(unreadable[:3])}{'…' if len(unreadable) > 3 else ''}); left as they are")

    # ------------------------------------------------------------------ reading

    def list(self) -> list[str]:
        """Run ids, oldest first (by start time, then by the order they were saved)."""
        with self._db(create=False) as conn:
            if conn is None:
                return []
            return [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY started_at, seq")]

    def latest(self) -> dict[str, Any]:
        return self.load("latest")

    def previous(self) -> dict[str, Any]:
        return self.load("previous")

    def resolve(self, ref: str | Path) -> str:
        """The id of `latest`, `previous` or an id (checked to exist)."""
        ref = str(ref)
        with self._db(create=False) as conn:
            if ref in ("latest", "previous"):
                need = 1 if ref == "latest" else 2
                rows = [] if conn is None else conn.execute(
                    "SELECT id FROM runs ORDER BY started_at DESC, seq DESC LIMIT 2").fetchall()
                if len(rows) < need:
                    raise SkillStudioError(f"there is no {ref} run yet ({len(rows)} saved)",
                                           "run the trigger tests first: each run is saved to the history")
                return str(rows[need - 1][0])
            row = None if conn is None else conn.execute("SELECT id FROM runs WHERE id = ?", (ref,)).fetchone()
        if row is None:
            raise SkillStudioError(f"cannot read saved run {ref}: no run with this id",
                                   f"see `skillstudio runs list` (history: {self.path})")
        return str(row[0])

    def load(self, ref: str | Path, *, with_requests: bool = True) -> dict[str, Any]:
        """A run by id, `latest` / `previous`, or the path of an exported run JSON file."""
        if isinstance(ref, Path) or str(ref).endswith(".json"):
            path = Path(ref)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SkillStudioError(f"cannot read saved run {ref}: {exc}", "give a run id or a run JSON file") \
                    from None
            if not isinstance(data, dict) or "cases" not in data:
                raise SkillStudioError(f"cannot read saved run {ref}: not a run report",
                                       "give a run report in JSON, as a trigger test or the run history exports it")
            data.setdefault("verdict_rule", LEGACY_RULE)
            return data
        run_id = self.resolve(ref)
        with self._db() as conn:
            assert conn is not None
            row = conn.execute("SELECT seq, report FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:  # deleted between resolve and load by another process
                raise SkillStudioError(f"cannot read saved run {ref}: it is gone", "list the runs again")
            data = dict(json.loads(row["report"]))
            data.setdefault("verdict_rule", LEGACY_RULE)  # saved before runs followed the model
            if with_requests:
                data["requests_log"] = [self._request(r) for r in conn.execute(
                    "SELECT * FROM requests WHERE run_seq = ? ORDER BY case_index, run_index", (row["seq"],))]
        return data

    @staticmethod
    def _request(r: sqlite3.Row) -> dict[str, Any]:
        usage: dict[str, Any] | None = None
        if r["input_tokens"] is not None or r["output_tokens"] is not None:
            usage = {"input_tokens": r["input_tokens"] or 0, "output_tokens": r["output_tokens"] or 0}
            if r["usage_estimated"]:
                usage["estimated"] = 1
        return {"case": r["case_index"], "run": r["run_index"], "selected": r["selected"], "error": r["error"],
                "cached": bool(r["cached"]), "attempts": r["attempts"], "first_command": r["first_command"],
                "latency_s": r["latency_s"], "ttft_s": r["ttft_s"], "usage": usage,
                "early_stop": None if r["early_stop"] is None else bool(r["early_stop"]),
                "events": json.loads(r["events"] or "[]"), "outcome": r["outcome"],
                # a request stored before trajectories was judged by its first shell call
                "category": r["category"] or (FIRST_CALL if r["error"] is None else None),
                "turns": r["turns"], "trajectory": json.loads(r["trajectory"] or "[]")}

    def compare(self, a: str | Path = "previous", b: str | Path = "latest") -> dict[str, Any]:
        """metrics.compare of two saved runs, with their ids."""
        from skillstudio.evals import metrics

        base, other = self.load(a, with_requests=False), self.load(b, with_requests=False)
        return {"baseline": base.get("id"), "compared": other.get("id"), **metrics.compare(base, other)}
