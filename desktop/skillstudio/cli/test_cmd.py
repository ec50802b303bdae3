"""CLI command: `skillstudio test PATH` — run the trigger cases of a skill or workspace (CONTRACT).

Thin shell over skillstudio.evals: pick a router (Responses by default when there is a key or a
base URL, else the offline estimate, said loudly), run, print a table, write reports, save the run.
Exit codes: 0 all cases pass; 1 a case failed or errored after retries; 2 usage/environment
problem (including a refused API key); 130 cancelled with Ctrl-C (finished results are kept).
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError

if TYPE_CHECKING:  # the evals stack is imported when `test` runs, not on every CLI start
    from skillstudio.evals.routers import Router
    from skillstudio.evals.runner import RunOutcome, SuiteRun

DEFAULT_MODEL = "gpt-5.4"
KEYRING_SERVICE, KEYRING_USER = "skillstudio", "openai-api-key"


class Provider(StrEnum):
    responses = "responses"
    chat = "chat"
    offline = "offline"


def api_key_from_env_or_keyring() -> str | None:
    """OPENAI_API_KEY wins; else the OS keyring; no keyring at all is fine (returns None)."""
    key = os.environ.get("OPENAI_API_KEY")
    if key:
        return key
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER) or None
    except Exception:  # noqa: BLE001 - no backend, locked, no D-Bus: behave as "no key"
        return None


def choose_router(provider: Provider | None, offline: bool, base_url: str | None, model: str,
                  timeout: float, stream: bool, err: Console) -> Router:
    from skillstudio.evals.routers.chat import ChatRouter
    from skillstudio.evals.routers.offline import OfflineRouter
    from skillstudio.evals.routers.responses import ResponsesRouter

    if offline or provider == Provider.offline:
        return OfflineRouter()
    key = api_key_from_env_or_keyring()
    if provider is None and not key and not base_url:
        err.print("[bold yellow]No OpenAI API key and no --base-url: using the OFFLINE ESTIMATE "
                  "(lexical BM25, not a model).[/] Set OPENAI_API_KEY, store a key with the app, or "
                  "give --base-url to test against a real model.")
        return OfflineRouter()
    if not key and not base_url:
        raise SkillStudioError(f"--provider {provider.value if provider else ''} needs an API key or --base-url",
                               "set OPENAI_API_KEY (or store one in the keyring), or use --offline")
    api_key = key or "no-key-needed"  # local servers (Ollama, vLLM) accept any key
    if provider == Provider.chat:
        return ChatRouter(model=model, api_key=api_key, base_url=base_url, timeout=timeout, stream=stream)
    return ResponsesRouter(model=model, api_key=api_key, base_url=base_url, stream=stream, timeout=timeout)


def _table(report: dict[str, Any], verbose: bool, width: int) -> Table:
    from skillstudio.evals import reports

    title = "Trigger tests — " + reports.title_of(report)
    shown = [c for c in report["cases"] if verbose or c["status"] != "pass" or c["flaky"]]
    hidden = len(report["cases"]) - len(shown)
    caption = f"{hidden} passing cases not shown (-v shows every case)" if hidden else None
    t = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for col, kw in (("skill", {"no_wrap": True, "min_width": 10}), ("expect", {"no_wrap": True, "min_width": 10}),
                    ("rate", {"justify": "right", "no_wrap": True, "min_width": 4}),
                    ("95% CI", {"justify": "right", "no_wrap": True, "min_width": 9}),
                    ("result", {"no_wrap": True, "min_width": 5}),
                    ("selected", {"no_wrap": True, "overflow": "ellipsis", "min_width": 8, "max_width": 40}),
                    ("prompt", {"no_wrap": True, "overflow": "ellipsis", "min_width": 16, "max_width": 60})):
        if width >= 110 or col not in ("95% CI", "selected"):  # narrow terminals: the essentials
            t.add_column(col, **kw)  # type: ignore[arg-type]
    style = {"pass": "green", "fail": "bold red", "error": "bold yellow", "not_run": "dim"}
    for c in shown:
        rate = "—" if c["trigger_rate"] is None else f"{c['trigger_rate']:.2f}"
        ci = "—" if c["trigger_rate"] is None else f"{c['wilson_low']:.2f}–{c['wilson_high']:.2f}"
        sel = " ".join({"error": "ERR", "not_run": "-"}.get(st, x or "·") for x, st in
                       zip(c["selected"], c.get("run_status") or ["ok"] * len(c["selected"]), strict=False))
        res = c["status"] + (" (flaky)" if c["flaky"] else "")
        cells = [c["skill"], c["expect"], rate, ci, f"[{style[c['status']]}]{res}[/]", sel, c["prompt"]]
        if width < 110:
            cells = [cells[0], cells[1], cells[2], cells[4], cells[6]]
        t.add_row(*cells)
    return t


def _run_batch(router: Router, suite: Any, settings: Any, cancel: CancelToken, on_progress: Any, cache: Any,
               poll: float, err: Console) -> SuiteRun:
    from skillstudio.evals.batch import run_batch_sync
    from skillstudio.evals.routers.responses import ResponsesRouter

    if not isinstance(router, ResponsesRouter):
        raise SkillStudioError("--batch needs the Responses provider (an API key or --base-url)",
                               "drop --offline / --provider chat, or run without --batch")
    api_key = router.client.api_key
    base_url = router.base_url
    model = router.model
    return run_batch_sync(suite, model=model, api_key=api_key, base_url=base_url, settings=settings, cancel=cancel,
                          progress=on_progress, cache=cache, poll_s=poll,
                          on_status=lambda m: err.print(f"[dim]{m}[/]"))


def _print_compare(out: Console, diff: dict[str, Any]) -> None:
    d = diff["delta"]
    out.print(f"Compared with run {diff['baseline']}: {len(diff['fixed'])} fixed, {len(diff['broke'])} broke, "
              f"{diff['paired_cases']} paired cases; McNemar exact p = {diff['mcnemar_p']:.4f}; "
              f"Δaccuracy {d['accuracy']}, Δprecision {d['precision']}, Δrecall {d['recall']}"
              + (f", TTFT {diff['ttft_change_pct']:+.1f}%" if diff.get("ttft_change_pct") is not None else ""),
              soft_wrap=True)
    for label, items in (("fixed", diff["fixed"]), ("broke", diff["broke"])):
        for c in items:
            out.print(f"  {label}: [{c['skill']}] {c['expect']}: {c['prompt']}", soft_wrap=True)


def _summary_line(report: dict[str, Any]) -> str:
    s = report["summary"]
    parts = [f"{s['cases']} cases: {s['passed']} passed, {s['failed']} failed"]
    if s["errors"]:
        parts.append(f"{s['errors']} errors (requests still failing after retries)")
    if s["not_run"]:
        parts.append(f"{s['not_run']} not run")
    acc = "—" if s["accuracy"] is None else f"{s['accuracy']:.2f}"
    parts.append(f"accuracy {acc}, precision {s['precision']}, recall {s['recall']}")
    parts.append(f"{s['requests']} requests, {s['cached']} cached, {s['wall_s']:.1f} s")
    if report.get("estimate"):
        parts.append("OFFLINE ESTIMATE")
    return "; ".join(parts)


def test_command(
    path: Path = typer.Argument(..., help="A skill folder or a workspace of skills."),
    base_url: str | None = typer.Option(None, "--base-url", envvar="OPENAI_BASE_URL",
                                        help="Any OpenAI-compatible server."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Model name."),
    runs: int = typer.Option(3, "--runs", help="Runs per case."),
    concurrency: int = typer.Option(8, "--concurrency", help="Requests in flight at once."),
    threshold: float = typer.Option(0.5, "--threshold", help="Trigger-rate threshold for a pass."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the JSON report here."),
    junit_out: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here (for CI)."),
    html_out: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report here."),
    csv_out: Path | None = typer.Option(None, "--csv", help="Write the cases as CSV here."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ask the model again even for cached requests."),
    offline: bool = typer.Option(False, "--offline", help="Use the offline lexical estimate (no model)."),
    provider: Provider | None = typer.Option(None, "--provider",
                                             help="responses (default with a key/base URL), chat, or offline."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds per request attempt."),
    retries: int = typer.Option(4, "--retries", help="Retries on 429/5xx/timeouts/dropped streams."),
    no_stream: bool = typer.Option(False, "--no-stream", help="Wait for whole responses (default: stream, for TTFT and early stop)."),
    save: bool = typer.Option(True, "--save/--no-save", help="Keep the run in .skillstudio/runs.sqlite."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every case, not only the ones to look at."),
    compare: str | None = typer.Option(None, "--compare",
                                       help="Compare with a saved run: 'previous', a run id or a run file."),
    batch: bool = typer.Option(False, "--batch", help="Send the suite as one Batch API job (Responses only)."),
    poll: float = typer.Option(10.0, "--poll", help="Seconds between batch status checks."),
    max_turns: int = typer.Option(4, "--max-turns",
                                  help="Model turns a run may take (exploring in the sandbox) before it is undecided."),
) -> None:
    """Run trigger cases against the whole catalog; exit 1 if any case fails."""
    from skillstudio.evals import metrics, reports
    from skillstudio.evals.cache import ResultCache
    from skillstudio.evals.runner import RunSettings, run_suite_sync
    from skillstudio.evals.store import RunStore
    from skillstudio.evals.suite import build_suite

    err = Console(stderr=True)
    out = Console() if sys.stdout.isatty() else Console(width=160)  # CI logs: no arbitrary 80 columns
    settings = RunSettings(runs=runs, concurrency=concurrency, threshold=threshold, timeout_s=timeout,
                           retries=max(0, retries), use_cache=not no_cache, max_turns=max_turns)
    settings.check()
    suite = build_suite(path)
    for w in suite.warnings:
        err.print(f"[yellow]warning:[/] {w}")
    store = RunStore(suite.state_dir)
    _tell_notices(store, err, "list" if compare else None)
    # Resolved before running: a typo in --compare must not cost a whole run.
    if compare in ("previous", "latest") and not store.list():
        raise SkillStudioError("there is no saved run to compare with yet",
                               "run `skillstudio test` once without --compare (runs are saved unless --no-save)")
    baseline = store.load("latest" if compare in ("previous", "latest") else compare) if compare else None
    router = choose_router(provider, offline, base_url, model, timeout, not no_stream, err)
    cache = None if router.is_estimate else ResultCache(suite.state_dir / "cache")

    cancel = CancelToken()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        err.print("[yellow]Cancelling… finished results are kept (Ctrl-C again to abort).[/]")

    previous = signal.signal(signal.SIGINT, on_sigint)
    show_progress = err.is_terminal
    progress = Progress(TextColumn("[bold]testing[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err,
                        disable=not show_progress, transient=True)
    task = progress.add_task("test", total=len(suite.cases) * runs, rate="")

    def on_progress(done: int, total: int, outcome: RunOutcome) -> None:
        progress.update(task, completed=done, rate="cached" if outcome.cached else "")

    try:
        with progress:
            if batch:
                run = _run_batch(router, suite, settings, cancel, on_progress, cache, poll, err)
            else:
                run = run_suite_sync(suite, router, settings, cancel=cancel, progress=on_progress, cache=cache)
    finally:
        signal.signal(signal.SIGINT, previous)

    report = metrics.summarize(run)
    if baseline is not None:
        report["compare"] = {"baseline": baseline.get("id"), **metrics.compare(baseline, report)}
    out.print(_table(report, verbose, out.width))
    if compare:
        _print_compare(out, report["compare"])
    for name, target, render in (("JSON", json_out, reports.to_json), ("JUnit", junit_out, reports.to_junit),
                                 ("HTML", html_out, reports.to_html), ("CSV", csv_out, reports.to_csv)):
        if target is not None:
            try:
                reports.write(target, render(report))
            except OSError as exc:
                raise SkillStudioError(f"cannot write the {name} report to {target}: {exc.strerror}",
                                       "choose a writable path") from None
    if save:
        try:
            store.save(report, run)
        except OSError as exc:
            err.print(f"[yellow]warning:[/] run not saved to history ({exc.strerror})")
        except SkillStudioError as exc:
            err.print(f"[yellow]warning:[/] run not saved to history ({exc.message})")
        _tell_notices(store, err, None)
    s = report["summary"]
    line = _summary_line(report)
    (err if s["failed"] or s["errors"] else out).print(line, soft_wrap=True)
    if run.fatal:
        raise SkillStudioError(f"stopped: {run.fatal}", "check the API key, --base-url and --model")
    if run.cancelled:
        err.print(f"[yellow]Cancelled:[/] {len(run.not_run)} of {run.total} requests were not run.")
        raise typer.Exit(130)
    if s["failed"] or s["errors"]:
        raise typer.Exit(1)


runs_app = typer.Typer(help="Saved trigger-test runs: list, export again, compare.", no_args_is_help=True)


def _tell_notices(store: Any, err: Console, touch: str | None) -> None:
    """Say what the history had to do (a damaged database moved aside, old files not imported)."""
    if touch == "list":
        store.list()  # opens (and, if needed, repairs or migrates) the history now, not mid-run
    while store.notices:
        err.print(f"[yellow]warning:[/] {store.notices.pop(0)}", soft_wrap=True)


def _store(workspace: Path) -> Any:
    from skillstudio.evals.store import RunStore

    if not workspace.is_dir():
        raise SkillStudioError(f"{workspace}: no such folder", "give the workspace the runs were made in")
    store = RunStore(workspace / ".skillstudio")
    _tell_notices(store, Console(stderr=True), "list")
    return store


@runs_app.command("list")
def runs_list(workspace: Path = typer.Argument(..., help="The workspace (or skill) folder.")) -> None:
    """List saved runs, oldest first."""
    store = _store(workspace)
    out = Console() if sys.stdout.isatty() else Console(width=200)  # piped: no arbitrary 80 columns
    t = Table(title=f"Saved runs in {store.path}", title_justify="left")
    for col in ("id", "started", "model", "provider", "cases", "passed", "failed", "errors", "accuracy", "runs"):
        t.add_column(col, no_wrap=True)
    for run_id in store.list():
        r = store.load(run_id, with_requests=False)
        s = r.get("summary", {})
        t.add_row(str(r.get("id", run_id)), str(r.get("started_at") or "")[:19].replace("T", " "), str(r.get("model")),
                  str(r.get("provider")), str(s.get("cases")), str(s.get("passed")), str(s.get("failed")),
                  str(s.get("errors")), str(s.get("accuracy")), str(r.get("runs")))
    out.print(t)


@runs_app.command("export")
def runs_export(
    workspace: Path = typer.Argument(..., help="The workspace (or skill) folder."),
    run: str = typer.Argument("latest", help="Run id, run file, 'latest' or 'previous'."),
    json_out: Path | None = typer.Option(None, "--json"),
    junit_out: Path | None = typer.Option(None, "--junit"),
    html_out: Path | None = typer.Option(None, "--html"),
    csv_out: Path | None = typer.Option(None, "--csv"),
) -> None:
    """Write the reports of a saved run again, without asking any model."""
    from skillstudio.evals import reports

    report = _store(workspace).load(run)
    targets = [(json_out, reports.to_json), (junit_out, reports.to_junit), (html_out, reports.to_html),
               (csv_out, reports.to_csv)]
    if not any(t for t, _ in targets):
        raise SkillStudioError("nothing to export", "give --json, --junit, --html and/or --csv")
    for target, render in targets:
        if target is not None:
            reports.write(target, render(report))


@runs_app.command("compare")
def runs_compare(
    workspace: Path = typer.Argument(..., help="The workspace (or skill) folder."),
    a: str = typer.Argument(..., help="Baseline run (id, file, 'previous')."),
    b: str = typer.Argument("latest", help="Run compared with it (default: latest)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the comparison as JSON."),
) -> None:
    """Cases that flipped between two runs, deltas, and McNemar's exact test on the paired outcomes."""
    import json

    from skillstudio.evals import reports

    diff = _store(workspace).compare(a, b)
    _print_compare(Console(), diff)
    if json_out is not None:
        reports.write(json_out, json.dumps(diff, indent=2, ensure_ascii=False))


