"""A small trigger-test workspace written to disk, and the keyword table the scripted model follows."""

from __future__ import annotations

from pathlib import Path

SKILLS = {
    "crm-query": ("Query Salesforce pipeline, opportunities and accounts with SOQL.",
                  [("Pull the Q3 pipeline for Acme from Salesforce", "trigger", None),
                   ("List open opportunities in Negotiation", "trigger", None),
                   ("Reconcile the bank statement with the ledger", "no_trigger", "ledger work"),
                   ("A customer cannot log in, draft a reply", "no_trigger", "support-reply")]),
    "support-reply": ("Draft replies to customer support tickets in the house tone.",
                      [("A customer cannot log in, draft a reply", "trigger", None),
                       ("Reply to the refund ticket from Globex", "trigger", None),
                       ("Summarise ticket volume by week", "no_trigger", "reporting, not a reply")]),
    "ledger-reconcile": ("Month-end bank reconciliation against the general ledger.",
                         [("Reconcile the bank statement with the ledger", "trigger", None),
                          ("Why is the cash account off from the bank", "trigger", None)]),
}

# The scripted "model": first keyword found in the prompt names the skill it reads.
KEYWORDS = [("salesforce", "crm-query"), ("opportunit", "crm-query"), ("draft a reply", "support-reply"),
            ("refund ticket", "support-reply"), ("reconcile", "ledger-reconcile"),
            ("ticket volume", "support-reply"),  # a false trigger: support-reply fires on a no_trigger case
            ]
# "Why is the cash account off from the bank" matches no keyword: a miss (false negative).


def write_workspace(root: Path, skills: dict = SKILLS) -> Path:
    for name, (desc, cases) in skills.items():
        d = root / name
        (d / "evals").mkdir(parents=True)
        (d / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {desc}\nmetadata:\n  version: 1.0.0\n---\n"
                                    f"# {name}\n\nDo the thing.\n", encoding="utf-8")
        lines = ["cases:"]
        for prompt, expect, why in cases:
            lines.append(f'  - prompt: "{prompt}"\n    expect: {expect}')
            if why:
                lines.append(f'    why: "{why}"')
        (d / "evals" / "triggers.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
