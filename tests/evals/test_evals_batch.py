"""Batch mode over the Files and Batches API of the scripted server: same outcomes, same cache."""

from __future__ import annotations

import json
from pathlib import Path

from skillstudio.cancel import CancelToken
from skillstudio.evals import metrics
from skillstudio.evals.batch import run_batch_sync
from skillstudio.evals.cache import ResultCache
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.suite import build_suite
from support.cli_runner import cli
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS


def _comparable(report: dict) -> list[tuple]:
    return [(c["prompt"], c["selected"], c["status"]) for c in report["cases"]]


def test_batch_gives_the_interactive_outcome_and_fills_the_same_cache(workspace: Path) -> None:
    suite = build_suite(workspace)
    cache = ResultCache(suite.state_dir / "cache")
    statuses: list[str] = []
    with FakeOpenAI(Script(keywords=list(KEYWORDS), batch_polls=3)) as srv:
        batch = run_batch_sync(suite, model="m", api_key="k", base_url=srv.base_url, settings=RunSettings(runs=2),
                               cache=cache, poll_s=0.01, on_status=statuses.append)
        assert srv.calls("files") == 1 and srv.calls("batches") == 1 and srv.calls("responses") == 0
        (fid, (purpose, content)) = next(iter(srv.state.files.items()))
        lines = [json.loads(x) for x in content.decode().splitlines()]
        assert purpose == "batch" and len(lines) == 18
        assert lines[0]["url"] == "/v1/responses" and lines[0]["body"]["tools"][0]["type"] == "shell"
        assert "stream" not in lines[0]["body"]
        # The interactive (streaming) router now finds everything in the cache: zero calls.
        interactive = run_suite_sync(suite, ResponsesRouter(model="m", api_key="k", base_url=srv.base_url),
                                     RunSettings(runs=2), cache=cache)
        assert interactive.requests == 0 and interactive.cached == 18
    b, i = metrics.summarize(batch), metrics.summarize(interactive)
    assert _comparable(b) == _comparable(i)
    assert b["summary"]["requests"] == 18 and b["provider"] == "responses-batch"
    assert (b["summary"]["tp"], b["summary"]["fp"], b["summary"]["tn"], b["summary"]["fn"]) == (5, 1, 2, 1)
    assert statuses[0].endswith("validating") and statuses[-1].endswith("completed (18/18)")


def test_batch_error_lines_become_errors_and_cancel_keeps_what_finished(workspace: Path) -> None:
    suite = build_suite(workspace)
    with FakeOpenAI(Script(keywords=list(KEYWORDS), faults={"Pull the Q3": ["500*"]})) as srv:
        run = run_batch_sync(suite, model="m", api_key="k", base_url=srv.base_url, settings=RunSettings(runs=1),
                             poll_s=0.01)
    report = metrics.summarize(run)
    assert report["cases"][0]["status"] == "error" and "HTTP 500" in report["cases"][0]["errors"][0]
    assert report["summary"]["errors"] == 1 and report["summary"]["passed"] + report["summary"]["failed"] == 8

    cancel = CancelToken()
    cancel.cancel()
    with FakeOpenAI(Script(keywords=list(KEYWORDS), batch_polls=99)) as srv:
        run = run_batch_sync(suite, model="m", api_key="k", base_url=srv.base_url, settings=RunSettings(runs=2),
                             poll_s=0.01, cancel=cancel)
    assert run.cancelled and len(run.outcomes) == 9 and len(run.not_run) == 9  # the server answered half
    assert metrics.summarize(run)["summary"]["cancelled"] is True


def test_cli_batch_mode(workspace: Path, tmp_path: Path) -> None:
    j = tmp_path / "r.json"
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        p = cli(str(workspace), "--base-url", srv.base_url, "--batch", "--poll", "0.01", "--json", str(j))
        assert srv.calls("batches") == 1 and srv.calls("responses") == 0
    assert p.returncode == 1 and "batch_1: completed" in p.stderr
    s = json.loads(j.read_text())["summary"]
    assert (s["passed"], s["failed"], s["requests"]) == (7, 2, 27)
    bad = cli(str(workspace), "--offline", "--batch")
    assert bad.returncode == 2 and "--batch needs the Responses provider" in bad.stderr