def optimize_command(
    path: Path = typer.Argument(..., help="The workspace (the whole catalog competes)."),
    skill: str = typer.Option(..., "--skill", "-s", help="The skill whose description to improve."),
    iterations: int = typer.Option(3, "--iterations", help="Proposals to try at most."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fixed 60/40 train/validation split."),
    apply: bool = typer.Option(False, "--apply", help="Write the winning description into SKILL.md."),
    base_url: str | None = typer.Option(None, "--base-url", envvar="OPENAI_BASE_URL"),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Model that routes (and proposes)."),
    provider: Provider | None = typer.Option(None, "--provider", help="Router for scoring: responses, chat, offline."),
    runs: int = typer.Option(3, "--runs", help="Runs per case when scoring."),
    concurrency: int = typer.Option(8, "--concurrency"),
    timeout: float = typer.Option(60.0, "--timeout"),
    no_cache: bool = typer.Option(False, "--no-cache"),
) -> None:
    """Propose a better description from the training failures only; keep the best by validation score."""
    from skillstudio.bundle.fileio import atomic_write
    from skillstudio.bundle.workspace import load_workspace
    from skillstudio.evals import metrics
    from skillstudio.evals.cache import ResultCache
    from skillstudio.evals.optimizer import ChatProposer, optimize
    from skillstudio.evals.runner import RunSettings, run_suite_sync
    from skillstudio.evals.store import RunStore
    from skillstudio.evals.suite import Suite, build_suite

    err, out = Console(stderr=True), Console()
    key = api_key_from_env_or_keyring()
    if not key and not base_url:
        raise SkillStudioError("the optimizer needs a model to propose descriptions",
                               "set OPENAI_API_KEY (or store a key), or give --base-url of a local server")
    suite = build_suite(path)
    ws_skill = load_workspace(path, with_files=False).skill(skill)
    if ws_skill is None or ws_skill.skill_md is None:
        raise SkillStudioError(f"no skill named {skill!r} in {path}", "see `skillstudio validate PATH`")
    settings = RunSettings(runs=runs, concurrency=concurrency, timeout_s=timeout, use_cache=not no_cache)
    settings.check()
    cache = ResultCache(suite.state_dir / "cache")

    def make_router() -> Router:
        return choose_router(provider, False, base_url, model, timeout, True, err)

    result = optimize(suite, skill, ws_skill.text, proposer=ChatProposer(model=model, api_key=key or "no-key-needed",
                                                                         base_url=base_url),
                      make_router=make_router, settings=settings, iterations=iterations, seed=seed, cache=cache,
                      progress=lambda m: err.print(f"[dim]{m}[/]"))
    t = Table(title=f"Description candidates for {skill} (train {len(result.train_prompts)} / "
                    f"validation {len(result.val_prompts)} cases)", title_justify="left")
    for col in ("#", "train acc", "val acc", "note", "description"):
        t.add_column(col, overflow="fold")
    for c in result.candidates:
        t.add_row(str(c.iteration), str(c.train_score), str(c.val_score), c.note + (" ← best" if c is result.best
                                                                                     else ""), c.description)
    out.print(t)
    for s in result.negative_suggestions:
        out.print(f"suggested no_trigger case: {s}", soft_wrap=True)
    if not result.improved:
        out.print("The current description stays: no proposal scored better on the validation cases.")
        return
    out.print(result.diff, markup=False, highlight=False, soft_wrap=True)
    # Before/after runs of the whole suite land in the history like any other run (mostly cached).
    store = RunStore(suite.state_dir)
    for desc in (result.original, result.best.description):
        variant = Suite(suite.root, [e if e.name != skill else replace(e, description=desc)
                                     for e in suite.catalog], suite.cases, [])
        store.save(metrics.summarize(run_suite_sync(variant, make_router(), settings, cache=cache)))
    if apply:
        atomic_write(ws_skill.skill_md, result.new_text or ws_skill.text)
        out.print(f"Written to {ws_skill.skill_md}")
    else:
        out.print("Not written: review the diff, then re-run with --apply (or accept it in the editor).")


def try_command(
    path: Path = typer.Argument(..., help="A workspace (or one skill)."),
    prompt: str = typer.Argument(..., help="What a user would ask."),
    base_url: str | None = typer.Option(None, "--base-url", envvar="OPENAI_BASE_URL"),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m"),
    provider: Provider | None = typer.Option(None, "--provider", help="responses, chat, or offline."),
    offline: bool = typer.Option(False, "--offline", help="Use the offline lexical estimate (no model)."),
    timeout: float = typer.Option(60.0, "--timeout"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Which skill does the model pick for one prompt, and what did its first shell call say?"""
    import json

    from skillstudio.evals.routers.offline import LABEL as OFFLINE_LABEL
    from skillstudio.evals.runner import try_prompt_sync
    from skillstudio.evals.suite import build_suite

    err, out = Console(stderr=True), Console()
    suite = build_suite(path)
    router = choose_router(provider, offline, base_url, model, timeout, True, err)
    res = try_prompt_sync(suite, router, prompt, timeout_s=timeout)
    if as_json:
        typer.echo(json.dumps({"prompt": prompt, "model": OFFLINE_LABEL if router.is_estimate else model,
                               **res.to_json()}, indent=2, ensure_ascii=False))
        return
    label = f" ({OFFLINE_LABEL})" if router.is_estimate else ""
    out.print(f"selected: [bold]{res.selected or 'none'}[/]{label}")
    if res.first_command:
        out.print(f"first call: {res.first_command}", markup=False, soft_wrap=True)
    if res.ttft_s is not None:
        out.print(f"time to first token {res.ttft_s:.3f} s, latency {res.latency_s or 0:.3f} s")


def register(app: typer.Typer) -> None:
    """Adds the commands of this module to the main app."""
    app.command("test")(test_command)
    app.command("optimize")(optimize_command)
    app.command("try")(try_command)
    app.add_typer(runs_app, name="runs")

