"""From a finished (or cancelled) SuiteRun to the numbers people read: the report dictionary.

The dictionary *is* the `test --json` document of the CONTRACT (with extra fields): the store saves
it, the reports render it and `compare` reads two of them, so every view shows the same numbers.

Rules: a case passes when `expect: trigger` and rate >= threshold, or `expect: no_trigger` and
rate < threshold, where rate = runs that read *this* skill / runs. A case with a run that failed
after retries is an error (`passed: null`); a case cut short by cancelling is `not_run`. Neither
counts in tp/fp/tn/fn. Confusion matrix: rows are what was expected (the skill for a trigger case,
the case's `route_to` when it names where a near-miss belongs, else "none" for a no_trigger case),
columns what each run selected ("none" = no skill read).

Every run carries its category (`trajectory.category`: direct, after exploring, read another skill
first, answered, undecided — "first-call rule" for runs stored before trajectories) and the summary
counts them; undecided runs count as not triggered and are flagged. A case with `route_to` is also
scored at catalog level: a run that selected a skill other than `route_to` is *misrouted*.

A `trigger` case of an explicit-only skill (its author says only a user may invoke it) is never sent
to a model: it is reported with status `explicit_only` (`passed: null`, no runs, the author's
declarations in `explicit_only`), counted in `summary.explicit_only` and in no tp/fp/tn/fn, never a
miss or a failure. Its `no_trigger` cases run and are scored as usual (the skill is not offered, so
they pass unless something else is wrong).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from skillstudio import resources, userdirs
from skillstudio.bundle.invocation import EXPLICIT_ONLY
from skillstudio.evals.routers.offline import LABEL as OFFLINE_LABEL
from skillstudio.evals.runner import SuiteRun
from skillstudio.evals.stats import mcnemar_exact, percentile, ratio, wilson
from skillstudio.evals.trajectory import CATEGORIES, RULE, UNDECIDED, category

NONE = "none"


def redact_url(url: str) -> str:
    """Drop user:password@ and query strings (some proxies carry keys there)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _rnd(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def load_prices() -> dict[str, dict[str, float]]:
    """USD per 1M tokens by model: the user's prices.json (config folder) over the shipped table."""
    prices: dict[str, dict[str, float]] = {}
    for path in (resources.resource_path("prices.json"), userdirs.config_dir() / "prices.json"):
        try:
            prices.update(json.loads(path.read_text(encoding="utf-8")).get("models", {}))
        except (OSError, ValueError, AttributeError):
            continue
    return prices


def _counts(cases: list[dict[str, Any]]) -> dict[str, Any]:
    tp = sum(1 for c in cases if c["status"] == "pass" and c["expect"] == "trigger")
    fn = sum(1 for c in cases if c["status"] == "fail" and c["expect"] == "trigger")
    tn = sum(1 for c in cases if c["status"] == "pass" and c["expect"] == "no_trigger")
    fp = sum(1 for c in cases if c["status"] == "fail" and c["expect"] == "no_trigger")
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = (2 * precision * recall / (precision + recall)) if precision and recall else (
        0.0 if precision is not None and recall is not None else None)
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "precision": _rnd(precision), "recall": _rnd(recall),
            "f1": _rnd(f1), "accuracy": _rnd(ratio(tp + tn, tp + tn + fp + fn))}


def _explicit_only_case(case: Any, reasons: list[str]) -> dict[str, Any]:
    """A trigger case of an explicit-only skill: reported, not run (no request, no verdict)."""
    return {
        "skill": case.skill, "prompt": case.prompt, "expect": case.expect, "why": case.why,
        "runs": 0, "triggered": 0, "trigger_rate": None, "passed": None, "status": EXPLICIT_ONLY,
        "selected": [], "wilson_low": None, "wilson_high": None, "flaky": False, "other_skills": [],
        "run_status": [], "errors": [], "cached": 0, "first_commands": [], "categories": [], "undecided": 0,
        "turns": [], "trajectories": [],
        "explicit_only": "; ".join(reasons) or "explicit-only",
        **({"route_to": case.route_to, "misrouted": None} if case.route_to else {}),
    }


