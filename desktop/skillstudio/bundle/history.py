"""Versions of skills kept in git: the workspace is a repository, each release a tag `<skill>/v<version>`.

We drive the `git` command line (not a library) because it is what users already have, it honours
their config (identity, hooks, signing) and its output formats are stable. Every call goes through
`run_git`, which turns a missing git or a failing command into a one-line SkillStudioError.
Nothing here imports Qt: the app calls these functions from a worker.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import semver

from skillstudio.bundle import skillmd
from skillstudio.bundle.fileio import MAX_TEXT_BYTES, UnreadableFile, read_regular
from skillstudio.bundle.model import load_skill
from skillstudio.errors import EnvironmentProblem, SkillStudioError

# Used only when the user has no git identity configured, so a first commit from the app still works.
FALLBACK_NAME = "Skill Studio"
FALLBACK_EMAIL = "skillstudio@localhost"
# Caches and run history are machine-local; policies and the trust store in .skillstudio/ are shared.
DEFAULT_GITIGNORE = ".skillstudio/cache/\n.skillstudio/runs/\n__pycache__/\n*.pyc\n.DS_Store\n"
_SEP = "\x1f"  # field separator for git log --format


@dataclass(frozen=True)
class Commit:
    rev: str  # full hash
    short: str
    date: str  # ISO 8601 with offset (author date)
    author: str
    subject: str
    tags: list[str] = field(default_factory=list)  # this skill's release tags on the commit
    version: str | None = None  # metadata.version of SKILL.md at this commit


@dataclass(frozen=True)
class FileDiff:
    """One file's part of a diff, for a side-by-side or list view."""

    path: str  # relative to the skill folder
    old_path: str | None  # None when the file is new
    new_path: str | None  # None when the file was deleted
    status: str  # added | deleted | modified | renamed | binary
    added: int
    removed: int
    text: str  # this file's unified diff


# ------------------------------------------------------------------------------------------ git plumbing

def git_executable() -> str:
    exe = shutil.which("git")
    if exe is None:
        raise EnvironmentProblem("git is not installed, so versions cannot be kept",
                                 "install git (e.g. apt-get install git) and try again")
    return exe


def run_git(cwd: Path, *args: str, input_text: str | None = None, check: bool = True,
            identity: bool = False) -> subprocess.CompletedProcess[str]:
    """Run git in `cwd`. With `identity`, supply a fallback author when the user has none configured."""
    cmd = [git_executable()]
    if identity and not _has_identity(cwd):
        cmd += ["-c", f"user.name={FALLBACK_NAME}", "-c", f"user.email={FALLBACK_EMAIL}"]
    cmd += list(args)
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        proc = subprocess.run(cmd, cwd=cwd, input=input_text, capture_output=True, text=True,
                              encoding="utf-8", errors="replace", env=env, check=False)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot run git: {exc}", "check that git is installed and on PATH") from None
    if check and proc.returncode != 0:
        msg = (proc.stderr.strip() or proc.stdout.strip() or f"exit code {proc.returncode}").splitlines()
        raise SkillStudioError(f"git {args[0]} failed: {msg[-1] if msg else ''}".rstrip(),
                               "see the git message above; fix the repository and try again")
    return proc


