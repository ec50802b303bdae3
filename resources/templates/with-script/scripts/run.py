#!/usr/bin/env python3
"""{{name}}: the deterministic part of the skill. Standard library only.

Replace the body of `process` with the real work; keep the exit codes:
0 success, 1 the input was checked and is wrong, 2 the script could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def process(text: str) -> dict:
    """Example work: count lines and words of the input."""
    lines = text.splitlines()
    return {"lines": len(lines), "words": sum(len(line.split()) for line in lines)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="{{name}} helper script")
    ap.add_argument("input", type=Path, help="input file")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args(argv)
    try:
        text = args.input.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.input}: {exc}", file=sys.stderr)
        return 2
    result = process(text)
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
