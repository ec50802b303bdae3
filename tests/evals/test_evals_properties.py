"""Property tests: outcomes never depend on concurrency or completion order; the rule never crashes."""

from __future__ import annotations

import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillstudio.evals import metrics
from skillstudio.evals.decision import skill_read_by
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.suite import build_suite
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS, write_workspace

CATALOG = [("crm-query", "/skills/crm-query"), ("crm", "/skills/crm"), ("net", "/skills/net")]


@given(st.lists(st.text(max_size=40), max_size=4))
@settings(max_examples=300, deadline=None)
def test_the_rule_never_crashes_on_any_command(commands: list[str]) -> None:
    assert skill_read_by(commands, CATALOG) in (None, "crm-query", "crm", "net")


@given(st.sampled_from(CATALOG), st.sampled_from(["cat", "head -n 5", "sed -n 1,9p", "less", "python3 -c"]),
       st.text(alphabet="abcdefghij-_./", min_size=1, max_size=12), st.booleans())
@settings(max_examples=200, deadline=None)
def test_any_file_under_a_skill_folder_selects_that_skill(entry: tuple[str, str], program: str, rest: str,
                                                          via_cd: bool) -> None:
    name, folder = entry
    rel = rest.strip("/").replace("..", "x") or "SKILL.md"
    if via_cd:
        cmd = f"cd {folder} && {program} {shlex.quote(rel)}"
    elif program == "python3 -c":
        target = folder + "/" + rel
        cmd = "python3 -c " + shlex.quote(f"print(open({target!r}).read())")
    else:
        cmd = f"{program} {shlex.quote(folder + '/' + rel)}"
    assert skill_read_by(["ls /tmp", cmd], CATALOG) == name


@given(st.integers(min_value=1, max_value=16), st.integers(min_value=0, max_value=10_000))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_outcomes_are_independent_of_concurrency(tmp_path_factory, concurrency: int, salt: int) -> None:  # type: ignore[no-untyped-def]
    ws = write_workspace(tmp_path_factory.mktemp("ws") / "ws")
    suite = build_suite(ws)
    sequences = {"List open opportunities": ["crm-query", None, "crm-query"]}  # a flaky case too
    # Per-prompt delays vary with the salt, so requests complete in a different order every example.
    script = Script(keywords=list(KEYWORDS), sequences=sequences, delay_s=(salt % 5) * 0.002,
                    jitter_by_prompt=bool(salt % 2))
    with FakeOpenAI(script) as srv:
        run = run_suite_sync(suite, ResponsesRouter(model="m", api_key="k", base_url=srv.base_url),
                             RunSettings(runs=3, concurrency=concurrency))
    report = metrics.summarize(run)
    flaky = next(c for c in report["cases"] if c["prompt"].startswith("List open"))
    assert flaky["triggered"] == 2 and flaky["flaky"]  # which run got None may vary; the count may not
    stable = [(c["prompt"], c["selected"]) for c in report["cases"] if c is not flaky]
    assert stable == EXPECTED_STABLE
    s = report["summary"]
    assert (s["tp"], s["fp"], s["tn"], s["fn"], s["requests"]) == (5, 1, 2, 1, 27)


EXPECTED_STABLE = [
    ("Pull the Q3 pipeline for Acme from Salesforce", ["crm-query"] * 3),
    ("Reconcile the bank statement with the ledger", ["ledger-reconcile"] * 3),
    ("A customer cannot log in, draft a reply", ["support-reply"] * 3),
    ("Reconcile the bank statement with the ledger", ["ledger-reconcile"] * 3),
    ("Why is the cash account off from the bank", [None] * 3),
    ("A customer cannot log in, draft a reply", ["support-reply"] * 3),
    ("Reply to the refund ticket from Globex", ["support-reply"] * 3),
    ("Summarise ticket volume by week", ["support-reply"] * 3),
]


EXPLORE = ["ls -la", "pwd && ls", "find . -maxdepth 2", "cat README.md"]


@given(st.booleans(), st.integers(min_value=1, max_value=8),
       st.lists(st.integers(min_value=0, max_value=5), min_size=7, max_size=7), st.integers(0, 10_000))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_explore_first_verdicts_do_not_depend_on_streaming_or_concurrency(  # type: ignore[no-untyped-def]
        tmp_path_factory, stream: bool, concurrency: int, depths: list[int], salt: int) -> None:
    """Each case explores 0-5 turns first; the verdict is the rule's, whatever the transport and fan-out."""
    from skillstudio.errors import SkillStudioError
    from skillstudio.sandbox.bwrap import check_bwrap
    from support.realparts import need

    try:
        check_bwrap()
    except SkillStudioError as exc:
        need(False, f"bubblewrap: {exc.message}")
    ws = write_workspace(tmp_path_factory.mktemp("ws") / "ws")
    suite = build_suite(ws)
    prompts = sorted({c.prompt for c in suite.cases})  # a prompt listed twice behaves the same both times
    depth_of = dict(zip(prompts, depths, strict=False))
    depths = [depth_of[c.prompt] for c in suite.cases]
    explore = {p: [EXPLORE[i % 4] for i in range(d)] for p, d in depth_of.items() if d}
    script = Script(keywords=list(KEYWORDS), explore=explore, delay_s=(salt % 3) * 0.002,
                    jitter_by_prompt=bool(salt % 2))
    with FakeOpenAI(script) as srv:
        run = run_suite_sync(suite, ResponsesRouter(model="m", api_key="k", base_url=srv.base_url, stream=stream),
                             RunSettings(runs=1, concurrency=concurrency))
    report = metrics.summarize(run)
    for case, depth, row in zip(suite.cases, depths, report["cases"], strict=True):
        keyword = next((s for kw, s in KEYWORDS if kw in case.prompt.lower()), None)
        if depth >= 4:  # still exploring on the last allowed turn
            assert row["selected"] == [None] and row["categories"] == ["undecided"], case.prompt
        else:
            assert row["selected"] == [keyword] and row["turns"] == [depth + 1], case.prompt
