"""CLI commands: `skillstudio run WORKSPACE --prompt P` — one agent run (CONTRACT) — and `runs`.

The model's shell calls run in the sandbox (or a hosted container with `--hosted`) until its final
answer; the transcript streams to the terminal and is saved under `.skillstudio/runs/agent/`; `--json F`
writes CONTRACT's `run --json` shape (F = `-` for stdout). Exit codes: 0 the run finished; 1 a
pinned skill was not the one used, or the run stopped at a limit without an answer; 2 usage,
environment or model-server errors; 130 stopped with Ctrl-C (the transcript is kept).
`skillstudio transcripts WORKSPACE [RUN_ID] [--markdown]` lists saved agent runs or exports one.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from skillstudio.openai_defaults import DEFAULT_MODEL

_DEFAULT_SANDBOX = "subprocess" if sys.platform.startswith("linux") else "docker"
_SHOW_LINES = 12


class _Printer:
    """Streams run events to the terminal (stderr when --json - owns stdout)."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self.streamed = False  # text deltas of the current message were already shown

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == "started":
            routing = event.get("routing") or {}
            offered = len(routing.get("offered") or [])
            how = f"pinned {routing.get('pin')}" if routing.get("pin") else f"auto ({offered} skills)"
            self.c.print(f"[dim]▶ {escape(str(event.get('model')))} via {event.get('provider')}, {escape(how)}[/]")
        elif kind == "text_delta":
            self.c.print(escape(str(event.get("delta") or "")), end="")
            self.streamed = True
        elif kind == "item":
            self._item(event["item"])
        elif kind == "compaction":
            self.c.print(f"[magenta]⟲ compaction ({event.get('strategy')})[/] "
                         f"{event['before_tokens']:,} → {event['after_tokens']:,} tokens")
        elif kind == "skill_loaded":
            self.c.print(f"[cyan]◆ skill loaded: {escape(str(event['skill']))}[/]")
        elif kind == "routing_violation":
            self.c.print(f"[bold red]✖ {escape(str(event['message']))}[/]")
        elif kind == "usage":
            total = event.get("total") or {}
            ctx = (f"context {event['context_tokens']:,} tokens ({event.get('context_source')}); "
                   if "context_tokens" in event else "")
            self.c.print(f"[dim]  turn {event['turn']}: {ctx}{total.get('input_tokens', 0):,} in / "
                         f"{total.get('output_tokens', 0):,} out tokens so far[/]")

    def _item(self, item: dict[str, Any]) -> None:
        if item["type"] == "shell_call":
            for cmd in item["commands"]:
                self.c.print(f"[bold yellow]$[/] {escape(cmd)}")
        elif item["type"] == "shell_call_output":
            text = (item.get("stdout") or "") + (item.get("stderr") or "")
            lines = text.rstrip("\n").splitlines()
            shown = lines[:_SHOW_LINES]
            for line in shown:
                self.c.print(f"  [dim]{escape(line)}[/]")
            if len(lines) > len(shown):
                self.c.print(f"  [dim]… {len(lines) - len(shown)} more lines (full output in the transcript)[/]")
            code = "timeout" if item.get("timed_out") else f"exit {item.get('exit_code')}"
            self.c.print(f"  [{'green' if item.get('exit_code') == 0 else 'red'}]{code}[/]")
        elif item["type"] == "message":
            if self.streamed:
                self.c.print()
                self.streamed = False
                return
            style = "dim" if item.get("phase") == "commentary" else "bold"
            self.c.print(f"[{style}]{escape(item.get('text') or '')}[/]")


def _write(path: Path, text: str, saved: Path | None) -> None:
    from skillstudio.bundle.fileio import atomic_write
    from skillstudio.errors import SkillStudioError

    try:
        atomic_write(path, text)
    except OSError as exc:
        raise SkillStudioError(f"cannot write {path}: {exc.strerror or exc}",
                               f"choose a writable path; the transcript is saved at {saved}") from None