def summarize(run: SuiteRun) -> dict[str, Any]:
    s = run.settings
    names = [e.name for e in run.suite.catalog]
    held = {c.index for c in run.suite.explicit_only}
    explicit_reasons = run.suite.explicit_only_skills
    cases_out: list[dict[str, Any]] = []
    latencies: list[float] = []
    ttfts: list[float] = []
    tokens_in = tokens_out = 0
    usage_known = usage_estimated = 0  # reported by the server / estimated locally (streams closed early)
    matrix: dict[str, dict[str, int]] = {}
    cat_counts = dict.fromkeys(CATEGORIES, 0)
    decision_s: list[float] = []
    turns_all: list[int] = []
    misrouted_runs = misrouted_cases = routed_cases = 0
    for case in run.suite.all_cases():
        if case.index in held:
            cases_out.append(_explicit_only_case(case, explicit_reasons.get(case.skill, [])))
            continue
        outs = [run.outcomes.get((case.index, r)) for r in range(s.runs)]
        done = [o for o in outs if o is not None]
        errors = [o.error for o in done if o.error]
        ok = [o for o in done if o.error is None and o.result is not None]
        selected = [o.selected if (o is not None and o.error is None) else None for o in outs]
        triggered = sum(1 for o in ok if o.selected == case.skill)
        n = len(ok)
        rate = triggered / n if n else None
        if errors:
            status, passed = "error", None
        elif len(done) < s.runs or rate is None:
            status, passed = "not_run", None
        else:
            passed = rate >= s.threshold if case.expect == "trigger" else rate < s.threshold
            status = "pass" if passed else "fail"
        lo, hi = wilson(triggered, n)
        row = case.skill if case.expect == "trigger" else (case.route_to or NONE)
        cats = [category(o.result, case.skill) if (o is not None and o.error is None) else None for o in outs]
        for c in cats:
            if c is not None:
                cat_counts[c] += 1
        misrouted = None
        if case.route_to:
            target = None if case.route_to == NONE else case.route_to
            misrouted = sum(1 for o in ok if o.selected is not None and o.selected != target)
            misrouted_runs += misrouted
            routed_cases += 1
            if n and misrouted / n >= s.threshold:
                misrouted_cases += 1
        for o in ok:
            col = o.selected or NONE
            matrix.setdefault(row, {}).setdefault(col, 0)
            matrix[row][col] += 1
            r = o.result
            assert r is not None
            if r.latency_s is not None and not o.cached:
                latencies.append(r.latency_s)
            if r.ttft_s is not None and not o.cached:
                ttfts.append(r.ttft_s)
            if r.latency_s is not None and not o.cached and r.outcome is not None:
                decision_s.append(r.latency_s)
            if r.turns:
                turns_all.append(r.turns)
            if r.usage:
                if r.usage.get("estimated"):
                    usage_estimated += 1
                else:
                    usage_known += 1
                tokens_in += r.usage.get("input_tokens", 0)
                tokens_out += r.usage.get("output_tokens", 0)
        cases_out.append({
            "skill": case.skill, "prompt": case.prompt, "expect": case.expect, "why": case.why,
            "runs": s.runs, "triggered": triggered, "trigger_rate": _rnd(rate, 3),
            "passed": passed, "status": status, "selected": selected,
            "wilson_low": _rnd(lo, 3), "wilson_high": _rnd(hi, 3),
            "flaky": bool(n and 0 < triggered < n),
            "other_skills": sorted({x for x in selected if x and x != case.skill}),
            "run_status": ["not_run" if o is None else ("error" if o.error else "ok") for o in outs],
            "errors": errors, "cached": sum(1 for o in done if o.cached),
            "first_commands": [o.result.first_command if o.result else None for o in done],
            "categories": cats,
            "undecided": sum(1 for c in cats if c == UNDECIDED),
            "turns": [o.result.turns if (o is not None and o.result is not None) else None for o in outs],
            "trajectories": [o.result.trajectory if (o is not None and o.result is not None) else [] for o in outs],
            **({"route_to": case.route_to, "misrouted": misrouted} if case.route_to else {}),
            **({"fixture": {"files": [p for p, _ in case.files], "folder": case.fixture,
                            "digest": case.fixture_digest}} if case.fixture_digest else {}),
        })
    per_skill = {name: {"cases": sum(1 for c in cases_out if c["skill"] == name),
                        **_counts([c for c in cases_out if c["skill"] == name]),
                        **({"explicit_only": sum(1 for c in cases_out if c["skill"] == name
                                                 and c["status"] == EXPLICIT_ONLY),
                            "explicit_only_reasons": explicit_reasons[name]} if name in explicit_reasons else {})}
                 for name in run.suite.skill_names}
    counts = _counts(cases_out)
    labels = [*names, NONE]
    # rows: the catalog, then any other expected skill a near-miss names (e.g. an explicit-only one), then none
    rows = [*names, *sorted(r for r in matrix if r not in names and r != NONE), NONE]
    prices = load_prices().get(run.model)
    cost = None
    if prices and (usage_known or usage_estimated):
        cost = round(tokens_in / 1e6 * prices.get("input", 0) + tokens_out / 1e6 * prices.get("output", 0), 6)
    summary = {
        "cases": len(cases_out),
        "passed": sum(1 for c in cases_out if c["status"] == "pass"),
        "failed": sum(1 for c in cases_out if c["status"] == "fail"),
        "errors": sum(1 for c in cases_out if c["status"] == "error"),
        "not_run": sum(1 for c in cases_out if c["status"] == "not_run"),
        "explicit_only": sum(1 for c in cases_out if c["status"] == EXPLICIT_ONLY),
        "flaky": sum(1 for c in cases_out if c["flaky"]),
        **counts,
        "requests": run.requests, "cached": run.cached, "retried": run.retried,
        "total": run.total, "finished": len(run.outcomes), "not_run_requests": len(run.not_run),
        "wall_s": round(run.wall_s, 3), "cancelled": run.cancelled, "fatal": run.fatal,
        "latency_p50_s": _rnd(percentile(latencies, 50)), "latency_p95_s": _rnd(percentile(latencies, 95)),
        "ttft_p50_s": _rnd(percentile(ttfts, 50)), "ttft_p95_s": _rnd(percentile(ttfts, 95)),
        # run start to decision, every turn and exploring command included
        "decision_p50_s": _rnd(percentile(decision_s, 50)), "decision_p95_s": _rnd(percentile(decision_s, 95)),
        "categories": cat_counts, "undecided": cat_counts[UNDECIDED],
        "turns_mean": _rnd(sum(turns_all) / len(turns_all), 3) if turns_all else None,
        "routed_cases": routed_cases, "misrouted_runs": misrouted_runs, "misrouted_cases": misrouted_cases,
        "input_tokens": tokens_in, "output_tokens": tokens_out, "usage_reported": usage_known,
        "usage_estimated": usage_estimated, "cost_usd": cost,
        # tokens and cost include local estimates for streams closed before the server reported usage
        "cost_is_estimate": bool(usage_estimated),
    }
    return {
        "model": OFFLINE_LABEL if run.is_estimate else run.model,
        "base_url": redact_url(run.base_url), "runs": s.runs, "threshold": s.threshold,
        "provider": run.provider, "estimate": run.is_estimate, "verdict_rule": RULE,
        "max_turns": s.max_turns,
        "label": OFFLINE_LABEL if run.is_estimate else None,
        "started_at": run.started_at,
        "settings": {"concurrency": s.concurrency, "timeout_s": s.timeout_s, "retries": s.retries,
                     "cache": s.use_cache},
        "skills": [{"name": e.name, "path": e.path, "description": e.description, "version": e.version,
                    "digest": e.digest} for e in run.suite.catalog],
        "cases": cases_out,
        "summary": summary,
        "per_skill": per_skill,
        "confusion": {"labels": labels, "rows": rows,
                      "matrix": [[matrix.get(r, {}).get(col, 0) for col in labels] for r in rows]},
        "explicit_only_skills": {k: list(v) for k, v in explicit_reasons.items()},
        "warnings": list(run.suite.warnings),
        # every fresh (not cached) request's timing, for charts; suite order, so reproducible
        "timings": {"latency_s": [round(x, 4) for x in latencies], "ttft_s": [round(x, 4) for x in ttfts]},
    }


