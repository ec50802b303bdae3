#!/usr/bin/env python3
"""Test the leaver control: was every leaver's account deactivated within the SLA after their last day?

Standard library only. Reads DATA_DIR/leavers.csv (user_id, last_day_end as ISO 8601 with offset)
and DATA_DIR/idp-events.jsonl (one identity-provider event per line: published, eventType, uuid,
target, actor). Every result cites its source line, so an auditor can re-perform the test.

Exceptions:
  late_deactivation    deactivated, but later than --sla-hours after the last day
  not_deactivated      no deactivation event for the user in the log
  activity_after_exit  the user started a session after their last day

Usage:
    python3 scripts/leaver_check.py DATA_DIR [--sla-hours 24] [--json]

Exit codes: 0 tested (exceptions may exist; they are the result, not an error), 2 unreadable input.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path

DEACTIVATE = "user.lifecycle.deactivate"
SESSION = "user.session.start"


class InputError(Exception):
    pass


def _when(value: str, where: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise InputError(f"{where}: '{value}' is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise InputError(f"{where}: '{value}' has no time zone offset")
    return t


def read_leavers(path: Path) -> list[dict]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"user_id", "last_day_end"} - set(reader.fieldnames or [])
            if missing:
                raise InputError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
            return [{"user": r["user_id"].strip(), "last_day": _when(r["last_day_end"], f"{path.name} line {i}"),
                     "line": i} for i, r in enumerate(reader, start=2)]
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_events(path: Path) -> list[dict]:
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"{path.name} line {i}: not valid JSON") from None
        out.append({"type": e.get("eventType"), "user": e.get("target"), "id": e.get("uuid"),
                    "at": _when(str(e.get("published")), f"{path.name} line {i}"), "line": i})
    return out


def check(leavers: list[dict], events: list[dict], sla_hours: float) -> dict:
    results, exceptions = [], []
    for lv in leavers:
        mine = [e for e in events if e["user"] == lv["user"]]
        deact = min((e for e in mine if e["type"] == DEACTIVATE and e["at"] >= lv["last_day"]),
                    key=lambda e: e["at"], default=None)
        row = {"user": lv["user"], "last_day_end": lv["last_day"].isoformat(), "leavers_line": lv["line"]}
        if deact is None:
            row.update(status="not_deactivated", hours=None, event=None)
            exceptions.append({**row, "detail": "no deactivation event in the log"})
        else:
            hours = round((deact["at"] - lv["last_day"]).total_seconds() / 3600, 1)
            row.update(hours=hours, event=deact["id"], events_line=deact["line"],
                       status="ok" if hours <= sla_hours else "late_deactivation")
            if hours > sla_hours:
                exceptions.append({**row, "detail": f"deactivated after {hours} h (SLA {sla_hours:g} h)"})
        cutoff = deact["at"] if deact else None
        for e in mine:
            if e["type"] == SESSION and e["at"] > lv["last_day"] and (cutoff is None or e["at"] < cutoff):
                exceptions.append({**row, "status": "activity_after_exit", "event": e["id"], "events_line": e["line"],
                                   "detail": f"session started {e['at'].isoformat()} after the last day"})
        results.append(row)
    ok = sum(r["status"] == "ok" for r in results)
    return {"population": len(results), "within_sla": ok, "sla_hours": sla_hours,
            "exceptions": exceptions, "results": results}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Check that leavers were deactivated within the SLA.")
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--sla-hours", type=float, default=24.0)
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    args = ap.parse_args(argv)
    try:
        leavers = read_leavers(args.data_dir / "leavers.csv")
        events = read_events(args.data_dir / "idp-events.jsonl")
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = check(leavers, events, args.sla_hours)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"Population: {result['population']} leavers · deactivated within {args.sla_hours:g} h: "
          f"{result['within_sla']} · exceptions: {len(result['exceptions'])}\n")
    if result["exceptions"]:
        print("| # | User | Exception | Detail | Source |")
        print("|---|---|---|---|---|")
        for n, x in enumerate(result["exceptions"], 1):
            src = f"leavers.csv line {x['leavers_line']}"
            if x.get("events_line"):
                src += f"; idp-events.jsonl line {x['events_line']} ({x['event']})"
            print(f"| E{n} | {x['user']} | {x['status']} | {x['detail']} | {src} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
