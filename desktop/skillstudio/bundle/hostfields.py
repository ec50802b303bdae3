"""Front-matter fields that a host runtime reads although the Agent Skills spec does not allow them.

Claude Code documents extra SKILL.md fields (code.claude.com/docs, "Skills" → frontmatter
reference). They are errors for the spec and skills-ref (validity does not change), but they change
what the skill does on Claude Code, so:
- the error explains what the field does and where it is not portable;
- `--fix` never moves one under `metadata` (under metadata Claude Code ignores it: a guarded
  "deploy to production" skill with `disable-model-invocation: true` would become auto-invocable);
- the portable alternative is a separate fix the user must ask for (`portable-host-fields`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostField:
    name: str
    host: str  # the runtime that reads it
    does: str  # what it does there, in a few words
    elsewhere: str  # what other runtimes (Codex, the OpenAI API, skills-ref) do with it
    portable: str  # what the opt-in fix `portable-host-fields` does, and what stops working (in parentheses)

    @property
    def action(self) -> str:
        """"moves it under metadata" / "appends it to the description"."""
        head = self.portable.split(" (", 1)[0]
        return head.replace("moved under", "moves it under").replace("appended to", "appends it to")

    @property
    def effect(self) -> str:
        """What changes on the host when the portable fix is applied."""
        return self.portable.split(" (", 1)[1].rstrip(")") if " (" in self.portable else ""


_IGNORED = "other runtimes ignore it or, like skills-ref, refuse the skill"

CLAUDE_CODE_FIELDS: dict[str, HostField] = {f.name: f for f in (
    HostField("disable-model-invocation", "Claude Code",
              "only the user can invoke the skill (/name); Claude never loads it by itself",
              "Codex and the OpenAI API ignore it, so there the skill is offered to the model; for Codex set "
              "policy.allow_implicit_invocation: false in agents/openai.yaml",
              "moved under metadata (Claude Code then lets the model invoke the skill)"),
    HostField("user-invocable", "Claude Code", "false hides the skill from the / menu (background knowledge only)",
              _IGNORED, "moved under metadata (the skill shows in Claude Code's / menu again)"),
    HostField("when_to_use", "Claude Code", "extra trigger context appended to the description in the skill list",
              "other runtimes never show it to the model, so the skill triggers on its description alone",
              "appended to the description (every runtime then sees it)"),
    HostField("argument-hint", "Claude Code", "the hint shown after /name while typing (e.g. [issue-number])",
              _IGNORED, "moved under metadata (no hint in Claude Code's / menu)"),
    HostField("arguments", "Claude Code", "named arguments substituted as $name in the body", _IGNORED,
              "moved under metadata ($name placeholders stay unfilled)"),
    HostField("model", "Claude Code", "the model used while the skill runs", _IGNORED,
              "moved under metadata (the session's model is used)"),
    HostField("effort", "Claude Code", "the effort level while the skill runs", _IGNORED,
              "moved under metadata (the session's effort is used)"),
    HostField("context", "Claude Code", "'fork' runs the skill in an isolated sub-agent", _IGNORED,
              "moved under metadata (the skill runs in the main conversation)"),
    HostField("agent", "Claude Code", "the sub-agent type used with context: fork", _IGNORED,
              "moved under metadata (the default agent is used)"),
    HostField("hooks", "Claude Code", "lifecycle hooks scoped to the skill (commands run on tool events)", _IGNORED,
              "moved under metadata (the hooks no longer run)"),
    HostField("paths", "Claude Code", "glob patterns: the skill is offered only when matching files are in play",
              _IGNORED, "moved under metadata (the skill is offered everywhere)"),
    HostField("shell", "Claude Code", "the shell for !`command` blocks (bash or powershell)", _IGNORED,
              "moved under metadata (bash is used)"),
)}


def host_field(name: str) -> HostField | None:
    return CLAUDE_CODE_FIELDS.get(name)
