"""Agent runs: one skill bundle run locally (sandboxed shell calls) or hosted, with a full transcript.

Entry point for the CLI and the app: `runner.execute(RunRequest, on_event, cancel) -> Transcript`.
- `routing`: auto vs pinned (`Pin`, lockfile digest check, violations);
- `providers`: the Responses API (shell tool, local environment) and chat-compatible servers;
- `hosted`: `container_auto` requests (inline zip or skill_reference, network_policy);
- `shell`: one shell_call run in the sandbox (timeouts, output caps, redaction);
- `compaction`: the token meter and the server / endpoint / client compaction strategies;
- `loop`: the loop itself, limits and cancellation; `transcript`: what is recorded and saved.
"""