def register(app: typer.Typer) -> None:
    """Adds the commands of this module to the main app."""
    _register_runs(app)

    @app.command("run")
    def run(
        workspace: Path = typer.Argument(..., help="The workspace (a folder of skills) or one skill folder."),
        prompt: str = typer.Option(..., "--prompt", "-p", help="The task for the agent."),
        pin: str | None = typer.Option(None, "--pin", help="Offer only this skill: NAME or NAME@VERSION."),
        route: str | None = typer.Option(None, "--route", help="Pin the skill@version this routes.yaml route names."),
        skill_ref: list[str] = typer.Option([], "--skill-ref",
                                            help="Hosted: attach NAME as the uploaded SKILL_ID[@VERSION] (NAME=ID@V)."),
        sandbox: str = typer.Option(_DEFAULT_SANDBOX, "--sandbox", help="subprocess (bubblewrap) or docker."),
        hosted: bool = typer.Option(False, "--hosted", help="Run in an OpenAI hosted container instead."),
        base_url: str | None = typer.Option(None, "--base-url", help="An OpenAI-compatible server."),
        model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="The model."),
        max_turns: int = typer.Option(40, "--max-turns", min=1, help="Stop after this many model requests."),
        json_out: str | None = typer.Option(None, "--json",
                                            help="Write the transcript as JSON to this file (- = stdout)."),
        data: Path | None = typer.Option(None, "--data",
                                         help="The data folder (read-write, /data); default: a fresh one."),
        secret: list[str] = typer.Option([], "--secret", help="Grant this keyring secret (as a placeholder)."),
        allow_domain: list[str] = typer.Option([], "--allow-domain",
                                               help="Allow this host (name, *.suffix, NAME:PORT)."),
        provider: str = typer.Option("responses", "--provider",
                                     help="responses, or chat for /chat/completions servers."),
        max_tool_calls: int = typer.Option(200, "--max-tool-calls", min=1, help="Stop after this many shell calls."),
        max_tokens: int | None = typer.Option(None, "--max-tokens", min=1, help="Stop after this many tokens in+out."),
        max_wall: float = typer.Option(1800.0, "--max-wall", min=1.0, help="Stop after this many seconds."),
        max_cost: float | None = typer.Option(None, "--max-cost", min=0.0,
                                              help="Stop once the run has cost this many USD (prices.json)."),
        compaction: str = typer.Option("auto", "--compaction", help="auto, server, endpoint, client or off."),
        compact_threshold: int = typer.Option(200_000, "--compact-threshold", min=1000,
                                              help="Context tokens that trigger a compaction."),
        memory_limit: str | None = typer.Option(None, "--memory", help="Hosted container memory: 1g, 4g, 16g, 64g."),
        markdown: Path | None = typer.Option(None, "--markdown", help="Also export the transcript as Markdown."),
        unsandboxed_i_know: bool = typer.Option(False, "--unsandboxed-i-know", help="Allow --sandbox none."),
        stream: bool = typer.Option(False, "--stream", help="Stream the model's text as it is written."),
        stateful: bool = typer.Option(False, "--stateful",
                                      help="Store the conversation server-side (previous_response_id)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not stream the transcript."),
    ) -> None:
        """One agent run: the model's shell calls execute in the sandbox until its final answer."""
        from skillstudio.agent.loop import RunLimits
        from skillstudio.agent.runner import execute
        from skillstudio.cancel import CancelToken
        from skillstudio.cli.common import cli_words
        from skillstudio.secrets.log_redaction import install_log_redaction
        from skillstudio.services.agent_runs import AgentRunSpec, build_run_request

        install_log_redaction(workspace)  # this workspace's secrets join the log redaction (cheap without any)
        spec = AgentRunSpec(
            workspace=workspace, prompt=prompt, model=model, provider=provider, base_url=base_url, pin=pin,
            route=route, sandbox=sandbox, hosted=hosted, skill_refs=tuple(skill_ref),
            limits=RunLimits(max_turns=max_turns, max_tool_calls=max_tool_calls, max_tokens=max_tokens,
                             max_wall_s=max_wall, max_cost_usd=max_cost),
            compaction=compaction, compact_threshold=compact_threshold, memory_limit=memory_limit,
            secrets=tuple(secret), allow_domains=tuple(allow_domain), data_dir=data,
            unsandboxed_ok=unsandboxed_i_know, stateful=stateful, stream=stream)
        with cli_words():
            req = build_run_request(spec)
        to_stdout = json_out == "-"
        console = Console(stderr=to_stdout or quiet, highlight=False, soft_wrap=True)
        cancel = CancelToken()

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            cancel.cancel()

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            t = execute(req, on_event=None if quiet else _Printer(console), cancel=cancel)
        finally:
            signal.signal(signal.SIGINT, previous)
        payload = t.to_json()
        if json_out:
            text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
            if to_stdout:
                sys.stdout.write(text)
            else:
                _write(Path(json_out), text, t.saved_to)
        if markdown is not None:
            _write(markdown, t.to_markdown(), t.saved_to)
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        summary = (f"{t.outcome}: {t.turns} turn(s), {t.tool_calls} shell call(s), "
                   f"{t.usage['input_tokens']:,} in / {t.usage['output_tokens']:,} out tokens, "
                   f"{len(t.compaction_events)} compaction(s); skills loaded: {', '.join(t.skills_loaded) or 'none'}")
        err.print(f"[dim]{escape(summary)}[/]")
        if t.saved_to is not None:
            err.print(f"[dim]transcript: {escape(str(t.saved_to))}[/]")
        if t.outcome == "completed":
            raise typer.Exit(0)
        if t.outcome == "routing_violation":
            err.print(f"[bold red]skillstudio: pinned run failed: {escape('; '.join(t.violations))}[/]")
            raise typer.Exit(1)
        if t.outcome == "cancelled":
            err.print("skillstudio: stopped; the transcript so far was saved")
            raise typer.Exit(130)
        if t.outcome == "limit_cost":
            err.print(f"skillstudio: the run stopped at its cost limit: {escape(t.stop_reason)}; "
                      "the transcript so far was saved — raise --max-cost to go further")
            raise typer.Exit(1)
        if t.outcome == "limit":
            err.print(f"skillstudio: the run stopped without finishing: {escape(t.stop_reason)} "
                      "— raise the limit (--max-turns, --max-tool-calls, --max-tokens, --max-wall)")
            raise typer.Exit(1)
        err.print(f"skillstudio: the run failed: {escape(t.stop_reason)} — check --base-url, the model and the API key")
        raise typer.Exit(2)


