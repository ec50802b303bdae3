"""Releasing a skill: validate, bump `metadata.version`, write the CHANGELOG entry, commit, tag.

A release is immutable: the tag `<skill>/v<version>` pins the folder's content. When the user edits a
released skill, `start_next_version` moves it to the next patch version (and opens an
"Unreleased" section in the changelog) so the released version is never silently changed.
Only the skill's own folder is committed; the user's other changes (staged or not) stay as they were.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import semver

from skillstudio.bundle import history, skillmd
from skillstudio.bundle.fileio import UnreadableFile, atomic_write, read_text_file
from skillstudio.bundle.model import find_skill_md, load_skill
from skillstudio.errors import CheckFailed, SkillStudioError

Bump = Literal["patch", "minor", "major"]
BUMPS: tuple[str, ...] = ("patch", "minor", "major")
CHANGELOG = "CHANGELOG.md"
CHANGELOG_HEADER = (
    "# Changelog\n\n"
    "All notable changes to this skill are documented here. The format follows\n"
    "[Keep a Changelog](https://keepachangelog.com/en/1.1.0/) and versions follow\n"
    "[Semantic Versioning](https://semver.org/).\n\n"
    "## [Unreleased]\n"
)
Validator = Callable[[Path], list[str]]


@dataclass(frozen=True)
class ReleaseResult:
    skill: str
    version: str
    previous_version: str | None
    tag: str
    commit: str
    changelog_entry: str
    files: list[str] = field(default_factory=list)  # skill files in the release commit


# ------------------------------------------------------------------------------------------ validation

def default_validator(skill_dir: Path) -> list[str]:
    """Errors that block a release: ours (severity "error") when available, plus the spec's (skills-ref)."""
    skill_dir = Path(skill_dir)
    errors: list[str] = []
    try:
        from skillstudio.bundle.validate import validate_skill
    except ImportError:  # the validator is optional here: the spec check below still runs
        pass
    else:
        problems = validate_skill(load_skill(skill_dir))
        errors += [str(p) for p in problems if p.severity == "error"]
    from skills_ref.validator import validate as spec_validate

    errors += [e for e in spec_validate(skill_dir) if not any(e in mine for mine in errors)]
    return errors


# ------------------------------------------------------------------------------------------ versions

def parse_version(value: str | None) -> semver.Version | None:
    if value is None:
        return None
    v = value.strip().removeprefix("v")
    return semver.Version.parse(v) if semver.Version.is_valid(v) else None


def bump_version(version: str, bump: str) -> str:
    v = parse_version(version)
    if v is None:
        raise SkillStudioError(f"version {version!r} is not semver", "use MAJOR.MINOR.PATCH, e.g. 1.0.0")
    if bump not in BUMPS:
        raise SkillStudioError(f"unknown bump {bump!r}", "use patch, minor or major")
    return str(v.next_version(part=bump))


def next_release_version(current: str | None, released: list[str], bump: str | None) -> str:
    """The version a release will get.

    With a bump, it is the bump of the latest released version (or of the current one when nothing
    is released yet), so starting the next version and then releasing never skips a number. With
    no bump, the current version is released as it is.
    """
    cur = parse_version(current) if current is not None else semver.Version(0, 0, 0)
    if cur is None:
        raise SkillStudioError(f"metadata.version {current!r} is not a semver version",
                               "set metadata.version to MAJOR.MINOR.PATCH, e.g. 1.0.0")
    latest = max((v for v in (parse_version(r) for r in released) if v is not None), default=None)
    if bump is None:
        if current is None:
            raise SkillStudioError("the skill has no metadata.version to release",
                                   "choose a bump (patch, minor or major) or set metadata.version")
        new = cur
    else:
        new = semver.Version.parse(bump_version(str(latest or cur), bump))
        if new < cur and str(cur) not in released:
            raise SkillStudioError(
                f"SKILL.md is at {cur} but a {bump} release from {latest or cur} would be {new}",
                "choose a larger bump, or release the current version as it is (no bump)", setting="bump")
    if str(new) in released:
        raise SkillStudioError(f"version {new} was already released and released versions are immutable",
                               "choose a bump (patch, minor or major) to release a new version")
    if latest is not None and new <= latest:
        raise SkillStudioError(f"version {new} is not newer than the last release {latest}",
                               "choose a bump (patch, minor or major)")
    return str(new)


# ------------------------------------------------------------------------------------------ changelog

_UNRELEASED = re.compile(r"^##\s*\[?unreleased\]?\s*$", re.IGNORECASE)
_VERSION_HEADING = re.compile(r"^##\s")


