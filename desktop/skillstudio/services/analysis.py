"""What the editor shows about a SKILL.md buffer: problems, front-matter fields, token costs.

Qt-free and pure (text in, result out), so it runs on a worker thread for every pause in typing and
the benchmark can time it. Validation and token counting are the core's (bundle.validate,
bundle.tokens); this module only puts the live buffer in place of the file on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skillstudio.bundle import tokens
from skillstudio.bundle.model import FrontMatter, Skill, load_skill, parse_skill_text
from skillstudio.bundle.problems import Problem
from skillstudio.bundle.validate import WorkspaceContext, validate_text
from skillstudio.bundle.workspace import Workspace
from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError


@dataclass
class TokenSummary:
    always_loaded: int = 0  # name + description: paid by every request
    body: int = 0  # paid when the skill triggers
    total: int = 0  # SKILL.md + every countable file of the bundle
    catalog_chars: int = 0  # the whole workspace's catalog, with this buffer in place of the file
    catalog_tokens: int = 0
    budget_chars: int = tokens.CODEX_BUDGET_CHARS


@dataclass
class CheckResult:
    text: str  # the buffer this result is about (stale results are recognised by it)
    problems: list[Problem] = field(default_factory=list)
    frontmatter: FrontMatter | None = None
    parse_error: str | None = None
    parse_error_line: int | None = None
    tokens: TokenSummary = field(default_factory=TokenSummary)
    tokens_error: str | None = None  # why there are no token counts
    error: str | None = None  # the check itself failed (shown, never raised)


@dataclass
class SkillContext:
    """What stays the same between keystrokes: the skill on disk and the other skills' catalog share."""

    skill_dir: Path
    skill_md_name: str = "SKILL.md"
    base: Skill | None = None
    file_tokens: dict[str, int] = field(default_factory=dict)  # other files of the bundle
    others_chars: int = 0
    others_tokens: int = 0
    ws_ctx: WorkspaceContext | None = None  # near-duplicate index and catalog size, built once
    tokens_error: str | None = None  # counting is impossible here (e.g. no offline vocabulary)


def build_context(skill_dir: Path, workspace: Workspace | None, token: CancelToken | None = None) -> SkillContext:
    """Load the skill once (files, cases) and count everything that does not change while typing."""
    base = load_skill(skill_dir)
    ctx = SkillContext(skill_dir=skill_dir, base=base,
                       skill_md_name=base.skill_md.name if base.skill_md else "SKILL.md")
    if workspace is not None:
        ctx.ws_ctx = WorkspaceContext(workspace.skills)
    try:
        st = tokens.skill_tokens(base, with_files=True)
        ctx.file_tokens = {k: v for k, v in st.files.items() if k != ctx.skill_md_name}
        me = skill_dir.resolve()
        for s in workspace.skills if workspace is not None else []:
            if token is not None:
                token.raise_if_cancelled()
            if s.path.resolve() == me:
                continue
            ctx.others_chars += len(s.name) + len(s.description)
            ctx.others_tokens += tokens.count(s.name) + tokens.count(s.description)
    except SkillStudioError as exc:  # validation still works without token counts
        ctx.tokens_error = str(exc)
    return ctx


def check_text(ctx: SkillContext, text: str) -> CheckResult:
    """Validate and count the buffer `text` (as it would be saved) of the skill in `ctx`."""
    result = CheckResult(text=text)
    skill = (ctx.base.model_copy() if ctx.base is not None else Skill(path=ctx.skill_dir))
    skill.skill_md = ctx.skill_dir / ctx.skill_md_name
    parse_skill_text(skill, text)
    result.frontmatter = skill.frontmatter
    result.parse_error, result.parse_error_line = skill.parse_error, skill.parse_error_line
    try:
        result.problems = validate_text(ctx.base if ctx.base is not None else ctx.skill_dir, text,
                                        workspace=ctx.ws_ctx)
    except Exception as exc:  # noqa: BLE001 - a validator bug must not break typing
        result.error = f"validation failed: {exc}"
    if ctx.tokens_error is not None:
        result.tokens_error = ctx.tokens_error
        return result
    st = tokens.skill_tokens(skill, with_files=False)
    t = result.tokens
    t.always_loaded, t.body = st.always_loaded, st.body
    t.total = sum(st.files.values()) + sum(ctx.file_tokens.values())
    t.catalog_chars = ctx.others_chars + st.catalog_chars
    t.catalog_tokens = ctx.others_tokens + st.always_loaded
    return result