def _case_id(c: dict[str, Any]) -> tuple[str, str, str]:
    return c["skill"], c["prompt"], c["expect"]


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two reports paired by case (skill, prompt, expect): flips, deltas and McNemar's exact test."""
    bmap = {_case_id(c): c for c in b["cases"]}
    fixed, broke, both_pass, both_fail = [], [], 0, 0
    for ca in a["cases"]:
        cb = bmap.get(_case_id(ca))
        if cb is None or ca["status"] not in ("pass", "fail") or cb["status"] not in ("pass", "fail"):
            continue
        pa, pb = ca["status"] == "pass", cb["status"] == "pass"
        if pa and pb:
            both_pass += 1
        elif not pa and not pb:
            both_fail += 1
        elif pa:
            broke.append({"skill": ca["skill"], "prompt": ca["prompt"], "expect": ca["expect"]})
        else:
            fixed.append({"skill": ca["skill"], "prompt": ca["prompt"], "expect": ca["expect"]})

    def delta(key: str) -> float | None:
        x, y = a["summary"].get(key), b["summary"].get(key)
        return None if x is None or y is None else round(y - x, 4)

    ttft_a, ttft_b = a["summary"].get("ttft_p50_s"), b["summary"].get("ttft_p50_s")
    return {
        "paired_cases": both_pass + both_fail + len(fixed) + len(broke),
        "both_pass": both_pass, "both_fail": both_fail, "fixed": fixed, "broke": broke,
        "mcnemar_p": mcnemar_exact(len(broke), len(fixed)),
        "delta": {k: delta(k) for k in ("accuracy", "precision", "recall", "f1", "ttft_p50_s", "latency_p50_s")},
        "ttft_change_pct": round((ttft_b - ttft_a) / ttft_a * 100, 1) if ttft_a and ttft_b is not None else None,
    }


