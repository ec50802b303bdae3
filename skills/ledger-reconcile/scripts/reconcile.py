#!/usr/bin/env python3
"""Reconcile a bank statement with the general-ledger cash account for one period.

Standard library only. Reads DATA_DIR/bank.csv (date, description, amount, reference; amount
signed, money in > 0) and DATA_DIR/ledger.csv (date, account, memo, debit, credit, reference).
Money is handled as Decimal, never float, so totals are exact to the cent.

Matching, in order, each line used at most once:
  1. same reference and same amount          -> matched
  2. same reference, different amount        -> amount mismatch (a break)
  3. same amount, dates within N days        -> matched (closest date first)
Whatever is left is "in bank only" (fees, interest: book an adjusting entry) or "in ledger only"
(outstanding cheques, deposits in transit: timing differences).

Usage:
    python3 scripts/reconcile.py DATA_DIR [--bank FILE] [--ledger FILE] [--tolerance-days 3]
                                 [--json] [--write] [--strict]

--write also saves DATA_DIR/reconciliation.md and DATA_DIR/breaks.csv.
Exit codes: 0 done, 1 breaks found and --strict given, 2 unreadable or malformed input.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

CENT = Decimal("0.01")


class InputError(Exception):
    pass


@dataclass
class Line:
    source: str  # "bank" | "ledger"
    row: int  # 1-based data row (the header is row 0)
    date: dt.date
    amount: Decimal  # signed: money into the bank account is positive
    reference: str
    text: str


def _money(value: str, where: str) -> Decimal:
    value = (value or "").strip().replace(",", "")
    if not value:
        return Decimal(0)
    try:
        return Decimal(value).quantize(CENT)
    except InvalidOperation:
        raise InputError(f"{where}: '{value}' is not an amount") from None


def _date(value: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise InputError(f"{where}: '{value}' is not a date (use YYYY-MM-DD)") from None


def _rows(path: Path, required: set[str]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = required - set(reader.fieldnames or [])
            if missing:
                raise InputError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
            return list(reader)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_bank(path: Path) -> list[Line]:
    out = []
    for i, r in enumerate(_rows(path, {"date", "description", "amount"}), 1):
        where = f"{path.name} row {i}"
        out.append(Line("bank", i, _date(r["date"], where), _money(r["amount"], where),
                        (r.get("reference") or "").strip(), r["description"].strip()))
    return out


def read_ledger(path: Path) -> list[Line]:
    out = []
    for i, r in enumerate(_rows(path, {"date", "debit", "credit"}), 1):
        where = f"{path.name} row {i}"
        amount = _money(r["debit"], where) - _money(r["credit"], where)
        out.append(Line("ledger", i, _date(r["date"], where), amount,
                        (r.get("reference") or "").strip(), (r.get("memo") or "").strip()))
    return out


def reconcile(bank: list[Line], ledger: list[Line], tolerance_days: int = 3) -> dict:
    matched: list[tuple[Line, Line, str]] = []
    mismatched: list[tuple[Line, Line]] = []
    free_bank, free_ledger = list(bank), list(ledger)

    by_ref: dict[str, list[Line]] = {}
    for ln in free_ledger:
        if ln.reference:
            by_ref.setdefault(ln.reference, []).append(ln)
    for b in list(free_bank):
        candidates = by_ref.get(b.reference, []) if b.reference else []
        if not candidates:
            continue
        same = [x for x in candidates if x.amount == b.amount]
        other = same[0] if same else candidates[0]
        candidates.remove(other)
        free_bank.remove(b)
        free_ledger.remove(other)
        if same:
            matched.append((b, other, "reference"))
        else:
            mismatched.append((b, other))

    for b in sorted(list(free_bank), key=lambda x: (x.date, x.row)):
        options = [x for x in free_ledger
                   if x.amount == b.amount and abs((x.date - b.date).days) <= tolerance_days]
        if options:
            best = min(options, key=lambda x: (abs((x.date - b.date).days), x.row))
            free_bank.remove(b)
            free_ledger.remove(best)
            matched.append((b, best, f"amount+date ({abs((best.date - b.date).days)}d)"))

    bank_total = sum((x.amount for x in bank), Decimal(0))
    ledger_total = sum((x.amount for x in ledger), Decimal(0))
    explained = (sum((x.amount for x in free_bank), Decimal(0))
                 - sum((x.amount for x in free_ledger), Decimal(0))
                 + sum((b.amount - g.amount for b, g in mismatched), Decimal(0)))
    return {
        "bank_total": bank_total, "ledger_total": ledger_total,
        "difference": bank_total - ledger_total, "explained": explained,
        "bank_lines": len(bank), "ledger_lines": len(ledger),
        "matched": matched, "mismatched": mismatched,
        "bank_only": free_bank, "ledger_only": free_ledger,
    }


def _hint(b: Line, g: Line) -> str:
    diff = abs(b.amount - g.amount)
    if diff and (diff * 100) % 9 == 0:
        return "difference divisible by 9: likely transposed digits"
    return "check the invoice and the remittance"


def breaks(result: dict) -> list[dict[str, str]]:
    """One row per item that needs action, for breaks.csv and --json."""
    rows = []
    for b, g in result["mismatched"]:
        rows.append({"type": "amount_mismatch", "date": b.date.isoformat(), "reference": b.reference,
                     "bank_amount": str(b.amount), "ledger_amount": str(g.amount),
                     "difference": str(b.amount - g.amount), "action": _hint(b, g)})
    for b in result["bank_only"]:
        kind = "bank charges" if b.amount < 0 else "interest or unidentified receipt"
        rows.append({"type": "bank_only", "date": b.date.isoformat(), "reference": b.reference or b.text,
                     "bank_amount": str(b.amount), "ledger_amount": "", "difference": str(b.amount),
                     "action": f"book an adjusting entry ({kind})"})
    for g in result["ledger_only"]:
        kind = "outstanding payment" if g.amount < 0 else "deposit in transit"
        rows.append({"type": "ledger_only", "date": g.date.isoformat(), "reference": g.reference or g.text,
                     "bank_amount": "", "ledger_amount": str(g.amount), "difference": str(-g.amount),
                     "action": f"timing difference ({kind}); confirm it clears next period"})
    return rows


def report_markdown(result: dict, bank_name: str, ledger_name: str) -> str:
    items = breaks(result)
    lines = [
        "# Bank reconciliation",
        "",
        f"Sources: `{bank_name}` ({result['bank_lines']} lines), `{ledger_name}` ({result['ledger_lines']} lines)",
        "",
        "| | Amount |",
        "|---|---:|",
        f"| Bank movements | {result['bank_total']:,.2f} |",
        f"| Ledger movements | {result['ledger_total']:,.2f} |",
        f"| Difference | {result['difference']:,.2f} |",
        f"| Explained by the breaks below | {result['explained']:,.2f} |",
        "",
        f"Matched: {len(result['matched'])} · Breaks: {len(items)}",
        "",
    ]
    if items:
        lines += ["| Type | Date | Reference | Bank | Ledger | Action |", "|---|---|---|---:|---:|---|"]
        lines += [f"| {r['type']} | {r['date']} | {r['reference']} | {r['bank_amount']} | {r['ledger_amount']} "
                  f"| {r['action']} |" for r in items]
    else:
        lines.append("Fully reconciled: every bank line matches a ledger entry.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Reconcile bank.csv against ledger.csv in a data folder.")
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--bank", default="bank.csv", help="bank statement file name in DATA_DIR")
    ap.add_argument("--ledger", default="ledger.csv", help="ledger export file name in DATA_DIR")
    ap.add_argument("--tolerance-days", type=int, default=3, help="max date gap for amount matches")
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    ap.add_argument("--write", action="store_true", help="also write reconciliation.md and breaks.csv")
    ap.add_argument("--strict", action="store_true", help="exit 1 when any break remains")
    args = ap.parse_args(argv)
    try:
        bank = read_bank(args.data_dir / args.bank)
        ledger = read_ledger(args.data_dir / args.ledger)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = reconcile(bank, ledger, args.tolerance_days)
    items = breaks(result)
    md = report_markdown(result, args.bank, args.ledger)
    if args.json:
        print(json.dumps({
            "bank_total": str(result["bank_total"]), "ledger_total": str(result["ledger_total"]),
            "difference": str(result["difference"]), "explained": str(result["explained"]),
            "matched": [{"bank_row": b.row, "ledger_row": g.row, "amount": str(b.amount), "how": how}
                        for b, g, how in result["matched"]],
            "breaks": items,
        }, indent=2))
    else:
        sys.stdout.write(md)
    if args.write:
        (args.data_dir / "reconciliation.md").write_text(md, encoding="utf-8")
        with (args.data_dir / "breaks.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=["type", "date", "reference", "bank_amount", "ledger_amount",
                                               "difference", "action"])
            w.writeheader()
            w.writerows(items)
    return 1 if args.strict and items else 0


if __name__ == "__main__":
    sys.exit(main())
