"""Run history: one JSON file per run under `<workspace>/.skillstudio/runs/`.

A saved run is the full report (same dictionary as `test --json`) plus every request's outcome, so
any run can be exported again or compared without re-running. Never a secret: API keys are not
part of a run at all and credentials embedded in a base URL are stripped before saving.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skillstudio.bundle.fileio import atomic_write
from skillstudio.errors import SkillStudioError
from skillstudio.evals.metrics import redact_url
from skillstudio.evals.runner import SuiteRun

__all__ = ["RunStore", "redact_url", "request_log"]


def request_log(run: SuiteRun) -> list[dict[str, Any]]:
    out = []
    for (case, r), o in sorted(run.outcomes.items()):
        res = o.result
        out.append({"case": case, "run": r, "selected": o.selected if o.error is None else None,
                    "error": o.error, "cached": o.cached, "attempts": o.attempts,
                    "first_command": res.first_command if res else None,
                    "latency_s": res.latency_s if res else None, "ttft_s": res.ttft_s if res else None,
                    "usage": res.usage if res else None, "early_stop": res.early_stop if res else None,
                    "events": res.raw_events_summary if res else []})
    return out


class RunStore:
    def __init__(self, state_dir: Path) -> None:
        self.folder = Path(state_dir) / "runs"

    def save(self, report: dict[str, Any], run: SuiteRun | None = None) -> Path:
        data = dict(report)
        data["base_url"] = redact_url(str(data.get("base_url") or ""))
        if run is not None:
            data["requests_log"] = request_log(run)
        # Microseconds of the save time first: names sort in the order runs were saved.
        run_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:6]}"
        data["id"] = run_id
        path = self.folder / f"{run_id}.json"
        atomic_write(path, json.dumps(data, indent=1, ensure_ascii=False))
        return path

    def list(self) -> list[Path]:
        return sorted(self.folder.glob("*.json"))

    def load(self, ref: str | Path) -> dict[str, Any]:
        """A run by file path, id, or `latest` / `previous`."""
        path = Path(ref)
        if not path.is_file():
            runs = self.list()
            if str(ref) in ("latest", "previous"):
                need = 1 if ref == "latest" else 2
                if len(runs) < need:
                    raise SkillStudioError(f"there is no {ref} run yet ({len(runs)} saved)",
                                           "run `skillstudio test` first; runs are saved unless --no-save")
                path = runs[-need]
            else:
                path = self.folder / f"{ref}.json"
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise SkillStudioError(f"cannot read saved run {ref}: {exc}",
                                   f"saved runs are in {self.folder}") from None