def format_notes(notes: str) -> str:
    """Release notes as Markdown: kept when already structured, otherwise one bullet per line."""
    lines = [ln.rstrip() for ln in notes.strip().splitlines()]
    if not any(ln.strip() for ln in lines):
        return ""
    if any(ln.lstrip().startswith(("#", "-", "*")) for ln in lines):
        return "\n".join(lines)
    return "\n".join(f"- {ln.strip()}" for ln in lines if ln.strip())


def add_changelog_entry(text: str, version: str, date: str, notes: str) -> tuple[str, str]:
    """Return (new changelog text, the entry). Newest first; the "Unreleased" section's content
    moves into the new entry and an empty "Unreleased" heading stays on top, as Keep a Changelog does.
    """
    newline = skillmd.detect_newline(text) if text else "\n"
    lines = (text or CHANGELOG_HEADER).replace("\r\n", "\n").split("\n")
    unrel = next((i for i, ln in enumerate(lines) if _UNRELEASED.match(ln.strip())), None)
    pending: list[str] = []
    if unrel is not None:
        end = next((j for j in range(unrel + 1, len(lines)) if _VERSION_HEADING.match(lines[j])), len(lines))
        pending = [ln for ln in lines[unrel + 1:end]]
        del lines[unrel + 1:end]
        insert_at = unrel + 1
    else:
        insert_at = next((i for i, ln in enumerate(lines) if _VERSION_HEADING.match(ln)), len(lines))
    body_parts = [p for p in ("\n".join(pending).strip(), format_notes(notes)) if p]
    # two plain bullet lists read as one list; anything with sub-headings stays in its own block
    glue = "\n\n" if any(ln.startswith("#") for p in body_parts for ln in p.splitlines()) else "\n"
    body = glue.join(body_parts) or "- No notable changes."
    entry = f"## [{version}] - {date}\n\n{body}\n"
    block = ([""] if insert_at > 0 and lines[insert_at - 1].strip() else []) + entry.split("\n")
    lines[insert_at:insert_at] = block
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out).rstrip("\n") + "\n"
    return out.replace("\n", newline), entry


def ensure_unreleased(text: str) -> str:
    """A changelog with an "## [Unreleased]" heading above the newest version (added when missing)."""
    if not text:
        return CHANGELOG_HEADER
    newline = skillmd.detect_newline(text)
    lines = text.replace("\r\n", "\n").split("\n")
    if any(_UNRELEASED.match(ln.strip()) for ln in lines):
        return text
    at = next((i for i, ln in enumerate(lines) if _VERSION_HEADING.match(ln)), len(lines))
    lines[at:at] = ["## [Unreleased]", ""]
    return "\n".join(lines).replace("\n", newline)


# ------------------------------------------------------------------------------------------ state checks

