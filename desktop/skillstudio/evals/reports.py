"""Report writers for a summarized run: JSON (CONTRACT shape), JUnit XML for CI, self-contained HTML, CSV.

All of them render the same report dictionary (see metrics.summarize). A run of the offline
estimator carries the "offline estimate" label in every one of them, never a model name alone. A
trigger case of an explicit-only skill is shown as explicit-only with its author's declaration
(JUnit: skipped, with that reason), never as a miss.
"""

from __future__ import annotations

import csv
import html
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from skillstudio.bundle.fileio import atomic_write
from skillstudio.bundle.invocation import EXPLICIT_ONLY
from skillstudio.evals.routers.offline import LABEL as OFFLINE_LABEL
from skillstudio.evals.trajectory import LEGACY_RULE
from skillstudio.evals.trajectory import label as category_label


def rule_of(report: dict[str, Any]) -> str:
    """How the report's verdicts were observed (older saved runs: the first-call rule)."""
    return str(report.get("verdict_rule") or LEGACY_RULE)


def run_labels(case: dict[str, Any]) -> list[str]:
    """Each run's category in words ("after exploring (2 turns)", "undecided", ...)."""
    cats = case.get("categories")
    if cats is None:  # a report saved before trajectories
        return [category_label("first_call_rule")] * len(case.get("selected") or [])
    turns = case.get("turns") or [None] * len(cats)
    return [category_label(c, t) if c else "—" for c, t in zip(cats, turns, strict=False)]


def explicit_only_note(case: dict[str, Any]) -> str:
    """Why an explicit-only case was not run, in words for every report."""
    return (f"explicit-only skill ({case.get('explicit_only') or 'declared by its author'}): not offered for "
            "implicit selection, so this trigger case is not run")


def title_of(report: dict[str, Any]) -> str:
    if report.get("estimate"):
        return f"{OFFLINE_LABEL} (lexical BM25, not a model)"
    return f"{report.get('model')} via {report.get('provider')}"


def to_json(report: dict[str, Any]) -> str:
    data = {k: v for k, v in report.items() if k != "requests_log"}
    return json.dumps(data, indent=2, ensure_ascii=False)


