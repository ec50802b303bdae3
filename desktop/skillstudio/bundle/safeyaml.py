"""The one way Skill Studio reads YAML from a workspace: bounded before anything is built.

Why: YAML aliases let a few hundred bytes stand for billions of nodes (`a: &a [x, x, ...]`,
`b: &b [*a, *a, ...]`, ...). PyYAML builds that as shared Python objects, and the first `str()`,
`json.dumps` or tree walk expands it — 40 s and gigabytes in `validate` for a 400-byte SKILL.md.
So before any loader runs, `check` walks libyaml's event stream (which never expands an alias),
counts the nodes the document *would* have once every alias is expanded, and refuses it beyond a
small budget; it also bounds the document's size and nesting depth (deep nesting makes PyYAML's
recursive composer, and our own tree walks, overflow the stack). Every limit is a `YamlLimitError`,
a `yaml.YAMLError` with a readable `problem`, so callers that already report invalid YAML report
this too, as one line (`problem` gives that line and where; `explain` a whole sentence).

One policy for every file (front matter, trigger cases, agents/openai.yaml, lock, trust and vault
files): a few anchors are ordinary YAML that other tools accept, so aliases are allowed within the
budget, never expanded beyond it, and never in a cycle.
"""

from __future__ import annotations

from typing import Any

import yaml

from skillstudio.bundle.fileio import UnreadableFile

FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_BYTES = 4 * 1024 * 1024  # larger YAML files in a skill or workspace are not configuration
MAX_DEPTH = 64  # nesting of collections; real front matter and trigger files use 3-5
MAX_NODES = 200_000  # nodes after alias expansion; a 4 MB file of plain YAML has far fewer
MAX_ALIAS_NODES = 10_000  # of those, nodes that aliases stand for (anchors are rare in skills)


class YamlLimitError(yaml.YAMLError):
    """A document refused before loading; `problem` is one line that says which limit and why."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = _Mark(line) if line is not None else None

    def __str__(self) -> str:
        return self.problem


class _Mark:
    """Enough of yaml.Mark for callers that read `problem_mark.line` (0-based)."""

    def __init__(self, line: int) -> None:
        self.line = line


def check(text: str | bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
          max_nodes: int = MAX_NODES, max_alias_nodes: int = MAX_ALIAS_NODES) -> None:
    """Raise YamlLimitError when `text` is too large, too deep or expands too far through aliases.

    Syntax errors are raised as libyaml reports them (a yaml.YAMLError). Cost: one event pass,
    memory bounded by the text and the anchor table, never by the expansion.
    """
    parse_events(text, max_bytes=max_bytes, max_depth=max_depth, max_nodes=max_nodes,
                 max_alias_nodes=max_alias_nodes, keep=False)


def parse_events(text: str | bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
                 max_nodes: int = MAX_NODES, max_alias_nodes: int = MAX_ALIAS_NODES,
                 keep: bool = True) -> list[yaml.Event]:
    """libyaml's events for `text`, checked against the limits as they come (see `check`).

    For readers that work on events themselves (the front-matter fast path): one pass, not two.
    """
    out: list[yaml.Event] = []
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > max_bytes:
        raise YamlLimitError(f"the YAML is {size / 2**20:.1f} MB (limit {max_bytes / 2**20:g} MB)")
    anchors: dict[str, int] = {}  # anchor -> expanded node count of the node it names
    starts: list[tuple[str | None, int]] = []  # open collections: (anchor, node count at their start)
    nodes = alias_nodes = 0
    for ev in yaml.parse(text, Loader=FAST_LOADER):
        if keep:
            out.append(ev)
        if isinstance(ev, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            nodes += 1
            if isinstance(ev, yaml.ScalarEvent):
                if ev.anchor is not None:
                    anchors[ev.anchor] = 1
            else:
                starts.append((ev.anchor, nodes - 1))
                if len(starts) > max_depth:
                    raise YamlLimitError(f"the YAML nests deeper than {max_depth} levels", _line(ev))
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, start = starts.pop()
            if anchor is not None:
                anchors[anchor] = nodes - start
        elif isinstance(ev, yaml.AliasEvent):
            if any(a == ev.anchor for a, _ in starts):
                raise YamlLimitError(f"the YAML's alias *{ev.anchor} refers to a value that contains it "
                                     "(a cycle); write the values out instead", _line(ev))
            n = anchors.get(ev.anchor or "", 1)
            nodes += n
            alias_nodes += n
            if alias_nodes > max_alias_nodes:
                raise YamlLimitError(f"the YAML's aliases (*{ev.anchor}) expand to over {max_alias_nodes:,} "
                                     "nodes (an alias bomb?); write the values out instead", _line(ev))
        if nodes > max_nodes:
            raise YamlLimitError(f"the YAML has over {max_nodes:,} values", _line(ev))
    return out


def _line(ev: yaml.Event) -> int | None:
    mark = getattr(ev, "start_mark", None)
    return mark.line if mark is not None else None


def load(text: str | bytes, loader: type[Any] | None = None, **limits: int) -> Any:
    """`check`, then load with `loader` (default: libyaml's safe loader when built, else SafeLoader).

    `loader` must be a safe loader (SafeLoader, BaseLoader or a subclass of one).
    """
    check(text, **limits)
    return yaml.load(text, Loader=loader or FAST_LOADER)  # noqa: S506 - only safe loaders are passed


def problem(exc: yaml.YAMLError) -> tuple[str, int | None]:
    """(one line saying what is wrong, 1-based line in the YAML text or None) for any YAML error here."""
    what = getattr(exc, "problem", None) or (str(exc).strip().splitlines() or ["unreadable"])[0]
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return " ".join(str(what).split()), (mark.line + 1 if mark is not None else None)


def explain(name: str, exc: BaseException) -> str:
    """One line for a YAML file that could not be read or parsed (what, and why)."""
    if isinstance(exc, yaml.YAMLError):
        what, line = problem(exc)
        return f"{name} is not valid YAML: {what}" + (f" (line {line})" if line else "")
    if isinstance(exc, UnreadableFile):
        return f"{name} is not read: it is {exc.what}"
    if isinstance(exc, OSError):
        return f"{name} cannot be read: {exc.strerror or exc}"
    return f"{name} cannot be read: {exc}"


def safe_load(text: str | bytes) -> Any:
    """Drop-in for `yaml.safe_load` with the limits above."""
    return load(text)
