"""`skillstudio test` without typer: the run, its table, summary and reports (CONTRACT: exit codes 0/1/2/130).

Why a module of its own: `main` runs the plain forms of `test` straight from here (see
`main._fast_test`), so this imports neither typer nor rich at load time; cli/test_cmd.py declares the
typer command, whose parameters all arrive here unchanged.
"""

from __future__ import annotations

import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from skillstudio.cli.common import Provider, cli_words, provider_choice
from skillstudio.errors import SkillStudioError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from skillstudio.cancel import CancelToken
    from skillstudio.services.trigger_runs import CaseResult, TriggerReport

# How a run decided (trajectory.category), in the table's and the summary's words
RUN_WORDS = {"direct": "direct", "explored": "after exploring", "other_skill": "read another skill first",
             "answered": "answered", "undecided": "undecided", "first_call_rule": "first-call rule"}
SHORT_WORDS = {"direct": "direct", "explored": "explored", "other_skill": "other skill", "answered": "answered",
               "undecided": "undecided", "first_call_rule": "first call"}


def _console(stderr: bool = False) -> Console:
    """A rich console (rich is imported here, when there is something to print)."""
    from rich.console import Console

    if stderr:
        return Console(stderr=True)
    return Console() if sys.stdout.isatty() else Console(width=160)  # CI logs: no arbitrary 80 columns


class _Err:
    """stderr for notices, made on first use: a quiet run never imports rich before its results."""

    def __init__(self) -> None:
        self._console: Console | None = None

    def print(self, *args: Any, **kwargs: Any) -> None:
        if self._console is None:
            self._console = _console(stderr=True)
        self._console.print(*args, **kwargs)


@contextmanager
def _ctrl_c_cancels(token: CancelToken, say: Callable[[str], None], message: str) -> Iterator[None]:
    """The first Ctrl-C cancels (finished work is kept), the second aborts."""

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        say(f"[yellow]{message}[/]")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _how(c: CaseResult) -> str:
    """A case's runs by category, compact: "direct ×2, undecided"."""
    if c.categories is None:
        return SHORT_WORDS["first_call_rule"]
    counts = Counter(x for x in c.categories if x)
    return ", ".join(SHORT_WORDS.get(k, k) + (f" ×{n}" if n > 1 else "") for k, n in counts.items()) or "—"


def _selected_cell(c: CaseResult) -> str:
    status = c.run_status or ["ok"] * len(c.selected)
    cats = c.categories or [None] * len(c.selected)
    marks = []
    for x, st, cat in zip(c.selected, status, cats, strict=False):
        if st in ("error", "not_run"):
            marks.append({"error": "ERR", "not_run": "-"}[st])
        elif cat == "undecided":
            marks.append("?")  # no decision within the turn budget: counted as not triggered
        else:
            marks.append(x or "·")
    return " ".join(marks)


def _table(report: TriggerReport, verbose: bool, width: int) -> Table:
    from rich.table import Table

    from skillstudio.evals import reports

    title = "Trigger tests — " + reports.title_of({"estimate": report.estimate, "model": report.model,
                                                   "provider": report.provider})
    shown = [c for c in report.cases if verbose or c.status != "pass" or c.flaky or c.undecided]
    hidden = len(report.cases) - len(shown)
    caption = f"{hidden} passing cases not shown (-v shows every case)" if hidden else None
    if any(c.undecided for c in shown):
        caption = (caption + "; " if caption else "") + "? = undecided (no decision within the turn budget)"
    t = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    wide = width >= 110
    for col, kw in (("skill", {"no_wrap": True, "min_width": 10}), ("expect", {"no_wrap": True, "min_width": 10}),
                    ("rate", {"justify": "right", "no_wrap": True, "min_width": 4}),
                    ("95% CI", {"justify": "right", "no_wrap": True, "min_width": 9}),
                    ("result", {"no_wrap": True, "min_width": 6}),
                    ("selected", {"no_wrap": True, "overflow": "ellipsis", "min_width": 8, "max_width": 32}),
                    ("runs", {"no_wrap": True, "overflow": "ellipsis", "min_width": 12, "max_width": 28}),
                    ("prompt", {"no_wrap": True, "overflow": "ellipsis", "min_width": 16, "max_width": 60})):
        if wide or col not in ("95% CI", "selected", "runs"):  # narrow terminals: the essentials
            t.add_column(col, **kw)  # type: ignore[arg-type]
    style = {"pass": "green", "fail": "bold red", "error": "bold yellow", "not_run": "dim"}
    for c in shown:
        rate = "—" if c.trigger_rate is None else f"{c.trigger_rate:.2f}"
        ci = "—" if c.trigger_rate is None else f"{c.wilson_low or 0:.2f}–{c.wilson_high or 0:.2f}"
        res = ("explicit-only" if c.status == "explicit_only" else c.status) + (" (flaky)" if c.flaky else "")
        cells = [c.skill, c.expect, rate, ci, f"[{style.get(c.status, 'dim')}]{res}[/]", _selected_cell(c),
                 _how(c), c.prompt]
        if not wide:
            cells = [cells[0], cells[1], cells[2], cells[4], cells[7]]
        t.add_row(*cells)
    return t


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


