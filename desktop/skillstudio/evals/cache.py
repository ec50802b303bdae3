"""Result cache in the workspace (`.skillstudio/cache/`), so an unchanged suite costs nothing to re-run.

Key: provider kind, base URL, model, the exact first request body (catalog and prompt included;
transport flags such as `stream` are not part of it, the outcome is the same), what else decides a
run's outcome (the case's fixture digest and the turn budget: `run_extra`) and the run index, so
each repeat of a case is its own entry. Version 2: results are judged by following the model until
it decides; version-1 entries (first shell call only) are never served for them. Only successful
results are stored; never a key or a header.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from skillstudio.bundle.statedir import STATE_DIR_NAME, ensure_state_dir
from skillstudio.evals.routers import RouteResult

CACHE_VERSION = 2


def run_extra(case: Any, max_turns: int) -> dict[str, Any]:
    """What decides a run's outcome besides the first request: the fixture and the turn budget."""
    return {"fixture": getattr(case, "fixture_digest", "") or "", "max_turns": int(max_turns)}


def cache_key(kind: str, base_url: str, model: str, body: dict[str, Any], run: int,
              extra: dict[str, Any] | None = None) -> str:
    blob = json.dumps({"v": CACHE_VERSION, "provider": kind, "base_url": base_url.rstrip("/"), "model": model,
                       "body": body, "run": run, "extra": extra or {}}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResultCache:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> RouteResult | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            if data.get("v") != CACHE_VERSION:
                return None
            return RouteResult.from_json(data["result"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged entry: ask the model again

    def put(self, key: str, result: RouteResult) -> None:
        """Write-then-rename without fsync: a cache entry is not user data (a torn or lost one is just
        asked again), and an fsync per result stalls the event loop of a 16-way run."""
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            if self.folder.parent.name == STATE_DIR_NAME:
                ensure_state_dir(self.folder.parent)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"v": CACHE_VERSION, "result": result.to_json()}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)  # a read-only workspace still runs; it just is not cached

    def put_many(self, items: list[tuple[str, RouteResult]]) -> None:
        """Several entries at once: the runner hands batches to a worker thread (file writes off the
        event loop, where each one stalled every request in flight)."""
        for key, result in items:
            self.put(key, result)

    def clear(self) -> int:
        n = 0
        for p in self.folder.glob("*/*.json"):
            p.unlink(missing_ok=True)
            n += 1
        return n
