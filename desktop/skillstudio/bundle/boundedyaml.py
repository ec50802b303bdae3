"""YAML for small files that come with a workspace (trigger cases, agents/openai.yaml), read with bounds.

A workspace is data someone else may have written: a few hundred bytes of YAML aliases expand to
gigabytes, and deep nesting exhausts the stack. These files never need aliases, so any alias is
refused outright, the event count is capped before anything is built, and nesting depth is capped.
Errors are `BoundedYamlError` with one line that says where (1-based line) and what.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built: ~20x faster
MAX_EVENTS = 200_000  # a 2,000-case triggers.yaml is ~20,000 events
MAX_DEPTH = 64


class BoundedYamlError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def load(text: str, *, max_events: int = MAX_EVENTS, max_depth: int = MAX_DEPTH) -> Any:
    """Parse `text` as YAML (safe types only) or raise BoundedYamlError; never expands an alias."""
    depth = 0
    try:
        for n, ev in enumerate(yaml.parse(text, Loader=_LOADER)):
            if isinstance(ev, yaml.AliasEvent):
                line = ev.start_mark.line + 1 if ev.start_mark else None
                raise BoundedYamlError(f"YAML aliases (*{ev.anchor}) are not allowed here: write the value out",
                                       line)
            if isinstance(ev, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    line = ev.start_mark.line + 1 if ev.start_mark else None
                    raise BoundedYamlError(f"YAML nested deeper than {max_depth} levels", line)
            elif isinstance(ev, yaml.CollectionEndEvent):
                depth -= 1
            if n >= max_events:
                raise BoundedYamlError(f"YAML too large (over {max_events:,} items)")
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader; no aliases, bounded above
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
        raise BoundedYamlError(f"invalid YAML: {problem}", mark.line + 1 if mark is not None else None) from None
    except RecursionError:
        raise BoundedYamlError(f"YAML nested deeper than {max_depth} levels") from None