def to_junit(report: dict[str, Any]) -> str:
    s = report["summary"]
    root = ET.Element("testsuites", name=f"skillstudio trigger tests — {title_of(report)}",
                      tests=str(s["cases"]), failures=str(s["failed"]), errors=str(s["errors"]),
                      skipped=str(s.get("not_run", 0) + s.get("explicit_only", 0)), time=str(s["wall_s"]))
    by_skill: dict[str, list[dict[str, Any]]] = {}
    for c in report["cases"]:
        by_skill.setdefault(c["skill"], []).append(c)
    for skill, cases in by_skill.items():
        suite = ET.SubElement(root, "testsuite", name=skill, tests=str(len(cases)),
                              failures=str(sum(c["status"] == "fail" for c in cases)),
                              errors=str(sum(c["status"] == "error" for c in cases)),
                              skipped=str(sum(c["status"] in ("not_run", EXPLICIT_ONLY) for c in cases)))
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="verdict_rule", value=rule_of(report))
        if report.get("estimate"):
            ET.SubElement(props, "property", name="router", value=OFFLINE_LABEL)
        for c in cases:
            tc = ET.SubElement(suite, "testcase", classname=f"triggers.{skill}",
                               name=f"[{c['expect']}] {c['prompt']}")
            if c["status"] == EXPLICIT_ONLY:
                ET.SubElement(tc, "skipped", message=explicit_only_note(c))
                continue
            detail = (f"expect {c['expect']}: triggered {c['triggered']}/{c['runs']} "
                      f"(rate {c['trigger_rate']}, threshold {report['threshold']}); selected {c['selected']}; "
                      f"runs: {', '.join(run_labels(c))}")
            if c.get("undecided"):
                detail += f"; UNDECIDED in {c['undecided']} run(s) (no decision within the turn budget)"
            if c.get("route_to"):
                detail += f"; route_to {c['route_to']}: misrouted in {c.get('misrouted') or 0} run(s)"
            if c.get("why"):
                detail += f"; why: {c['why']}"
            if c["status"] == "fail":
                ET.SubElement(tc, "failure", message=detail, type="TriggerMismatch").text = detail
            elif c["status"] == "error":
                msg = "; ".join(c["errors"])
                ET.SubElement(tc, "error", message=msg, type="RequestFailed").text = msg
            elif c["status"] == "not_run":
                ET.SubElement(tc, "skipped", message="not run (cancelled)")
            else:
                ET.SubElement(tc, "system-out").text = detail
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def to_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["skill", "expect", "prompt", "runs", "triggered", "trigger_rate", "wilson_low", "wilson_high",
                "status", "flaky", "selected", "why", "categories", "undecided", "route_to", "misrouted",
                "explicit_only"])
    for c in report["cases"]:
        w.writerow([c["skill"], c["expect"], c["prompt"], c["runs"], c["triggered"], c["trigger_rate"],
                    c["wilson_low"], c["wilson_high"], c["status"], c["flaky"],
                    " ".join(_run_label(x, st) for x, st in zip(c["selected"], c.get("run_status") or
                                                                ["ok"] * len(c["selected"]), strict=False)),
                    c.get("why") or "", "; ".join(run_labels(c)), c.get("undecided") or 0,
                    c.get("route_to") or "", "" if c.get("misrouted") is None else c["misrouted"],
                    c.get("explicit_only") or ""])
    return buf.getvalue()


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#5b6475}.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px}
.estimate{background:#fff3cd;color:#7a5600;border:1px solid #e0c060;padding:8px 12px;border-radius:6px;margin:12px 0}
.pass{background:#e3f6e8;color:#17692f}.fail{background:#fde4e4;color:#9b1c1c}.error{background:#fdf0d8;color:#8a5300}
.not_run{background:#eceef2;color:#555}.explicit_only{background:#e6eefb;color:#1d3a6b}
table{border-collapse:collapse;margin:6px 0}
td,th{border:1px solid #dde1e8;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f9}.num{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:flex;gap:12px;flex-wrap:wrap}
.kpi{border:1px solid #dde1e8;border-radius:8px;padding:8px 14px;min-width:90px}
.kpi b{display:block;font-size:20px}.bar{position:relative;width:120px;height:10px;background:#eef0f4;border-radius:5px}
.bar .ci{position:absolute;top:0;height:10px;background:#b9c8f0;border-radius:5px}
.bar .pt{position:absolute;top:-2px;width:3px;height:14px;background:#2a4fd0}
.bar .th{position:absolute;top:-3px;width:1px;height:16px;background:#c00}
.cm td{width:48px;text-align:center}.small{font-size:12px;color:#5b6475}
"""


def _bar(c: dict[str, Any], threshold: float) -> str:
    if c["trigger_rate"] is None:
        return ""
    lo, hi, p = c["wilson_low"] * 100, c["wilson_high"] * 100, c["trigger_rate"] * 100
    return (f'<div class="bar" title="Wilson 95%: {c["wilson_low"]}–{c["wilson_high"]}">'
            f'<div class="ci" style="left:{lo:.1f}%;width:{max(hi - lo, 1):.1f}%"></div>'
            f'<div class="th" style="left:{threshold * 100:.1f}%"></div>'
            f'<div class="pt" style="left:calc({p:.1f}% - 1px)"></div></div>')


def _bars_svg(items: list[tuple[str, float | None]], title: str, width: int = 520) -> str:
    """Horizontal bars (0..1) as inline SVG: no script, no external file, opens offline."""
    row, label_w = 22, 170
    h = row * len(items) + 30
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{h}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="sans-serif">',
             f'<text x="0" y="14" font-weight="600">{html.escape(title)}</text>']
    span = width - label_w - 50
    for i, (label, value) in enumerate(items):
        y = 24 + i * row
        parts.append(f'<text x="0" y="{y + 13}">{html.escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{span}" height="14" fill="#eef0f4"/>')
        if value is not None:
            parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{span * value:.1f}" height="14" fill="#2a4fd0"/>')
        parts.append(f'<text x="{label_w + span + 6}" y="{y + 13}">{_fmt(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram_svg(values: list[float], title: str, bins: int = 20, width: int = 520, height: int = 140) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    step = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / step))] += 1
    peak = max(counts)
    bw = (width - 20) / bins
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height + 40}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="sans-serif">',
             f'<text x="0" y="14" font-weight="600">{html.escape(title)}</text>']
    for i, c in enumerate(counts):
        bh = height * c / peak
        parts.append(f'<rect x="{10 + i * bw:.1f}" y="{20 + height - bh:.1f}" width="{bw - 2:.1f}" '
                     f'height="{bh:.1f}" fill="#6c8ae4"><title>{c}</title></rect>')
    parts.append(f'<text x="10" y="{height + 36}">{lo:.3f} s</text>'
                 f'<text x="{width - 70}" y="{height + 36}">{hi:.3f} s</text></svg>')
    return "".join(parts)


def _run_label(selected: str | None, status: str) -> str:
    return {"error": "error", "not_run": "not run"}.get(status, selected or "none")


def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.3f}"
    return html.escape(str(x))


def to_html(report: dict[str, Any]) -> str:
    e = html.escape
    s = report["summary"]
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Trigger tests — "
             f"{e(title_of(report))}</title><style>{_CSS}</style></head><body>",
             f"<h1>Trigger tests — {e(title_of(report))}</h1>",
             f'<div class="sub">{e(str(report.get("started_at") or ""))} · runs per case {report["runs"]} · '
             f'threshold {report["threshold"]} · {e(str(report.get("base_url") or "no server"))} · '
             f'verdicts: {e(rule_of(report))}'
             + (f' (at most {report["max_turns"]} model turns)' if report.get("max_turns") else "") + "</div>"]
    if report.get("estimate"):
        parts.append('<div class="estimate"><b>Offline estimate.</b> These numbers come from a lexical '
                     "BM25 router over names and descriptions, with negative cases as counter-evidence. "
                     "They are not a model's behaviour: run against a model before trusting them.</div>")
    if s.get("cancelled"):
        parts.append(f'<div class="estimate">Cancelled: {s["not_run_requests"]} of {s["total"]} requests '
                     "were not run; finished results are shown.</div>")
    if s.get("fatal"):
        parts.append(f'<div class="estimate">Stopped: {e(str(s["fatal"]))}</div>')
    kpis = [("cases", s["cases"]), ("passed", s["passed"]), ("failed", s["failed"]), ("errors", s["errors"]),
            ("accuracy", s["accuracy"]), ("precision", s["precision"]), ("recall", s["recall"]),
            ("F1", s["f1"]), ("flaky", s["flaky"]), ("TTFT p50 s", s["ttft_p50_s"]),
            ("latency p50 s", s["latency_p50_s"]), ("requests", s["requests"]), ("cached", s["cached"])]
    if s.get("undecided"):
        kpis.append(("undecided runs", s["undecided"]))
    if s.get("explicit_only"):
        kpis.append(("explicit-only (not run)", s["explicit_only"]))
    if s.get("routed_cases"):
        kpis.append(("misrouted runs", s.get("misrouted_runs")))
    if s.get("cost_usd") is not None:
        kpis.append(("cost USD (estimate)" if s.get("cost_is_estimate") else "cost USD", s["cost_usd"]))
    parts.append('<div class="kpis">' + "".join(f'<div class="kpi"><b>{_fmt(v)}</b>{e(k)}</div>'
                                                 for k, v in kpis) + "</div>")
    cats = s.get("categories")
    if cats:
        shown = {k: v for k, v in cats.items() if k != "first_call_rule" or v}
        parts.append("<h2>How runs decided</h2><table><tr>" + "".join(
            f"<th>{e(category_label(k))}</th>" for k in shown) + "</tr><tr>" + "".join(
            f'<td class="num">{v}</td>' for v in shown.values()) + "</tr></table>"
            '<div class="small">direct: the first shell call read the skill; after exploring: the model looked '
            "around (commands run in the sandbox) before reading it; answered: no skill read; undecided: no "
            "decision within the turn budget (counted as not triggered).</div>")
    parts.append("<h2>Per skill</h2><table><tr><th>skill</th><th>cases</th><th>TP</th><th>FP</th><th>TN</th>"
                 "<th>FN</th><th>precision</th><th>recall</th><th>F1</th><th>accuracy</th></tr>")
    for name, m in report["per_skill"].items():
        parts.append(f"<tr><td>{e(name)}</td>" + "".join(
            f'<td class="num">{_fmt(m[k])}</td>' for k in ("cases", "tp", "fp", "tn", "fn", "precision",
                                                           "recall", "f1", "accuracy")) + "</tr>")
    parts.append("</table>")
    cm = report["confusion"]
    peak = max([max(r) for r in cm["matrix"]] + [1])
    parts.append('<h2>Confusion matrix</h2><div class="small">Rows: expected (a trigger case\'s skill, '
                 'a case\'s route_to, else "none" for no_trigger cases). Columns: what each run selected. '
                 'Green: right; red: the wrong skill or none; amber: a skill '
                 "answering a prompt listed as a negative case (right if the prompt belongs to it; see the "
                 'per-skill FP column).</div><table class="cm"><tr>'
                 "<th>expected ↓ / selected →</th>" + "".join(f"<th>{e(x)}</th>" for x in cm["labels"]) + "</tr>")
    for row, vals in zip(cm["rows"], cm["matrix"], strict=True):
        cells = []
        for col, v in zip(cm["labels"], vals, strict=True):
            alpha = v / peak if v else 0
            if col == row:
                colour = f"rgba(40,150,70,{alpha:.2f})"
            elif row == "none":  # another skill answering someone's negative case may well be right
                colour = f"rgba(220,160,40,{alpha:.2f})"
            else:
                colour = f"rgba(210,50,50,{alpha:.2f})"
            cells.append(f'<td style="background:{colour}">{v or ""}</td>')
        parts.append(f"<tr><th>{e(row)}</th>{''.join(cells)}</tr>")
    parts.append("</table>")
    parts.append("<h2>Cases</h2><table><tr><th>skill</th><th>expect</th><th>prompt</th><th>rate</th>"
                 "<th>95% interval</th><th>selected per run</th><th>how each run decided</th><th>result</th>"
                 "<th>why</th></tr>")
    for c in report["cases"]:
        sel = ", ".join(e(_run_label(x, st)) for x, st in zip(c["selected"], c.get("run_status") or
                                                                  ["ok"] * len(c["selected"]), strict=False))
        status = ("explicit-only" if c["status"] == EXPLICIT_ONLY else c["status"]) + (" · flaky" if c["flaky"] else "")
        err = f'<div class="small">{e("; ".join(c["errors"]))}</div>' if c["errors"] else ""
        if c["status"] == EXPLICIT_ONLY:
            err += f'<div class="small">{e(explicit_only_note(c))}</div>'
        if c.get("route_to"):
            err += (f'<div class="small">route_to {e(str(c["route_to"]))}: '
                    f'misrouted in {c.get("misrouted") or 0} run(s)</div>')
        how = ", ".join(e(x) for x in run_labels(c))
        paths = []
        for n, steps in enumerate(c.get("trajectories") or [], 1):
            cmds = [" && ".join(st.get("commands") or []) or st.get("kind", "") for st in steps]
            if len(cmds) > 1:
                paths.append(f"run {n}: " + " → ".join(cmds))
        if paths:
            how += '<div class="small">' + "<br>".join(e(x) for x in paths) + "</div>"
        parts.append(f"<tr><td>{e(c['skill'])}</td><td>{e(c['expect'])}</td><td>{e(c['prompt'])}{err}</td>"
                     f'<td class="num">{_fmt(c["trigger_rate"])}</td><td>{_bar(c, report["threshold"])}</td>'
                     f'<td>{sel}</td><td>{how}</td><td><span class="badge {c["status"]}">{e(status)}</span></td>'
                     f"<td>{e(c.get('why') or '')}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Charts</h2>")
    parts.append(_bars_svg([(n, m["accuracy"]) for n, m in report["per_skill"].items()], "Accuracy per skill"))
    parts.append(_bars_svg([(n, m["recall"]) for n, m in report["per_skill"].items()], "Recall per skill"))
    timings = report.get("timings") or {}
    parts.append(_histogram_svg(timings.get("latency_s") or [], "Latency per request"))
    parts.append(_histogram_svg(timings.get("ttft_s") or [], "Time to first token per request"))
    parts.append("<h2>Timing and tokens</h2><table>" + "".join(
        f"<tr><th>{e(k)}</th><td class=num>{_fmt(s.get(key))}</td></tr>" for k, key in (
            ("latency p50 (s)", "latency_p50_s"), ("latency p95 (s)", "latency_p95_s"),
            ("TTFT p50 (s)", "ttft_p50_s"), ("TTFT p95 (s)", "ttft_p95_s"),
            ("time to decision p50 (s)", "decision_p50_s"), ("time to decision p95 (s)", "decision_p95_s"),
            ("model turns per run (mean)", "turns_mean"), ("input tokens", "input_tokens"),
            ("output tokens", "output_tokens"), ("requests reporting usage", "usage_reported"),
            ("requests with estimated usage", "usage_estimated"),
            ("cost (USD)", "cost_usd"), ("wall time (s)", "wall_s"), ("retried requests", "retried")))
        + "</table>")
    parts.append('<p class="small">Streams closed early (as soon as the decision is known) get no token usage '
                 "from the server; for those requests tokens are an <b>estimate</b> counted locally (o200k_base: "
                 "catalog + what the turn sent in, the visible deciding command out; a lower bound). Tokens, cost, "
                 "latency and time to decision include every turn of a run. Run with streaming off to "
                 "measure exact tokens and cost.</p>")
    parts.append('<p class="small">Made by Skill Studio. Cases pass when expect=trigger and rate ≥ threshold, '
                 "or expect=no_trigger and rate &lt; threshold.</p></body></html>\n")
    return "".join(parts)


def write(path: Path, text: str) -> None:
    atomic_write(Path(path), text)
