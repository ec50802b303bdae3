"""CLI commands: `test` (CONTRACT), `optimize`, `try` and `runs` — trigger testing from the terminal.

Thin shells over skillstudio.services: parse the flags, call the service, print a table, write the
reports. `test` never estimates silently: with no API key and no base URL it exits 2 unless
--offline is given. Exit codes: 0 all cases pass; 1 a case failed or errored after retries; 2
usage/environment problem (including a refused API key); 130 cancelled with Ctrl-C (finished
results are kept).

Start-up is part of every CI run, so this module imports only typer at load time: rich is imported
when something is printed (the progress bar only on a terminal), the services when the command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from skillstudio.cli.common import Provider, cli_words, provider_choice
from skillstudio.cli.trigger_test import (  # noqa: F401 (helpers optimize, try and runs share)
    RUN_WORDS,
    SHORT_WORDS,
    _console,
    _ctrl_c_cancels,
    _Err,
    _print_compare,
    _progress,
    _summary_line,
    _table,
    _write_reports,
    run_test,
)
from skillstudio.errors import SkillStudioError
from skillstudio.openai_defaults import DEFAULT_MODEL

if TYPE_CHECKING:
    from rich.console import Console


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
    no_stream: bool = typer.Option(False, "--no-stream",
                                   help="Wait for whole responses (default: stream, for TTFT and early stop)."),
    save: bool = typer.Option(True, "--save/--no-save", help="Keep the run in .skillstudio/runs.sqlite."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every case, not only the ones to look at."),
    compare: str | None = typer.Option(None, "--compare",
                                       help="Compare with a saved run: 'previous', a run id or a run file."),
    batch: bool = typer.Option(False, "--batch", help="Send the suite as one Batch API job (Responses only)."),
    poll: float = typer.Option(10.0, "--poll", help="Seconds between batch status checks."),
    max_turns: int = typer.Option(4, "--max-turns",
                                  help="Model turns a run may take (exploring in the sandbox) before it is undecided."),
) -> None:
    """Run trigger cases against the whole catalog; exit 1 if any case fails.

    With no API key and no --base-url this is an error (exit 2), never a silent estimate: give
    --offline for the lexical estimate.
    """
    code = run_test(path, base_url, model, runs, concurrency, threshold, json_out, junit_out, html_out, csv_out,
                    no_cache, offline, provider, timeout, retries, no_stream, save, verbose, compare, batch, poll,
                    max_turns)
    if code:
        raise typer.Exit(code)


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
    _tell_notices(store, _console(stderr=True), "list")
    return store


@runs_app.command("list")
def runs_list(workspace: Path = typer.Argument(..., help="The workspace (or skill) folder.")) -> None:
    """List saved runs, oldest first."""
    store = _store(workspace)
    from rich.console import Console
    from rich.table import Table

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
    _print_compare(_console(), diff)
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
    """Propose a better description from the training failures only; keep the best by validation score.

    The run of the current description is saved to the history; the winner's run too when one won.
    """
    from rich.table import Table

    from skillstudio.services.context import JobContext
    from skillstudio.services.optimize import (
        OptimizeRequest,
        ProposerChoice,
        optimize_and_record,
        write_description,
    )
    from skillstudio.services.settings import RunOptions

    err, out = _console(stderr=True), _console()
    with cli_words():
        request = OptimizeRequest(
            workspace=path, skill=skill, iterations=iterations, seed=seed,
            provider=provider_choice(provider, False, base_url, model, timeout),
            proposer=ProposerChoice(base_url=base_url, model=model),
            options=RunOptions(runs=runs, concurrency=concurrency, timeout_s=timeout, use_cache=not no_cache).checked())
    ctx = JobContext(on_message=lambda m: err.print(f"[dim]{m}[/]"))
    with cli_words(), _ctrl_c_cancels(ctx.cancel, err.print, "Cancelling the optimizer… (Ctrl-C again to abort)"):
        outcome = optimize_and_record(request, ctx)
    if outcome.cancelled or outcome.result is None:
        err.print("[yellow]Cancelled:[/] nothing was written" + (" or saved" if not outcome.saved_runs else ""))
        raise typer.Exit(130)
    result = outcome.result
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
    if outcome.save_error:
        err.print(f"[yellow]warning:[/] {outcome.save_error}")
    if not outcome.improved:
        out.print("The current description stays: no proposal scored better on the validation cases.")
        return
    out.print(result.diff, markup=False, highlight=False, soft_wrap=True)
    if apply:
        out.print(f"Written to {write_description(outcome)}")
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

    from skillstudio.services.context import JobContext
    from skillstudio.services.try_prompt import try_prompt

    err, out = _console(stderr=True), _console()
    ctx = JobContext()
    with cli_words(), _ctrl_c_cancels(ctx.cancel, err.print, "Cancelling…"):
        res = try_prompt(path, prompt, provider_choice(provider, offline, base_url, model, timeout), ctx)
    for why in res.skipped:
        err.print(f"[yellow]warning:[/] left out of the catalog: {why}", soft_wrap=True)
    if res.cancelled:
        raise typer.Exit(130)
    model_label = res.model if res.estimate else model
    if as_json:
        typer.echo(json.dumps({"prompt": prompt, "model": model_label, **res.route}, indent=2, ensure_ascii=False))
        return
    label = f" ({res.model})" if res.estimate else ""
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

