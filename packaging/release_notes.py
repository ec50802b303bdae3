"""Release notes from the changelogs: the project's CHANGELOG.md plus each example skill's latest release.

Why generated: the changelogs are the one record (`skillstudio release` writes the skills' entries);
the notes for a GitHub release, a package and the AppStream <release> are views of them.

    .venv/bin/python packaging/release_notes.py                 # Markdown for the current version
    .venv/bin/python packaging/release_notes.py --version 0.1.0 --format appstream
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?:\s*-\s*(?P<date>\d{4}-\d{2}-\d{2}))?\s*$")
SECTION = re.compile(r"^### (?P<name>.+?)\s*$")


@dataclass
class Entry:
    version: str
    date: str
    sections: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.sections.values())


def parse_changelog(text: str) -> list[Entry]:
    """Keep-a-Changelog entries, newest first; bullets continued on indented lines are joined."""
    entries: list[Entry] = []
    section: list[str] | None = None
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        m = HEADING.match(line)
        if m:
            entries.append(Entry(m["version"], m["date"] or ""))
            section = None
            continue
        if not entries:
            continue
        s = SECTION.match(line)
        if s:
            section = entries[-1].sections.setdefault(s["name"], [])
        elif line.lstrip().startswith(("- ", "* ")):
            if section is None:
                section = entries[-1].sections.setdefault("Changed", [])
            section.append(line.lstrip()[2:].strip())
        elif line.startswith((" ", "\t")) and section:
            section[-1] += " " + line.strip()
    return entries


def find_entry(entries: list[Entry], version: str | None) -> Entry:
    released = [e for e in entries if e.version.lower() != "unreleased"]
    if version is None:
        if not released:
            raise SystemExit("release_notes: the changelog has no released version yet")
        return released[0]
    for e in entries:
        if e.version == version:
            return e
    raise SystemExit(f"release_notes: no entry for {version} in the changelog (add `## [{version}] - DATE`)")


def skill_entries(skills_root: Path) -> list[tuple[str, Entry]]:
    out = []
    for log in sorted(skills_root.glob("*/CHANGELOG.md")):
        released = [e for e in parse_changelog(log.read_text(encoding="utf-8")) if e.version.lower() != "unreleased"]
        if released and not released[0].empty:
            out.append((log.parent.name, released[0]))
    return out


def markdown(app: Entry, skills: list[tuple[str, Entry]]) -> str:
    lines = [f"# Skill Studio {app.version}" + (f" ({app.date})" if app.date else ""), ""]
    for name, items in app.sections.items():
        if items:
            lines += [f"## {name}", "", *(f"- {i}" for i in items), ""]
    if skills:
        lines += ["## Example skills", ""]
        for skill, e in skills:
            first = next((i for items in e.sections.values() for i in items), "")
            lines.append(f"- **{skill}** {e.version}: {first}")
        lines.append("")
    return "\n".join(lines)


def appstream(app: Entry) -> str:
    items = "".join(f"\n          <li>{escape(i.replace('`', ''))}</li>" for its in app.sections.values() for i in its)
    date = f' date="{app.date}"' if app.date else ""
    return (f'    <release version="{escape(app.version)}"{date}>\n      <description>\n'
            f"        <ul>{items}\n        </ul>\n      </description>\n    </release>")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--version", help="the version to describe (default: the newest released one)")
    p.add_argument("--format", choices=["markdown", "appstream"], default="markdown")
    p.add_argument("--changelog", type=Path, default=ROOT / "CHANGELOG.md")
    p.add_argument("--skills", type=Path, default=ROOT / "skills")
    args = p.parse_args(argv)
    if not args.changelog.is_file():
        raise SystemExit(f"release_notes: {args.changelog} not found")
    app = find_entry(parse_changelog(args.changelog.read_text(encoding="utf-8")), args.version)
    text = appstream(app) if args.format == "appstream" else markdown(app, skill_entries(args.skills))
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