def _runs_line(report: TriggerReport) -> str | None:
    """How the runs decided, counted: "runs: 240 direct, 12 after exploring, 3 undecided (not triggered)"."""
    cats = {k: n for k, n in report.summary.categories.items() if n}
    if not cats or report.estimate:  # an estimate reads or answers at once: nothing to tell
        return None
    words = [f"{n} {RUN_WORDS.get(k, k)}" for k, n in cats.items() if k != "undecided"]
    if report.summary.undecided:
        words.append(f"{report.summary.undecided} undecided (counted as not triggered)")
    return "runs: " + ", ".join(words)


def _summary_line(report: TriggerReport) -> str:
    s = report.summary
    parts = [f"{s.cases} cases: {s.passed} passed, {s.failed} failed"]
    if s.errors:
        parts.append(f"{s.errors} errors (requests still failing after retries)")
    if s.not_run:
        parts.append(f"{s.not_run} not run")
    if s.explicit_only:
        parts.append(f"{s.explicit_only} explicit-only (skill not offered to the model; not run, not a miss)")
    acc = "—" if s.accuracy is None else f"{s.accuracy:.2f}"
    parts.append(f"accuracy {acc}, precision {s.precision}, recall {s.recall}")
    runs = _runs_line(report)
    if runs:
        parts.append(runs)
    parts.append(f"{s.requests} requests, {s.cached} cached, {s.wall_s:.1f} s")
    if report.estimate:
        parts.append("OFFLINE ESTIMATE")
    return "; ".join(parts)


def _write_reports(report: TriggerReport, targets: list[tuple[str, Path | None]]) -> None:
    from skillstudio.evals import reports

    render = {"JSON": reports.to_json, "JUnit": reports.to_junit, "HTML": reports.to_html, "CSV": reports.to_csv}
    data = report.as_dict()
    for name, target in targets:
        if target is not None:
            try:
                reports.write(target, render[name](data))
            except OSError as exc:
                raise SkillStudioError(f"cannot write the {name} report to {target}: {exc.strerror}",
                                       "choose a writable path") from None


def run_test(path: Path, base_url: str | None, model: str, runs: int, concurrency: int, threshold: float,
             json_out: Path | None, junit_out: Path | None, html_out: Path | None, csv_out: Path | None,
             no_cache: bool, offline: bool, provider: Provider | None, timeout: float, retries: int,
             no_stream: bool, save: bool, verbose: bool, compare: str | None, batch: bool, poll: float,
             max_turns: int) -> int:
    """Run the suite, print and write what `test` reports; the exit code (0 pass, 1 a case failed, 130 cancelled)."""
    from skillstudio.services.context import JobContext
    from skillstudio.services.settings import RunOptions
    from skillstudio.services.trigger_runs import SuiteRunRequest, run_and_record

    err = _Err()
    if batch and (offline or provider not in (None, Provider.responses)):
        raise SkillStudioError("--batch needs the Responses provider (an API key or --base-url)",
                               "drop --offline / --provider chat, or run without --batch")
    with cli_words():
        request = SuiteRunRequest(
            path=path, provider=provider_choice(provider, offline, base_url, model, timeout, not no_stream),
            options=RunOptions(runs=runs, concurrency=concurrency, threshold=threshold, timeout_s=timeout,
                               retries=retries, use_cache=not no_cache, max_turns=max_turns).checked(),
            save=save, compare=compare, batch_poll_s=poll if batch else None)
    if request.provider.is_estimate:
        err.print("[bold yellow]OFFLINE ESTIMATE[/] (lexical BM25, not a model): no model is asked.")
    bar, on_progress = _progress()
    ctx = JobContext(on_progress=on_progress, on_message=lambda m: err.print(f"[dim]{m}[/]", soft_wrap=True))
    with cli_words(), _ctrl_c_cancels(ctx.cancel, err.print,
                                      "Cancelling… finished results are kept (Ctrl-C again to abort)."), bar:
        result = run_and_record(request, ctx)
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}")
    report = result.report
    out = _console()
    out.print(_table(report, verbose, out.width))
    if report.compare is not None:
        _print_compare(out, report.compare)
    _write_reports(report, [("JSON", json_out), ("JUnit", junit_out), ("HTML", html_out), ("CSV", csv_out)])
    for note in result.notices:
        err.print(f"[yellow]warning:[/] {note}", soft_wrap=True)
    if result.save_error:
        err.print(f"[yellow]warning:[/] {result.save_error}")
    (err if report.failing else out).print(_summary_line(report), soft_wrap=True)
    if result.fatal:
        raise SkillStudioError(f"stopped: {result.fatal}", "check the API key, --base-url and --model")
    if result.cancelled:
        err.print(f"[yellow]Cancelled:[/] {result.not_run} of {result.total} requests were not run.")
        return 130
    if report.failing:
        return 1
    return 0


def _progress() -> tuple[AbstractContextManager[Any], Callable[[int, int, int], None] | None]:
    """A transient progress bar on stderr when it is a terminal; nothing at all (no rich) otherwise."""
    if not sys.stderr.isatty():
        return nullcontext(), None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("[bold]testing[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=_console(stderr=True),
                        transient=True)
    task = progress.add_task("test", total=None, rate="")

    def on_progress(done: int, total: int, cached: int) -> None:
        progress.update(task, completed=done, total=total, rate=f"{cached} cached" if cached else "")

    return progress, on_progress
