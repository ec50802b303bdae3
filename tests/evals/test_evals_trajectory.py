"""Follow the model until it decides: explore-first models, judged right by every router.

The scripted server behaves as real models do — it looks around first (`ls -la`, `pwd && ls`,
`find . -maxdepth 2`, `rg -l invoice .`, `cat README.md`) and reads the skill on turn 2 or 3, or
answers, or reads the wrong skill, or never decides. Exploring commands really run in the sandbox
(bubblewrap), seeded from the case's fixture, and their output really goes back to the model.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from skillstudio.evals import metrics, reports
from skillstudio.evals.batch import run_batch_sync
from skillstudio.evals.routers import RouteRequest, RouteResult
from skillstudio.evals.routers.chat import ChatRouter
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.suite import Suite, build_suite
from support.fake_openai import FakeOpenAI, Script
from support.realparts import need
from support.trigger_workspace import KEYWORDS, write_workspace


def require_bwrap() -> None:
    """Exploring runs in bubblewrap: skip locally (fail in CI) when it cannot make a sandbox."""
    from skillstudio.errors import SkillStudioError
    from skillstudio.sandbox.bwrap import check_bwrap

    try:
        check_bwrap()
    except SkillStudioError as exc:
        need(False, f"bubblewrap: {exc.message}")


LOOK = ["ls -la", "pwd && ls", "find . -maxdepth 2", "rg -l invoice . ;; cat README.md"]
INVOICES = "Reconcile the invoices in this folder"


def _ws(tmp_path: Path) -> Path:
    ws = write_workspace(tmp_path / "ws")
    f = ws / "ledger-reconcile" / "evals" / "triggers.yaml"
    data = yaml.safe_load(f.read_text())
    data["cases"].append({"prompt": INVOICES, "expect": "trigger",
                          "files": {"invoices/oct.csv": "id,amount\n1,20\n", "README.md": "Invoices for October.\n"}})
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    return ws


@pytest.fixture()
def suite(tmp_path: Path) -> Suite:
    require_bwrap()
    return build_suite(_ws(tmp_path))


def _index(suite: Suite, prefix: str) -> int:
    return next(c.index for c in suite.cases if c.prompt.startswith(prefix))


def _route(router: Any, suite: Suite, index: int) -> RouteResult:
    router.prepare(suite)

    async def go() -> RouteResult:
        try:
            return await router.route(RouteRequest(suite.cases[index], 0))
        finally:
            await router.aclose()
    return asyncio.run(go())


ROUTERS = {
    "responses-stream": lambda url: ResponsesRouter(model="m", api_key="k", base_url=url, stream=True),
    "responses-whole": lambda url: ResponsesRouter(model="m", api_key="k", base_url=url, stream=False),
}
CHAT = {
    "chat-stream": lambda url: ChatRouter(model="m", api_key="k", base_url=url, stream=True),
    "chat-whole": lambda url: ChatRouter(model="m", api_key="k", base_url=url, stream=False),
}


@pytest.mark.parametrize("kind", list(ROUTERS))
@pytest.mark.parametrize("depth", [1, 2])
def test_a_model_that_looks_around_first_then_reads_the_skill_is_a_hit(suite: Suite, kind: str, depth: int) -> None:
    script = Script(keywords=list(KEYWORDS), explore={INVOICES: LOOK[:depth]}, explore_commentary=True)
    with FakeOpenAI(script) as srv:
        res = _route(ROUTERS[kind](srv.base_url), suite, _index(suite, INVOICES))
        seen = [text for prompt, text in srv.state.outputs_seen if prompt == INVOICES]
    assert res.selected == "ledger-reconcile" and res.outcome == "read" and res.turns == depth + 1
    kinds = [s["kind"] for s in res.trajectory]
    assert kinds == ["explore"] * depth + ["read"]
    assert res.trajectory[0]["commands"] == ["ls -la"] and "invoices" in res.trajectory[0]["output"]
    assert seen and "invoices" in seen[0] and "README.md" in seen[0]  # the sandbox's output reached the model
    if depth == 2:
        assert res.trajectory[1]["output"].startswith("/data")  # pwd: the run's data folder, not the host's
    assert res.first_command == "ls -la"


@pytest.mark.parametrize("kind", list(ROUTERS))
def test_look_around_then_answer_is_no_trigger_and_wrong_skill_is_another_skill(suite: Suite, kind: str) -> None:
    cash = "Why is the cash account off"  # no keyword: after looking around, the model answers
    refund = "Reply to the refund ticket"  # after looking around, it reads the wrong skill
    script = Script(keywords=list(KEYWORDS), explore={cash: ["ls -la"], refund: ["pwd && ls", "ls -la"]},
                    sequences={refund: ["crm-query"]})
    with FakeOpenAI(script) as srv:
        answered = _route(ROUTERS[kind](srv.base_url), suite, _index(suite, cash))
        wrong = _route(ROUTERS[kind](srv.base_url), suite, _index(suite, refund))
    assert answered.selected is None and answered.outcome == "answered" and answered.turns == 2
    assert wrong.selected == "crm-query" and wrong.turns == 3
    from skillstudio.evals.trajectory import category, label

    assert category(answered, "ledger-reconcile") == "answered"
    assert category(wrong, "support-reply") == "other_skill" and label("other_skill") == "read another skill first"


@pytest.mark.parametrize("kind", list(ROUTERS))
def test_reading_a_reference_file_directly_reads_that_skill(suite: Suite, kind: str) -> None:
    script = Script(keywords=list(KEYWORDS), command_style="sed -n 1,80p {path}/references/soql.md")
    with FakeOpenAI(script) as srv:
        res = _route(ROUTERS[kind](srv.base_url), suite, 0)
    assert res.selected == "crm-query" and res.turns == 1 and res.outcome == "read"


@pytest.mark.parametrize("kind", list(ROUTERS))
def test_a_model_that_never_decides_is_undecided_and_the_budget_is_a_setting(suite: Suite, kind: str) -> None:
    script = Script(keywords=list(KEYWORDS), explore={INVOICES: ["ls"] * 5})
    with FakeOpenAI(script) as srv:
        res = _route(ROUTERS[kind](srv.base_url), suite, _index(suite, INVOICES))
        assert res.selected is None and res.outcome == "undecided" and res.turns == 4
        assert srv.state.turns[5] == 0 and srv.state.turns[4] == 1  # four model turns, not one more
        assert res.trajectory[-1]["output"] == "(not run: the turn budget is reached)"
        router = ROUTERS[kind](srv.base_url)
        router.max_turns = 6
        later = _route(router, suite, _index(suite, INVOICES))
    assert later.selected == "ledger-reconcile" and later.turns == 6


@pytest.mark.parametrize("kind", list(CHAT))
def test_chat_router_reads_around_in_the_sandbox_then_decides(suite: Suite, kind: str) -> None:
    cash = "Why is the cash account off"
    refund = "Reply to the refund ticket"
    script = Script(keywords=list(KEYWORDS), sequences={refund: ["crm-query"]},
                    chat_explore={INVOICES: ["README.md", "invoices"], cash: ["."], refund: ["README.md"],
                                  "Pull the Q3": ["x"] * 6})
    with FakeOpenAI(script) as srv:
        hit = _route(CHAT[kind](srv.base_url), suite, _index(suite, INVOICES))
        answered = _route(CHAT[kind](srv.base_url), suite, _index(suite, cash))
        wrong = _route(CHAT[kind](srv.base_url), suite, _index(suite, refund))
        undecided = _route(CHAT[kind](srv.base_url), suite, _index(suite, "Pull the Q3"))
        seen = [text for prompt, text in srv.state.outputs_seen if prompt == INVOICES]
    assert hit.selected == "ledger-reconcile" and hit.turns == 3
    assert seen[0] == "Invoices for October.\n" and "oct.csv" in seen[1]  # a file read, a folder listed
    assert hit.first_command == "read_file: cat README.md"
    assert answered.selected is None and answered.outcome == "answered" and answered.turns == 2
    assert wrong.selected == "crm-query" and wrong.turns == 2
    assert undecided.selected is None and undecided.outcome == "undecided" and undecided.turns == 4


@pytest.mark.parametrize("backend", ["subprocess", "docker"])
def test_exploring_commands_see_the_fixture_and_nothing_of_the_host(tmp_path: Path, backend: str,
                                                                   request: pytest.FixtureRequest) -> None:
    if backend == "docker":
        request.getfixturevalue("docker_client")  # skipped locally (failed in CI) without an engine
    else:
        require_bwrap()
    ws = _ws(tmp_path)
    fixture = ws / "ledger-reconcile" / "fixtures" / "bank"
    fixture.mkdir(parents=True)
    (fixture / "statement.csv").write_text("date,amount\n2026-10-01,20\n")
    f = ws / "ledger-reconcile" / "evals" / "triggers.yaml"
    data = yaml.safe_load(f.read_text())
    data["cases"].append({"prompt": "Match the bank statement", "expect": "trigger", "fixture": "fixtures/bank",
                          "files": {"notes.txt": "from the case"}})
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    (ws / "secret-on-host.txt").write_text("do not show")
    suite = build_suite(ws)
    probe = (f"ls -a ; cat statement.csv notes.txt ; ls {ws} || echo NO-WORKSPACE ; ls /work || echo NO-WORK ; "
             f"cat {ws}/secret-on-host.txt || echo NO-SECRET ; ls /skills ; "
             "d=/skills ; touch $d/crm-query/x 2>&1 || echo SKILLS-READ-ONLY ; "  # (a plain path would decide)
             "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 80), 2)\" || echo NO-NETWORK")
    script = Script(keywords=[("bank statement", "ledger-reconcile")], explore={"Match the bank": [probe]})
    with FakeOpenAI(script) as srv:
        res = _route(ResponsesRouter(model="m", api_key="k", base_url=srv.base_url, stream=False, sandbox=backend),
                     suite, _index(suite, "Match the bank"))
    out = res.trajectory[0]["output"]
    assert res.selected == "ledger-reconcile" and res.turns == 2
    assert "2026-10-01,20" in out and "from the case" in out  # the fixture folder and the inline files
    for marker in ("NO-WORKSPACE", "NO-WORK", "NO-SECRET", "SKILLS-READ-ONLY", "NO-NETWORK"):
        assert marker in out, out
    assert "do not show" not in out
    assert "crm-query" in out and "ledger-reconcile" in out  # the catalog's skills, read-only at /skills
    assert not (ws / "notes.txt").exists() and not (ws / "statement.csv").exists()  # the workspace untouched
    # the fixture is part of the case and of the cache key (another fixture: another entry)
    case = suite.cases[_index(suite, "Match the bank")]
    assert len(case.fixture_digest) == 64 and case.files == (("notes.txt", "from the case"),)


def test_bad_fixtures_stop_the_suite_with_the_file_named(tmp_path: Path) -> None:
    from skillstudio.errors import SkillStudioError

    ws = write_workspace(tmp_path / "ws")
    f = ws / "crm-query" / "evals" / "triggers.yaml"
    data = yaml.safe_load(f.read_text())
    data["cases"][0]["files"] = {"../outside.txt": "x"}
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(SkillStudioError,
                       match=r"crm-query: .*case 1: a 'files' path '../outside.txt' must not contain '..'"):
        build_suite(ws)
    data["cases"][0].pop("files")
    data["cases"][0]["fixture"] = "missing"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(SkillStudioError, match="crm-query: .*case 1: fixture 'missing' is not a folder of the skill"):
        build_suite(ws)


def test_batch_continues_explore_first_runs_interactively_to_the_same_verdicts(suite: Suite) -> None:
    script = Script(keywords=list(KEYWORDS), explore={INVOICES: ["ls -la", "cat README.md"],
                                                      "Why is the cash": ["pwd"]})
    with FakeOpenAI(script) as srv:
        batch = run_batch_sync(suite, model="m", api_key="k", base_url=srv.base_url, settings=RunSettings(runs=1),
                               poll_s=0.01)
        follow_ups = srv.calls("responses")
        interactive = run_suite_sync(suite, ResponsesRouter(model="m", api_key="k", base_url=srv.base_url),
                                     RunSettings(runs=1))
    b, i = metrics.summarize(batch), metrics.summarize(interactive)
    assert [(c["prompt"], c["selected"], c["categories"]) for c in b["cases"]] == \
           [(c["prompt"], c["selected"], c["categories"]) for c in i["cases"]]
    inv = next(c for c in b["cases"] if c["prompt"] == INVOICES)
    assert inv["selected"] == ["ledger-reconcile"] and inv["categories"] == ["explored"] and inv["turns"] == [3]
    assert follow_ups == 2 + 1  # the invoices run's turns 2 and 3, the cash run's turn 2
    assert b["summary"]["requests"] == len(suite.cases) + follow_ups


def test_reports_carry_the_category_and_the_summary_counts_them(suite: Suite, tmp_path: Path) -> None:
    script = Script(keywords=list(KEYWORDS), explore={INVOICES: ["ls -la", "cat README.md"],
                                                      "List open opportunities": ["ls"] * 4})
    with FakeOpenAI(script) as srv:
        run = run_suite_sync(suite, ResponsesRouter(model="m", api_key="k", base_url=srv.base_url),
                             RunSettings(runs=2))
    report = metrics.summarize(run)
    cats = report["summary"]["categories"]
    assert cats["explored"] == 2 and cats["undecided"] == 2 and cats["answered"] == 2
    assert sum(cats.values()) == 2 * len(suite.cases) and report["summary"]["undecided"] == 2
    assert report["verdict_rule"] == "follow until decided" and report["max_turns"] == 4
    inv = next(c for c in report["cases"] if c["prompt"] == INVOICES)
    assert reports.run_labels(inv) == ["after exploring (2 turns)"] * 2 and inv["status"] == "pass"
    opp = next(c for c in report["cases"] if c["prompt"].startswith("List open"))
    assert opp["status"] == "fail" and opp["undecided"] == 2 and opp["selected"] == [None, None]
    assert "after exploring (2 turns)" in reports.to_csv(report)
    assert "UNDECIDED in 2 run(s)" in reports.to_junit(report)
    html = reports.to_html(report)
    assert "How runs decided" in html and "ls -la → cat README.md →" in html
    assert '"categories"' in reports.to_json(report)
    # latency and tokens include every turn: the 3-turn run used three turns of server usage
    log = {(o.case, o.run): o.result for o in run.outcomes.values()}
    r = log[(_index(suite, INVOICES), 0)]
    assert r is not None and r.turns == 3 and r.usage is not None and r.usage["input_tokens"] >= 2 * 120