def expected_row(case: dict[str, Any]) -> str:
    """The confusion-matrix row of a reported case: its skill (trigger), its route_to, else "none"."""
    return str(case["skill"]) if case["expect"] == "trigger" else str(case.get("route_to") or NONE)


def confusion_cells(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every non-empty cell of the report's confusion matrix with the cases behind it.

    (expected row, selected column) -> {"cases": positions in report["cases"], "runs": runs in the cell,
    "misrouted": runs of near-misses (a `route_to` case) that went to another skill than the one named}.
    Built from the cases with the rule `summarize` uses, so the counts equal the matrix: the app drills
    down from a cell to its cases with it.
    """
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for pos, c in enumerate(report.get("cases") or []):
        row = expected_row(c)
        status = c.get("run_status") or ["ok"] * len(c.get("selected") or [])
        target = c.get("route_to")
        for sel, st in zip(c.get("selected") or [], status, strict=False):
            if st != "ok":
                continue
            cell = cells.setdefault((row, sel or NONE), {"cases": [], "runs": 0, "misrouted": 0})
            cell["runs"] += 1
            if not cell["cases"] or cell["cases"][-1] != pos:
                cell["cases"].append(pos)
            if target and sel is not None and sel != (None if target == NONE else target):
                cell["misrouted"] += 1
    return cells