def _has_identity(cwd: Path) -> bool:
    exe = git_executable()
    for key in ("user.name", "user.email"):
        env_key = "GIT_AUTHOR_NAME" if key == "user.name" else "GIT_AUTHOR_EMAIL"
        if os.environ.get(env_key):
            continue
        proc = subprocess.run([exe, "config", "--get", key], cwd=cwd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not proc.stdout.strip():
            return False
    return True


def find_repo_root(path: Path) -> Path | None:
    """The top folder of the git repository holding `path`, or None when it is not in one."""
    path = Path(path).resolve()
    start = path if path.is_dir() else path.parent
    if not start.exists():
        return None
    proc = run_git(start, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.strip()).resolve()


def is_git_repo(path: Path) -> bool:
    return find_repo_root(path) is not None


def require_repo(workspace: Path) -> Path:
    root = find_repo_root(workspace)
    if root is None:
        raise SkillStudioError(f"{workspace} is not a git repository, so it has no versions yet",
                               "create one first (Versions → Create repository, or `git init`)")
    return root


def has_commits(root: Path) -> bool:
    return run_git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode == 0


def init_repo(workspace: Path, message: str = "Start versioning skills with Skill Studio") -> Path:
    """Make `workspace` a git repository and commit what is in it; returns the repository root.

    A `.gitignore` keeps machine-local state (`.skillstudio/cache`, `.skillstudio/runs`) out of
    the history. An existing repository is left alone (its root is returned).
    """
    workspace = Path(workspace).resolve()
    existing = find_repo_root(workspace)
    if existing is not None:
        return existing
    if not workspace.is_dir():
        raise SkillStudioError(f"{workspace} is not a folder", "open a workspace folder first")
    proc = run_git(workspace, "init", "-q", "-b", "main", check=False)
    if proc.returncode != 0:  # git older than 2.28 has no -b
        run_git(workspace, "init", "-q")
    ignore = workspace / ".gitignore"
    if not ignore.exists():
        ignore.write_text(DEFAULT_GITIGNORE, encoding="utf-8")
    run_git(workspace, "add", "-A")
    run_git(workspace, "commit", "-q", "--allow-empty", "-m", message, identity=True)
    return workspace


# ------------------------------------------------------------------------------------------ paths and tags

def repo_relative(root: Path, path: Path) -> str:
    """POSIX path of `path` inside the repository (raises when it lies outside)."""
    p = Path(path).resolve()
    try:
        rel = p.relative_to(root)
    except ValueError:
        raise SkillStudioError(f"{path} is not inside the repository at {root}",
                               "open the skill from its workspace") from None
    return rel.as_posix() or "."


def skill_name(skill_dir: Path) -> str:
    """The name used in tags: the front-matter name, else the folder name."""
    return load_skill(Path(skill_dir), with_files=False).name


def tag_name(name: str, version: str) -> str:
    return f"{name}/v{version}"


def _parse_version(v: str | None) -> semver.Version | None:
    if not v:
        return None
    v = v.strip().removeprefix("v")
    return semver.Version.parse(v) if semver.Version.is_valid(v) else None


def released_versions(workspace: Path, skill_dir: Path) -> list[str]:
    """Versions of this skill that have a release tag, oldest first (semver order)."""
    root = find_repo_root(workspace)
    if root is None:
        return []
    name = skill_name(skill_dir)
    prefix = f"{name}/v"
    out = run_git(root, "tag", "--list", f"{prefix}*").stdout.split()
    versions = [t[len(prefix):] for t in out if t.startswith(prefix)]
    valid = [v for v in versions if _parse_version(v) is not None]
    return sorted(valid, key=lambda v: _parse_version(v))  # type: ignore[arg-type, return-value]


def tag_exists(root: Path, tag: str) -> bool:
    return run_git(root, "rev-parse", "--verify", "-q", f"refs/tags/{tag}", check=False).returncode == 0


def resolve_rev(workspace: Path, skill_dir: Path, rev: str) -> str:
    """A commit id for `rev`: a version of this skill (`1.2.0`, `v1.2.0`), a tag, a branch or a hash."""
    root = require_repo(workspace)
    candidates = [rev]
    if _parse_version(rev) is not None:
        candidates.insert(0, tag_name(skill_name(skill_dir), rev.removeprefix("v")))
    for cand in candidates:
        proc = run_git(root, "rev-parse", "--verify", "-q", f"{cand}^{{commit}}", check=False)
        if proc.returncode == 0:
            return proc.stdout.strip()
    if _parse_version(rev) is not None:  # an unreleased version: the newest commit that had it
        wanted = rev.removeprefix("v")
        for c in skill_log(workspace, skill_dir):
            if c.version is not None and c.version.strip().removeprefix("v") == wanted:
                return c.rev
    raise SkillStudioError(f"unknown version or revision {rev!r}",
                           "use a released version (see `skillstudio history`), a tag or a commit id")


# ------------------------------------------------------------------------------------------ reading history

def _read_blobs(root: Path, specs: list[str]) -> list[str | None]:
    """Contents of many `rev:path` specs in one `git cat-file --batch` call (None when missing)."""
    if not specs:
        return []
    exe = git_executable()
    proc = subprocess.run([exe, "cat-file", "--batch"], cwd=root, input=("\n".join(specs) + "\n").encode(),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise SkillStudioError("git cat-file failed: " + proc.stderr.decode(errors="replace").strip(),
                               "check the repository with `git fsck`")
    data, pos = proc.stdout, 0
    out: list[str | None] = []
    for _ in specs:
        nl = data.index(b"\n", pos)
        header = data[pos:nl].decode(errors="replace").split()
        pos = nl + 1
        if len(header) == 3 and header[1] == "blob":
            size = int(header[2])
            out.append(data[pos:pos + size].decode("utf-8", errors="replace"))
            pos += size + 1
        else:  # "<spec> missing" or not a blob
            out.append(None)
    return out


def version_in_text(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        data, _ = skillmd.load_front_matter(text)
    except skillmd.FrontMatterError:
        return None
    meta = data.get("metadata")
    if isinstance(meta, dict) and meta.get("version") is not None:
        return str(meta["version"])
    return None


def skill_log(workspace: Path, skill_dir: Path, limit: int | None = None) -> list[Commit]:
    """Commits that changed this skill's folder, newest first, with its release tags and version."""
    root = require_repo(workspace)
    if not has_commits(root):
        return []
    rel = repo_relative(root, skill_dir)
    name = skill_name(skill_dir)
    fmt = _SEP.join(["%H", "%h", "%aI", "%an", "%s", "%D"]) + "\x1e"
    args = ["log", f"--format={fmt}", "--decorate=full"]
    if limit:
        args.append(f"-n{limit}")
    out = run_git(root, *args, "--", rel).stdout
    rows = []
    for rec in out.split("\x1e"):
        rec = rec.strip("\n")
        if not rec:
            continue
        parts = rec.split(_SEP)
        if len(parts) < 6:
            continue
        refs = [r.strip() for r in parts[5].split(",") if r.strip()]
        tags = [r.removeprefix("tag: refs/tags/") for r in refs if r.startswith("tag: refs/tags/")]
        rows.append((parts, [t for t in tags if t.startswith(f"{name}/v")]))
    specs = []
    for parts, _ in rows:
        specs.append(f"{parts[0]}:{rel}/SKILL.md" if rel != "." else f"{parts[0]}:SKILL.md")
    texts = _read_blobs(root, specs)
    # a skill may use lowercase skill.md: look that up only for the commits that lacked SKILL.md
    missing = [i for i, t in enumerate(texts) if t is None]
    if missing:
        alt = _read_blobs(root, [specs[i][: -len("SKILL.md")] + "skill.md" for i in missing])
        for i, t in zip(missing, alt, strict=True):
            texts[i] = t
    return [Commit(rev=p[0], short=p[1], date=p[2], author=p[3], subject=p[4], tags=tags,
                   version=version_in_text(text))
            for (p, tags), text in zip(rows, texts, strict=True)]


def file_at(workspace: Path, rev: str, path: Path | str) -> str:
    """Text of a file as it was at `rev`. `path` is absolute or relative to the workspace."""
    root = require_repo(workspace)
    p = Path(path)
    if not p.is_absolute():
        p = Path(workspace).resolve() / p
    rel = repo_relative(root, p)
    text = _read_blobs(root, [f"{rev}:{rel}"])[0]
    if text is None:
        raise SkillStudioError(f"{rel} does not exist at {rev}", "pick a revision where the file exists")
    return text


# ------------------------------------------------------------------------------------------ diffs

def diff(workspace: Path, skill_dir: Path, rev_a: str, rev_b: str | None = None, context: int = 3) -> str:
    """Unified diff of the skill folder between two revisions (`rev_b` None: the working tree).

    Paths in the diff are relative to the skill folder. Revisions may be versions of the skill
    (`1.0.0`), tags or commits. With the working tree, new files not yet known to git are included.
    """
    root = require_repo(workspace)
    rel = repo_relative(root, skill_dir)
    a = resolve_rev(workspace, skill_dir, rev_a)
    revs = [a] if rev_b is None else [a, resolve_rev(workspace, skill_dir, rev_b)]
    relative = [f"--relative={rel}/"] if rel != "." else []
    text = run_git(root, "diff", f"-U{context}", "--no-color", "--no-ext-diff", *relative, *revs, "--", rel).stdout
    if rev_b is None:
        text += _untracked_diff(root, rel)
    return text


def _untracked_diff(root: Path, rel: str) -> str:
    out = run_git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", rel).stdout
    chunks = []
    for f in sorted(x for x in out.split("\0") if x):
        inner = f[len(rel) + 1:] if rel != "." else f
        path = root / f
        try:  # never a FIFO (it would hang), a device or a link out of the repository; bounded
            raw = read_regular(path, MAX_TEXT_BYTES, root=root)
        except (OSError, UnreadableFile):
            continue
        head = f"diff --git a/{inner} b/{inner}\nnew file mode 100644\n"
        if b"\x00" in raw[:8192]:
            chunks.append(head + f"Binary files /dev/null and b/{inner} differ\n")
            continue
        lines = raw.decode("utf-8", errors="replace").splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n\\ No newline at end of file\n"
        body = "".join(difflib.unified_diff([], lines, "/dev/null", f"b/{inner}", n=3))
        chunks.append(head + body)
    return "".join(chunks)


def split_diff(text: str) -> list[FileDiff]:
    """The structured form of a unified diff made by `diff`: one FileDiff per file."""
    out: list[FileDiff] = []
    blocks: list[list[str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("diff --git "):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    for block in blocks:
        old = new = None
        added = removed = 0
        binary = renamed = False
        in_hunk = False
        header = block[0].rstrip("\n")[len("diff --git "):]
        for line in block[1:]:
            if not in_hunk and line.startswith("--- "):
                p = line[4:].rstrip("\n")
                old = None if p == "/dev/null" else p.removeprefix("a/")
            elif not in_hunk and line.startswith("+++ "):
                p = line[4:].rstrip("\n")
                new = None if p == "/dev/null" else p.removeprefix("b/")
            elif line.startswith("@@"):
                in_hunk = True
            elif in_hunk and line.startswith("+"):
                added += 1
            elif in_hunk and line.startswith("-"):
                removed += 1
            elif line.startswith("Binary files"):
                binary = True
            elif line.startswith("rename from "):
                renamed = True
                old = line[len("rename from "):].rstrip("\n")
            elif line.startswith("rename to "):
                new = line[len("rename to "):].rstrip("\n")
            elif line.startswith("new file mode"):
                old = None
            elif line.startswith("deleted file mode"):
                new = None
        if old is None and new is None and not any(x.startswith(("---", "+++")) for x in block):
            # binary or mode-only change: take the names from the header "a/x b/x"
            half = header.split(" b/", 1)
            name = half[-1]
            is_new = any(x.startswith("new file mode") for x in block)
            is_del = any(x.startswith("deleted file mode") for x in block)
            old = None if is_new else name
            new = None if is_del else name
        if binary:
            status = "binary"
        elif renamed:
            status = "renamed"
        elif old is None:
            status = "added"
        elif new is None:
            status = "deleted"
        else:
            status = "modified"
        out.append(FileDiff(path=new or old or header, old_path=old, new_path=new, status=status,
                            added=added, removed=removed, text="".join(block)))
    return out


def working_changes(workspace: Path, skill_dir: Path) -> list[str]:
    """Files of the skill folder that differ from HEAD (modified, staged or new), relative to the folder."""
    root = require_repo(workspace)
    rel = repo_relative(root, skill_dir)
    out = run_git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", rel).stdout
    files = []
    entries = out.split("\0")
    i = 0
    while i < len(entries):
        e = entries[i]
        i += 1
        if len(e) < 4:
            continue
        if e[0] in "RC":  # rename: the next entry is the old path
            i += 1
        path = e[3:]
        files.append(path[len(rel) + 1:] if rel != "." and path.startswith(rel + "/") else path)
    return files

