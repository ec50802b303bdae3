"""Hosted runs: the same bundle, unchanged, in an OpenAI container (`container_auto`).

Each offered skill is attached either inline (its deterministic zip, base64) or as a
`skill_reference` to an uploaded version; the container's `network_policy` is built from the same
sandbox policy and secrets as a local run (`allowlist` with `allowed_domains` and `domain_secrets`,
or `disabled`). The container runs the shell calls itself; the response's `shell_call` and
`shell_call_output` items are recorded in the transcript in the same form as local ones.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstudio.agent import compaction as cp
from skillstudio.agent.providers import (
    CompactionStep,
    Conversation,
    ModelError,
    Turn,
    api_call,
    as_input,
    get,
    parse_output,
)
from skillstudio.agent.routing import OfferedSkill
from skillstudio.agent.shell import CommandResult
from skillstudio.errors import SkillStudioError

MEMORY_LIMITS = ("1g", "4g", "16g", "64g")


@dataclass(frozen=True)
class SkillRef:
    """An uploaded skill version (`skillstudio push SKILL openai:`)."""

    skill_id: str
    version: str | None = None

    def param(self) -> dict[str, Any]:
        p: dict[str, Any] = {"type": "skill_reference", "skill_id": self.skill_id}
        if self.version:
            p["version"] = self.version
        return p


def zip_bytes(skill: OfferedSkill) -> bytes:
    """The skill's deterministic bundle (the same bytes `skillstudio pack` writes)."""
    try:
        from skillstudio.release.pack import pack_skill
    except ImportError as exc:  # pragma: no cover - packing ships with the app
        raise SkillStudioError("bundle packing is not available in this build", "run locally instead") from exc
    with tempfile.TemporaryDirectory(prefix="skillstudio-hosted-") as tmp:
        res = pack_skill(skill.source, Path(tmp) / f"{skill.name}.zip")
        return res.path.read_bytes()


def inline_skill(skill: OfferedSkill) -> dict[str, Any]:
    """The `InlineSkillParam` for a skill: its zip as base64."""
    return {"type": "inline", "name": skill.name, "description": skill.description,
            "source": {"type": "base64", "media_type": "application/zip",
                       "data": base64.b64encode(zip_bytes(skill)).decode("ascii")}}


def network_policy(allowed_domains: list[str], secret_session: Any | None = None) -> dict[str, Any]:
    """`allowlist` with the policy's domains (+ the secrets' bound domains and `domain_secrets`), else `disabled`.

    Wildcards (`*.x.com`) are sent as the parent domain, which the container allow list matches with
    its subdomains; ports are dropped (the hosted allow list names domains only).
    """
    domains: list[str] = []
    for d in allowed_domains:
        host = d.split(":", 1)[0]
        host = host[2:] if host.startswith("*.") else host
        if host not in domains:
            domains.append(host)
    if secret_session is not None and getattr(secret_session, "secrets", None):
        policy: dict[str, Any] = secret_session.hosted_network_policy(domains)
        return policy
    if not domains:
        return {"type": "disabled"}
    return {"type": "allowlist", "allowed_domains": domains}


def shell_tool(skills: list[OfferedSkill], *, refs: dict[str, SkillRef] | None = None,
               allowed_domains: list[str] | None = None, secret_session: Any | None = None,
               memory_limit: str | None = None) -> dict[str, Any]:
    """The `shell` tool with a `container_auto` environment holding the bundle(s)."""
    refs = refs or {}
    env: dict[str, Any] = {"type": "container_auto",
                           "skills": [refs[s.name].param() if s.name in refs else inline_skill(s) for s in skills],
                           "network_policy": network_policy(list(allowed_domains or []), secret_session)}
    if memory_limit:
        if memory_limit not in MEMORY_LIMITS:
            raise SkillStudioError(f"bad memory limit {memory_limit!r}", f"use one of {', '.join(MEMORY_LIMITS)}")
        env["memory_limit"] = memory_limit
    return {"type": "shell", "environment": env}


class HostedProvider:
    """Responses with a hosted shell: one request per turn; the container runs the calls."""

    kind = "responses"
    mode = "server"

    def __init__(self, client: Any, model: str, prompt: str, tool: dict[str, Any], instructions: str | None,
                 settings: cp.CompactionSettings) -> None:
        self.client = client
        self.model = model
        self.base_url = str(client.base_url).rstrip("/")
        self.tool = tool
        self.instructions = instructions
        self.settings = settings
        self.conv = Conversation([{"role": "user", "content": prompt}])

    def body(self) -> dict[str, Any]:
        b: dict[str, Any] = {"model": self.model, "input": self.conv.items(), "tools": [self.tool], "store": False,
                             "include": ["reasoning.encrypted_content"]}
        if self.instructions:
            b["instructions"] = self.instructions
        if self.settings.mode != "off":
            b["context_management"] = [{"type": "compaction", "compact_threshold": self.settings.threshold}]
        return b

    def request(self) -> Turn:
        before = self.conv.items()
        response = api_call(self.client.responses.create, **self.body())
        status = str(get(response, "status") or "completed")
        if status == "failed":
            err = get(response, "error")
            raise ModelError(f"the hosted response failed: {get(err, 'code')}: {get(err, 'message')}")
        output = [i.model_dump(mode="json", exclude_unset=True, warnings=False) if not isinstance(i, dict) else i
                  for i in (get(response, "output") or [])]
        self.conv.new_turn()
        for it in output:
            self.conv.add(as_input(it))
        steps = parse_output(output, remote=True)
        if any(isinstance(s, CompactionStep) for s in steps):
            new, dropped = cp.drop_before_latest_compaction(self.conv.items())
            last = max(i for i, it in enumerate(new) if it.get("type") == "compaction")
            self.conv.head, self.conv.turns = new[:last], [new[last:]]
            steps = [CompactionStep(cp.estimate(before), cp.estimate(self.conv.items()), dropped)
                     if isinstance(s, CompactionStep) else s for s in steps]
        u = get(response, "usage")
        usage = {"input_tokens": int(get(u, "input_tokens") or 0),
                 "output_tokens": int(get(u, "output_tokens") or 0)} if u is not None else None
        reason = str(get(get(response, "incomplete_details"), "reason") or "incomplete") if status == "incomplete" else ""
        return Turn(steps, usage, status, reason)

    def add_results(self, step: Any, results: list[CommandResult]) -> None:  # the container ran them
        raise AssertionError("hosted runs execute no shell calls locally")

    def add_error(self, step: Any, message: str) -> None:
        raise AssertionError("hosted runs execute no shell calls locally")

    def keep_skill(self, name: str, path: str, text: str) -> None:
        return None

    def maybe_compact(self) -> CompactionStep | None:
        return None

    def close(self) -> None:
        self.client.close()