def _check_repo_state(root: Path, rel: str) -> None:
    for marker, what in (("MERGE_HEAD", "a merge"), ("rebase-merge", "a rebase"), ("rebase-apply", "a rebase"),
                         ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert")):
        p = history.run_git(root, "rev-parse", "--git-path", marker).stdout.strip()
        if (root / p).exists():
            raise SkillStudioError(f"the repository is in the middle of {what}",
                                   "finish or abort it in git, then release again")
    status = history.run_git(root, "status", "--porcelain=v1", "--", rel).stdout
    conflicted = [ln[3:] for ln in status.splitlines() if ln[:2] in ("UU", "AA", "DD", "AU", "UA", "DU", "UD")]
    if conflicted:
        raise SkillStudioError(f"unresolved merge conflicts in {', '.join(conflicted)}",
                               "resolve them and release again")


def _skill_version(skill_dir: Path) -> tuple[str, str | None]:
    skill = load_skill(skill_dir, with_files=False)
    if skill.skill_md is None:
        raise SkillStudioError(f"{skill_dir} has no SKILL.md", "pick a skill folder")
    if skill.parse_error:
        raise SkillStudioError(f"{skill.skill_md.name}: {skill.parse_error}", "fix the front matter first")
    return skill.name, skill.version.strip() if skill.version else None


def is_released(workspace: Path, skill_dir: Path) -> bool:
    """True when the version in SKILL.md already has a release tag: edits must start the next version."""
    if history.find_repo_root(workspace) is None:
        return False
    name, version = _skill_version(Path(skill_dir))
    v = parse_version(version)
    return v is not None and str(v) in history.released_versions(workspace, skill_dir)


def next_version(workspace: Path, skill_dir: Path) -> str | None:
    """The version an edit of this skill must move to: the next patch when the current one is
    released, None when it is not (edits may go on in place). Writes nothing, so the editor can
    apply it to its unsaved buffer with `set_version_text`.
    """
    skill_dir = Path(skill_dir)
    if not is_released(workspace, skill_dir):
        return None
    _, version = _skill_version(skill_dir)
    candidates = [parse_version(r) for r in history.released_versions(workspace, skill_dir)]
    candidates.append(parse_version(version))
    latest = max((v for v in candidates if v is not None), default=semver.Version(0))
    return str(latest.bump_patch())


def set_version_text(text: str, version: str) -> str:
    """SKILL.md text with `metadata.version` set, everything else byte for byte as it was."""
    return skillmd.set_metadata(text, "version", version)


def start_next_version(workspace: Path, skill_dir: Path) -> str | None:
    """Move an already-released skill to the next patch version; returns it (None when nothing to do).

    SKILL.md gets the new `metadata.version` (an in-place edit) and CHANGELOG.md an "Unreleased"
    section, so the released version's content stays exactly as tagged. An editor holding unsaved
    text should use `next_version` + `set_version_text` on its buffer instead of this.
    """
    skill_dir = Path(skill_dir)
    new = next_version(workspace, skill_dir)
    if new is None:
        return None
    md = find_skill_md(skill_dir)
    assert md is not None
    try:  # never through a link: writing back would copy the link's target into the skill
        text = read_text_file(md)
        old = read_text_file(skill_dir / CHANGELOG) if (skill_dir / CHANGELOG).exists() else ""
    except UnreadableFile as exc:
        raise SkillStudioError(f"{exc}; nothing was changed", "replace it with a plain text file") from None
    atomic_write(md, set_version_text(text, new))
    log = skill_dir / CHANGELOG
    new_log = ensure_unreleased(old)
    if new_log != old:
        atomic_write(log, new_log)
    return new


# ------------------------------------------------------------------------------------------ release

def release_skill(workspace: Path, skill_dir: Path, bump: str | None = "patch", notes: str = "",
                  validate: Validator | None = None, date: dt.date | None = None) -> ReleaseResult:
    """Release one skill: requires a clean validation, then bump, changelog, commit (that folder only), tag.

    On any failure after files were touched, SKILL.md and CHANGELOG.md are put back as they were.
    """
    workspace, skill_dir = Path(workspace), Path(skill_dir)
    if bump is not None and bump not in BUMPS:
        raise SkillStudioError(f"unknown bump {bump!r}", "use patch, minor or major")
    root = history.require_repo(workspace)
    rel = history.repo_relative(root, skill_dir)
    _check_repo_state(root, rel)
    name, current = _skill_version(skill_dir)

    errors = (validate or default_validator)(skill_dir)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CheckFailed(f"{name} cannot be released: {errors[0]}{more}",
                          f"fix the errors (skillstudio validate {skill_dir}) and release again")

    released = history.released_versions(workspace, skill_dir)
    version = next_release_version(current, released, bump)
    tag = history.tag_name(name, version)
    if history.tag_exists(root, tag):
        raise SkillStudioError(f"tag {tag} already exists: version {version} was released before",
                               "released versions are immutable; choose a larger bump")

    md = find_skill_md(skill_dir)
    assert md is not None
    log = skill_dir / CHANGELOG
    md_before = md.read_bytes()
    log_before = log.read_bytes() if log.exists() else None
    day = (date or dt.date.today()).isoformat()
    try:
        md_text = md_before.decode("utf-8")
        if current != version:
            atomic_write(md, skillmd.set_metadata(md_text, "version", version))
        log_text, entry = add_changelog_entry(log_before.decode("utf-8") if log_before else "", version, day, notes)
        atomic_write(log, log_text)
        history.run_git(root, "add", "-A", "--", rel)
        message = f"Release {name} {version}"
        body = format_notes(notes)
        args = ["commit", "-q", "-m", message] + (["-m", body] if body else []) + ["--", rel]
        history.run_git(root, *args, identity=True)
        commit = history.run_git(root, "rev-parse", "HEAD").stdout.strip()
    except BaseException:
        atomic_write(md, md_before)
        if log_before is None:
            log.unlink(missing_ok=True)
        else:
            atomic_write(log, log_before)
        history.run_git(root, "reset", "-q", "--", rel, check=False)
        raise
    history.run_git(root, "tag", "-a", tag, "-m", f"{name} {version}\n\n{entry}", commit, identity=True)
    files = [f for f in history.run_git(root, "show", "--name-only", "--format=", commit).stdout.splitlines() if f]
    return ReleaseResult(skill=name, version=version, previous_version=current, tag=tag, commit=commit,
                         changelog_entry=entry, files=files)