def _register_runs(app: typer.Typer) -> None:
    @app.command("transcripts")
    def transcripts(
        workspace: Path = typer.Argument(..., help="The workspace whose saved runs to show."),
        run_id: str | None = typer.Argument(None, help="Export this run (an id from the list; a unique prefix works)."),
        as_markdown: bool = typer.Option(False, "--markdown", help="Export the run as Markdown (default JSON)."),
        save_case: str | None = typer.Option(None, "--save-case",
                                             help="Append the run's prompt to this skill's trigger cases."),
        expect: str | None = typer.Option(None, "--expect", help="trigger or no_trigger (default: what the run did)."),
        save_fixture: str | None = typer.Option(None, "--save-fixture",
                                                help="Save the run's shell calls as a regression fixture NAME."),
    ) -> None:
        """List the saved agent runs of a workspace, or export one (JSON, Markdown, trigger case, fixture)."""
        from skillstudio.agent.fixtures import save_fixture as write_fixture
        from skillstudio.agent.fixtures import save_trigger_case
        from skillstudio.agent.transcript import list_runs, load, markdown
        from skillstudio.errors import SkillStudioError

        paths = list_runs(workspace)
        if run_id is None:
            out = Console(highlight=False, soft_wrap=True)
            if not paths:
                out.print("no saved runs")
            for p in paths:
                try:
                    d = load(p)
                except (OSError, ValueError):
                    out.print(f"{p.stem}  [red](unreadable)[/]")
                    continue
                pin = d.get("routing", {}).get("pin")
                out.print(f"{p.stem}  {d.get('outcome', '?'):<17} {d.get('model', '')}  "
                          f"{'pinned ' + pin if pin else 'auto'}  {escape(str(d.get('prompt', ''))[:60])}")
            return
        found = [p for p in paths if p.stem.startswith(run_id)]
        if len(found) != 1:
            raise SkillStudioError(f"{'no' if not found else 'more than one'} saved run matches {run_id!r}",
                                   f"list them with `skillstudio transcripts {workspace}`")
        try:
            doc = load(found[0])
        except (OSError, ValueError) as exc:
            raise SkillStudioError(f"cannot read {found[0]}: {exc}", "the file is damaged; delete it") from None
        if expect is not None and expect not in ("trigger", "no_trigger"):
            raise SkillStudioError(f"bad --expect {expect!r}", "use trigger or no_trigger")
        if save_case or save_fixture:
            if save_case:
                case = save_trigger_case(workspace, doc, save_case, expect=expect,
                                         why=f"saved from agent run {doc.get('run_id')}")
                typer.echo(f"added to {save_case}/evals/triggers.yaml: expect {case.expect}: {case.prompt[:60]}")
            if save_fixture:
                typer.echo(f"fixture saved: {write_fixture(workspace, doc, save_fixture)}")
            return
        sys.stdout.write(markdown(doc) if as_markdown else json.dumps(doc, indent=2, ensure_ascii=False) + "\n")

    @app.command("replay")
    def replay(
        workspace: Path = typer.Argument(..., help="The workspace the fixture belongs to."),
        fixture: str = typer.Argument(..., help="A fixture name (from --save-fixture) or a fixture file."),
        sandbox: str = typer.Option(_DEFAULT_SANDBOX, "--sandbox", help="subprocess (bubblewrap) or docker."),
        data: Path | None = typer.Option(None, "--data", help="The data folder the commands run in."),
    ) -> None:
        """Run a saved run's shell calls again (no model); exit 1 if an exit code or stdout changed."""
        from skillstudio.agent.fixtures import FIXTURES_DIR
        from skillstudio.agent.fixtures import replay as replay_fixture
        from skillstudio.agent.runner import sandbox_for
        from skillstudio.errors import SkillStudioError

        path = Path(fixture) if fixture.endswith(".json") else workspace / FIXTURES_DIR / f"{fixture}.json"
        if not path.is_file():
            raise SkillStudioError(f"no fixture {fixture!r}", f"save one with `skillstudio transcripts {workspace} RUN "
                                   "--save-fixture NAME`")
        shell = sandbox_for(workspace, sandbox=sandbox, data_dir=data)
        try:
            mismatches = replay_fixture(path, shell)
        finally:
            shell.executor.close()
        for m in mismatches:
            typer.echo(f"changed: {m.line()}", err=True)
        typer.echo(f"{path.stem}: {'unchanged' if not mismatches else f'{len(mismatches)} change(s)'}")
        raise typer.Exit(1 if mismatches else 0)
