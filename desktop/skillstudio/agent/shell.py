"""Running one `shell_call` in the sandbox, exactly as the Responses shell tool describes it.

Each command of a call runs in its own sandboxed `bash -c` (working directory = the data folder),
one after the other; `timeout_ms` bounds the whole call (a command that runs out gets outcome
`timeout` and the rest are not started); `max_output_length` caps the characters of stdout and
stderr together per command (DEFAULT_MAX_OUTPUT when the model sets none, so one noisy command
cannot flood the context), keeping the head and tail of each stream. Output is redacted before
it is counted, so the model and the transcript only ever see `[secret:NAME]`.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillstudio.cancel import CancelToken
from skillstudio.sandbox.executor import Executor
from skillstudio.sandbox.policy import Policy

SHELL = ("bash", "-c")
DEFAULT_TIMEOUT_MS = 120_000
DEFAULT_MAX_OUTPUT = 32_000  # characters per command when the model sets no max_output_length


@dataclass
class CommandResult:
    command: str
    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool = False
    truncated: bool = False
    cancelled: bool = False
    duration_s: float = 0.0
    network: list[str] = field(default_factory=list)

    def outcome(self) -> dict[str, Any]:
        if self.timed_out:
            return {"type": "timeout"}
        return {"type": "exit", "exit_code": self.exit_code}

    def wire(self) -> dict[str, Any]:
        """One entry of `shell_call_output.output` (ResponseFunctionShellCallOutputContentParam)."""
        return {"stdout": self.stdout, "stderr": self.stderr, "outcome": self.outcome()}

    def record(self) -> dict[str, Any]:
        return {"command": self.command, "stdout": self.stdout, "stderr": self.stderr,
                "exit_code": self.exit_code, "timed_out": self.timed_out, "truncated": self.truncated,
                "duration_s": round(self.duration_s, 3), "network": self.network}


def _cut(text: str, budget: int) -> str:
    """Head and tail of `text` in at most `budget` characters, with a marker in between."""
    if len(text) <= budget:
        return text
    marker = f"\n…[{len(text) - budget} chars truncated]…\n"
    if budget <= len(marker) + 2:
        return text[:budget]
    keep = budget - len(marker)
    head = keep - keep // 2
    return text[:head] + marker + text[len(text) - keep // 2:]


def truncate_pair(stdout: str, stderr: str, limit: int | None) -> tuple[str, str, bool]:
    """Cap stdout+stderr to `limit` characters; the shorter stream keeps all it can."""
    if limit is None or limit < 0 or len(stdout) + len(stderr) <= limit:
        return stdout, stderr, False
    half = limit // 2
    if len(stderr) <= half:
        return _cut(stdout, limit - len(stderr)), stderr, True
    if len(stdout) <= half:
        return stdout, _cut(stderr, limit - len(stdout)), True
    return _cut(stdout, limit - half), _cut(stderr, half), True


LiveOutput = Callable[[int, str, str], None]  # (command index, "stdout" | "stderr", redacted text)


class _LiveStream:
    """Decodes and redacts one stream's chunks as they arrive (a value split across chunks is still caught)."""

    def __init__(self, index: int, name: str, redactor: Any | None, sink: LiveOutput) -> None:
        self.index, self.name, self.sink = index, name, sink
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.redact = redactor.stream() if redactor else None

    def feed(self, chunk: bytes) -> None:
        self._emit(self.decoder.decode(chunk))

    def close(self) -> None:
        self._emit(self.decoder.decode(b"", final=True))
        if self.redact is not None:
            rest = self.redact.flush()
            if rest:
                self.sink(self.index, self.name, str(rest))

    def _emit(self, text: str) -> None:
        if self.redact is not None:
            text = self.redact.feed(text)
        if text:
            self.sink(self.index, self.name, text)


class _Live:
    """The executor's `on_output` sink for one command: both streams, each decoded and redacted."""

    def __init__(self, index: int, redactor: Any | None, sink: LiveOutput) -> None:
        self.streams = {n: _LiveStream(index, n, redactor, sink) for n in ("stdout", "stderr")}

    def __call__(self, stream: str, chunk: bytes) -> None:
        self.streams[stream].feed(chunk)

    def close(self) -> None:
        for s in self.streams.values():
            s.close()


class ShellRunner:
    """Executes shell calls through one sandbox executor under one policy."""

    def __init__(self, executor: Executor, policy: Policy, redactor: Any | None = None) -> None:
        self.executor = executor
        self.policy = policy
        self.redactor = redactor
        self.secrets_seen: set[str] = set()
        self.on_output: LiveOutput | None = None  # live, redacted output (called from reader threads)

    def _redact(self, text: str) -> str:
        if not self.redactor:
            return text
        self.secrets_seen |= self.redactor.find(text)
        return str(self.redactor.redact(text))

    def run_call(self, commands: Sequence[str], *, timeout_ms: int | None = None,
                 max_output_length: int | None = None, cancel: CancelToken | None = None) -> list[CommandResult]:
        budget_s = (timeout_ms if timeout_ms and timeout_ms > 0 else DEFAULT_TIMEOUT_MS) / 1000.0
        budget_s = min(budget_s, self.policy.limits.wall_s)
        deadline = time.monotonic() + budget_s
        results: list[CommandResult] = []
        for command in commands:
            if cancel is not None and cancel.cancelled:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                results.append(CommandResult(command, "", "not started: the call's timeout ran out", 124,
                                             timed_out=True))
                break
            limits = self.policy.limits.model_copy(update={"wall_s": remaining})
            policy = self.policy.model_copy(update={"limits": limits})
            if self.on_output is None:
                res = self.executor.run([*SHELL, command], policy, cancel)
            else:
                live = _Live(len(results), self.redactor, self.on_output)
                res = self.executor.run([*SHELL, command], policy, cancel, on_output=live)
                live.close()
            out, err = self._redact(res.stdout), self._redact(res.stderr)
            cap = DEFAULT_MAX_OUTPUT if max_output_length is None else max_output_length
            out, err, cut = truncate_pair(out, err, cap)
            results.append(CommandResult(command, out, err, res.exit_code, timed_out=res.timed_out,
                                         truncated=cut or res.truncated, cancelled=res.cancelled,
                                         duration_s=res.duration_s,
                                         network=[ev.line() for ev in res.network_log]))
            if res.timed_out or res.cancelled:
                break
        return results
