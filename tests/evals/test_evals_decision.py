"""The one decision rule: which skill folder does the first shell call read?"""

from __future__ import annotations

import pytest

from skillstudio.evals.decision import skill_read_by

CATALOG = [("crm-query", "/skills/crm-query"), ("crm", "/skills/crm"), ("support-reply", "/skills/support-reply")]


@pytest.mark.parametrize(("commands", "expected"), [
    (["cat /skills/crm-query/SKILL.md"], "crm-query"),
    (["sed -n '1,120p' /skills/support-reply/SKILL.md"], "support-reply"),
    (["head -n 40 /skills/crm/SKILL.md"], "crm"),  # not mistaken for crm-query (or vice versa)
    (["less /skills/crm-query/references/soql.md"], "crm-query"),
    (["python3 -c \"print(open('/skills/crm-query/SKILL.md').read())\""], "crm-query"),
    (["cd /skills/support-reply && cat SKILL.md"], "support-reply"),
    (["cd /tmp && cat notes.txt"], None),
    (["ls /tmp", "cat /skills/support-reply/SKILL.md"], "support-reply"),  # later command of the same call
    (["cat /skills/crm-query/SKILL.md /skills/support-reply/SKILL.md"], "crm-query"),  # first wins
    (["cat /skills/crm-queryx/SKILL.md"], None),  # a sibling folder with a longer name is not the skill
    (["cat /skills/../etc/passwd"], None),
    (["grep -r pipeline --include=*.md /skills/crm-query/"], "crm-query"),
    (["echo 'unbalanced /skills/crm/SKILL.md"], "crm"),
    (["echo hello"], None),
    ([], None),
])
def test_skill_read_by(commands: list[str], expected: str | None) -> None:
    assert skill_read_by(commands, CATALOG) == expected


def test_real_folder_paths_work_too() -> None:
    catalog = [("net", "/home/u/ws/net-config")]
    assert skill_read_by(["cat /home/u/ws/net-config/SKILL.md"], catalog) == "net"
    assert skill_read_by(["cat /home/u/ws/net-config-old/SKILL.md"], catalog) is None
