"""Fuzzy matching for the command palette and quick-open: the letters of the query in order.

"ssc" finds "Show Sandbox Console", "crmsk" finds "crm-query/SKILL.md". Matches at the start of a
word and runs of consecutive letters score higher, so the expected entry comes first; an exact
substring beats everything. Case-insensitive. Qt-free (it sorts strings).
"""

from __future__ import annotations

_SEPARATORS = " /\\-_.:&"


def fuzzy_score(query: str, text: str) -> int | None:
    """A score (higher is better) when every character of `query` occurs in `text` in order, else None."""
    q = "".join(query.lower().split())
    if not q:
        return 0
    t = text.lower()
    at = t.find(q)
    if at >= 0:  # a plain substring: best, earlier, at a word start and in a shorter text better
        return 10_000 - at + (500 if at == 0 or t[at - 1] in _SEPARATORS else 0) - min(len(t) - len(q), 99)
    score, pos, run = 0, -1, 0
    for ch in q:
        nxt = t.find(ch, pos + 1)
        if nxt < 0:
            return None
        if nxt == pos + 1:
            run += 1
            score += 5 * run
        else:
            run = 0
            score -= min(nxt - pos - 1, 10)
        if nxt == 0 or t[nxt - 1] in _SEPARATORS:
            score += 15
        pos = nxt
    return score


def fuzzy_filter(query: str, items: list[str], limit: int | None = None) -> list[int]:
    """Indexes of the `items` matching `query`, best first (ties keep the given order)."""
    scored = [(s, i) for i, text in enumerate(items) if (s := fuzzy_score(query, text)) is not None]
    scored.sort(key=lambda si: (-si[0], si[1]))
    out = [i for _s, i in scored]
    return out[:limit] if limit is not None else out
