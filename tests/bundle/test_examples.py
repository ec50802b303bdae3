"""The example workspace `skills/`: valid, competing skills with real trigger cases and working scripts."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from skills_ref.validator import validate as spec_validate

from skillstudio.bundle.model import load_skill
from skillstudio.bundle.validate import validate_skill
from skillstudio.bundle.workspace import load_workspace, workspace_skill_dirs
from skillstudio.resources import examples_dir, resource_path

EXPECTED = {"crm-query", "support-reply", "network-config", "compliance-evidence", "ledger-reconcile"}
SKILL_DIRS = workspace_skill_dirs(examples_dir())
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
LINK = re.compile(r"\]\(([^)#\s]+)\)")


def test_the_example_workspace_has_the_five_competing_skills() -> None:
    assert {d.name for d in SKILL_DIRS} >= EXPECTED


@pytest.mark.parametrize("skill_dir", SKILL_DIRS, ids=lambda p: p.name)
def test_skill_passes_the_reference_validator_and_ours(skill_dir: Path) -> None:
    assert spec_validate(skill_dir) == []
    skill = load_skill(skill_dir)
    assert [str(p) for p in validate_skill(skill) if p.severity == "error"] == []


@pytest.mark.parametrize("skill_dir", SKILL_DIRS, ids=lambda p: p.name)
def test_front_matter_is_complete(skill_dir: Path) -> None:
    skill = load_skill(skill_dir)
    fm = skill.frontmatter
    assert fm is not None and fm.name == skill_dir.name
    assert fm.license
    assert SEMVER.match(fm.metadata.get("version", "")), fm.metadata
    assert fm.metadata.get("author")
    desc = skill.description
    assert "<" not in desc and ">" not in desc
    assert len(desc) <= 250, f"{len(desc)} characters: some UIs cut descriptions at 250"
    m = re.search(r"do not use for (.+)", desc, re.IGNORECASE)
    assert m, "the description must say when NOT to use the skill"
    others = [d.name for d in SKILL_DIRS if d.name != skill_dir.name]
    assert any(o in m.group(1) for o in others), "the do-not-use clause names a competing skill"


@pytest.mark.parametrize("skill_dir", SKILL_DIRS, ids=lambda p: p.name)
def test_trigger_cases_have_eight_each_and_near_misses_say_why(skill_dir: Path) -> None:
    skill = load_skill(skill_dir)
    assert skill.cases_error is None
    pos = [c for c in skill.cases if c.expect == "trigger"]
    neg = [c for c in skill.cases if c.expect == "no_trigger"]
    assert len(pos) >= 8 and len(neg) >= 8
    assert all(c.why for c in neg)
    others = [d.name for d in SKILL_DIRS if d.name != skill_dir.name]
    assert sum(any(o in (c.why or "") for o in others) for c in neg) >= 4, "near misses point at other skills"
    prompts = [c.prompt.lower() for c in skill.cases]
    assert len(set(prompts)) == len(prompts)
    schema = json.loads(resource_path("schemas", "triggers.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load((skill_dir / "evals" / "triggers.yaml").read_text(encoding="utf-8")), schema)


@pytest.mark.parametrize("skill_dir", SKILL_DIRS, ids=lambda p: p.name)
def test_body_links_point_at_files_in_the_bundle_and_changelog_exists(skill_dir: Path) -> None:
    skill = load_skill(skill_dir)
    links = [t for t in LINK.findall(skill.body) if not t.startswith(("http://", "https://", "mailto:"))]
    assert links, "the instructions link to the bundle's files"
    for target in links:
        path = (skill_dir / target).resolve()
        assert path.is_relative_to(skill_dir.resolve()) and path.is_file(), target
    log = (skill_dir / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{skill.version}]" in log
    assert len(skill.body.splitlines()) < 500


def test_no_warnings_no_near_duplicate_descriptions_and_no_secrets() -> None:
    ws = load_workspace(examples_dir())
    for skill in ws.skills:  # the examples are exemplary: no warning for any target, catalog-wide checks on
        assert [str(p) for p in validate_skill(skill, workspace=ws) if p.severity != "info"] == [], skill.name
    secretish = re.compile(r"(sk-[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY"
                           r"|password\s*[:=]\s*\S+)")
    for f in examples_dir().rglob("*"):
        if f.is_file():
            assert not secretish.search(f.read_text(encoding="utf-8", errors="replace")), f


# ------------------------------------------------------------------------------------ the scripts run

def _run(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", str(script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


def test_network_config_script_renders_the_example_intent(tmp_path: Path) -> None:
    skill = tmp_path / "network-config"
    shutil.copytree(examples_dir() / "network-config", skill)
    out = tmp_path / "sw.cfg"
    proc = _run(skill / "scripts" / "render_config.py", "assets/example-intent.json", "-o", str(out), cwd=skill)
    assert proc.returncode == 0, proc.stderr
    cfg = out.read_text(encoding="utf-8")
    for line in ("hostname sw-floor3-01", "vlan 30\n name VOICE", "switchport access vlan 10",
                 "switchport voice vlan 30", "switchport trunk allowed vlan 10,20,30,99",
                 "switchport trunk native vlan 99", "ip address 10.0.99.11 255.255.255.0",
                 "ip default-gateway 10.0.99.1", " permit tcp 10.0.99.0 0.0.0.255 any eq 22",
                 " permit tcp host 10.0.0.5 any eq 22", " deny ip any any", "access-class MGMT-SSH in"):
        assert line in cfg, line
    assert "{{" not in cfg and "{%" not in cfg and cfg.rstrip().endswith("end")
    assert cfg.count("interface GigabitEthernet") == 5
    # the shut port is shut and only it
    gi47 = cfg.split("interface GigabitEthernet1/0/47", 1)[1].split("!", 1)[0]
    assert " shutdown" in gi47 and "no shutdown" not in gi47
    assert "active port without a description" not in proc.stderr


def test_network_config_script_refuses_an_invalid_intent(tmp_path: Path) -> None:
    skill = examples_dir() / "network-config"
    intent = json.loads((skill / "assets" / "example-intent.json").read_text(encoding="utf-8"))
    intent["vlans"].append({"id": 5000, "name": "too-big"})
    intent["interfaces"][0]["vlan"] = 42
    intent["mgmt"]["gateway"] = "192.168.1.1"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(intent), encoding="utf-8")
    out = tmp_path / "never.cfg"
    proc = _run(skill / "scripts" / "render_config.py", str(bad), "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 1
    assert "id 5000 must be a whole number from 1 to 4094" in proc.stderr
    assert "VLAN 42 is not defined" in proc.stderr
    assert "gateway 192.168.1.1 is not in 10.0.99.0/24" in proc.stderr
    assert not out.exists()
    assert _run(skill / "scripts" / "render_config.py", str(tmp_path / "missing.json"), cwd=tmp_path).returncode == 2


def test_ledger_reconcile_script_finds_every_break_in_the_sample(tmp_path: Path) -> None:
    skill = examples_dir() / "ledger-reconcile"
    data = tmp_path / "data"
    shutil.copytree(skill / "assets" / "sample-2026-10", data)
    proc = _run(skill / "scripts" / "reconcile.py", str(data), "--json", "--write", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert len(result["matched"]) == 7
    assert result["bank_total"] == "-18386.13" and result["ledger_total"] == "-16825.24"
    assert result["difference"] == "-1560.89" == result["explained"]
    by_type = {(b["type"], b["reference"]): b for b in result["breaks"]}
    assert set(by_type) == {("amount_mismatch", "INV-1003"), ("bank_only", "OUTGOING WIRE FEE"),
                            ("bank_only", "CREDIT INTEREST"), ("ledger_only", "CHQ-4471"),
                            ("ledger_only", "INV-1006")}
    assert by_type[("amount_mismatch", "INV-1003")]["difference"] == "270.00"
    assert "transposed" in by_type[("amount_mismatch", "INV-1003")]["action"]
    stripe = [m for m in result["matched"] if m["amount"] == "3975.20"]
    assert stripe and stripe[0]["how"].startswith("amount+date")
    with (data / "breaks.csv").open(newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 5
    assert "| Difference | -1,560.89 |" in (data / "reconciliation.md").read_text(encoding="utf-8")
    # --strict turns remaining breaks into exit 1; a tighter date window loses the Stripe match
    assert _run(skill / "scripts" / "reconcile.py", str(data), "--strict", cwd=tmp_path).returncode == 1
    tight = json.loads(_run(skill / "scripts" / "reconcile.py", str(data), "--json", "--tolerance-days", "1",
                            cwd=tmp_path).stdout)
    assert len(tight["matched"]) == 6 and len(tight["breaks"]) == 7


def test_ledger_reconcile_reports_bad_input_with_row_numbers(tmp_path: Path) -> None:
    skill = examples_dir() / "ledger-reconcile"
    data = tmp_path / "data"
    shutil.copytree(skill / "assets" / "sample-2026-10", data)
    text = (data / "bank.csv").read_text(encoding="utf-8").replace("8400.00", "84OO.00")
    (data / "bank.csv").write_text(text, encoding="utf-8")
    proc = _run(skill / "scripts" / "reconcile.py", str(data), cwd=tmp_path)
    assert proc.returncode == 2
    assert "bank.csv row 3: '84OO.00' is not an amount" in proc.stderr
    (data / "ledger.csv").write_text("date,memo\n2026-10-01,x\n", encoding="utf-8")
    (data / "bank.csv").write_text((skill / "assets" / "sample-2026-10" / "bank.csv").read_text(encoding="utf-8"),
                                   encoding="utf-8")
    proc = _run(skill / "scripts" / "reconcile.py", str(data), cwd=tmp_path)
    assert proc.returncode == 2 and "missing column(s) credit, debit" in proc.stderr


def test_new_skill_templates_are_listed_and_have_placeholders() -> None:
    index = yaml.safe_load(resource_path("templates", "index.yaml").read_text(encoding="utf-8"))
    ids = [t["id"] for t in index["templates"]]
    assert {"basic", "with-script", "with-template"} <= set(ids)
    for entry in index["templates"]:
        assert entry["title"] and entry["summary"]
        text = resource_path("templates", entry["id"], "SKILL.md").read_text(encoding="utf-8")
        assert "{{name}}" in text and "{{description}}" in text


def test_compliance_evidence_leaver_check_finds_the_exceptions(tmp_path: Path) -> None:
    skill = examples_dir() / "compliance-evidence"
    data = tmp_path / "export"
    shutil.copytree(skill / "assets" / "sample-2026-q3", data)
    proc = _run(skill / "scripts" / "leaver_check.py", str(data), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["population"] == 14 and result["within_sla"] == 12
    found = {(x["user"], x["status"]) for x in result["exceptions"]}
    assert found == {("u-4821", "late_deactivation"), ("u-4821", "activity_after_exit"),
                     ("u-4856", "not_deactivated")}
    late = next(x for x in result["exceptions"] if x["status"] == "late_deactivation")
    assert late["hours"] == 52.0 and late["event"] == "evt-9010" and late["events_line"] == 24
    # a stricter SLA turns more deactivations into exceptions; the Markdown output cites sources
    strict = json.loads(_run(skill / "scripts" / "leaver_check.py", str(data), "--json", "--sla-hours", "4",
                             cwd=tmp_path).stdout)
    assert strict["within_sla"] == 9  # 4.0 h is still within a 4 h SLA
    md = _run(skill / "scripts" / "leaver_check.py", str(data), cwd=tmp_path).stdout
    assert "| E3 | u-4856 | not_deactivated |" in md and "leavers.csv line 15" in md
    (data / "idp-events.jsonl").write_text("{broken\n", encoding="utf-8")
    bad = _run(skill / "scripts" / "leaver_check.py", str(data), cwd=tmp_path)
    assert bad.returncode == 2 and "idp-events.jsonl line 1: not valid JSON" in bad.stderr
