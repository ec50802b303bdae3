"""Offline estimate: a lexical router so a machine with no key and no server still runs every suite.

It is NOT a model and is labelled "offline estimate" wherever its numbers appear. Each skill is a
BM25 document (name + description); counter-evidence pushes a prompt away from a skill: the skill's
own `no_trigger` prompts, and the "Do not use for …" sentences of its description (words there
say what the skill is *not* for, so they must not count for it). The case being scored is always left out of
its own counter-evidence (leave-one-out), otherwise every negative case would pass by looking
itself up. Deterministic: every run of a case gives the same answer, so the runner routes each
case once whatever `--runs` says.

Linear in catalog size: an inverted index (term -> the skills whose text has it) means a prompt
only scores the skills it shares a word with; names, exclusions and negative cases are tokenised
once in `prepare`, and the best skill is found in one pass over those candidates.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from typing import Any

from skillstudio.evals.routers import RouteRequest, RouteResult
from skillstudio.evals.suite import Suite

LABEL = "offline estimate"
_WORD = re.compile(r"[a-z0-9]+")
_STOP = set(["a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "has", "have", "how", "i",
             "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our", "please", "so", "that", "the",
             "their", "them", "then", "there", "these", "this", "to", "up", "us", "use", "used", "using", "was", "we",
             "what", "when", "where", "which", "who", "why", "will", "with", "you", "your", "yours", "help", "want",
             "need", "get", "make", "new", "one", "all", "any", "also"])


def tokenize(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower().replace("-", " ").replace("_", " ")):
        if w in _STOP or len(w) < 2:
            continue
        for suffix in ("ing", "ies", "es", "ed", "s"):
            if len(w) > len(suffix) + 2 and w.endswith(suffix):
                w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        out.append(w)
    return out


_NEGATIVE_CLAUSE = re.compile(r"^\s*(do not|don't|never|not)\b", re.I)


def split_description(description: str) -> tuple[str, str]:
    """(what the skill is for, what it says it is NOT for) by sentence."""
    pos: list[str] = []
    neg: list[str] = []
    for sentence in re.split(r"(?<=[.;!?])\s+", description):
        (neg if _NEGATIVE_CLAUSE.match(sentence) else pos).append(sentence)
    return " ".join(pos), " ".join(neg)


class BM25:
    """Okapi BM25 with the always-positive idf variant (small catalogs have few documents)."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.len = [len(d) for d in docs]
        self.avg = (sum(self.len) / len(docs)) if docs and sum(self.len) else 1.0
        # term -> (document, term frequency) for the documents holding it, in document order
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, tf in enumerate(self.tf):
            for t, f in tf.items():
                self.postings.setdefault(t, []).append((i, f))
        n = len(docs)
        self.idf = {t: math.log(1 + (n - len(ds) + 0.5) / (len(ds) + 0.5)) for t, ds in self.postings.items()}
        self._norm = [k1 * (1 - b + b * dl / self.avg) for dl in self.len]

    def candidates(self, query: list[str]) -> list[int]:
        """Documents sharing at least one query term (the only ones that can score above 0), in order."""
        found: set[int] = set()
        for t in set(query):
            found.update(i for i, _ in self.postings.get(t, ()))
        return sorted(found)

    def scores_for(self, query: list[str]) -> dict[int, float]:
        """Every candidate's score, term at a time over the postings (no pass over the whole catalog)."""
        out: dict[int, float] = {}
        k1 = self.k1
        norm = self._norm
        for t, times in Counter(query).items():
            docs = self.postings.get(t)
            if not docs:
                continue
            w = self.idf[t] * times * (k1 + 1)
            for i, f in docs:
                out[i] = out.get(i, 0.0) + w * f / (f + norm[i])
        return out

    def score(self, query: list[str], i: int) -> float:
        tf, dl, s = self.tf[i], self.len[i], 0.0
        for t in query:
            f = tf.get(t)
            if f:
                s += self.idf[t] * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * dl / self.avg))
        return s


class OfflineRouter:
    kind = "offline"
    model = "bm25"
    base_url = ""
    is_estimate = True

    def __init__(self, *, min_score: float = 1.0, counter_weight: float = 1.0) -> None:
        self.min_score = min_score
        self.counter_weight = counter_weight
        self._names: list[str] = []
        self._index: BM25 | None = None
        self._negatives: list[list[tuple[int, set[str]]]] = []  # per skill: (case index, prompt words)
        self._exclusions: list[set[str]] = []  # per skill: "Do not use for ..." words minus its name's
        self.routed = 0  # cases routed (the runner routes each case once, whatever --runs says)

    def prepare(self, suite: Suite) -> None:
        self._names = [e.name for e in suite.catalog]
        parts = [split_description(e.description) for e in suite.catalog]
        self._index = BM25([tokenize(f"{e.name} {e.name} {pos}") for e, (pos, _neg) in zip(suite.catalog, parts,
                                                                                            strict=True)])
        # "Do not use for …" clauses name what the skill is NOT for: counter-evidence, not evidence.
        self._exclusions = [set(tokenize(neg)) - set(tokenize(e.name))
                            for e, (_pos, neg) in zip(suite.catalog, parts, strict=True)]
        where = {name: i for i, name in enumerate(self._names)}
        self._negatives = [[] for _ in self._names]
        for c in suite.cases:  # one pass over the cases, not one per skill
            if c.expect == "no_trigger" and c.skill in where:
                self._negatives[where[c.skill]].append((c.index, set(tokenize(c.prompt))))

    def request_body(self, req: RouteRequest) -> dict[str, Any] | None:
        return None  # nothing is sent anywhere; not cached

    def _adjust(self, i: int, s: float, qset: set[str], exclude_case: int | None) -> float:
        """A BM25 score with the skill's counter-evidence applied (never raises it)."""
        if s > 0 and qset:
            # Counter-evidence: Jaccard overlap with the closest negative case of this skill.
            closest = max((len(qset & neg) / len(qset | neg) for idx, neg in self._negatives[i]
                           if idx != exclude_case and neg), default=0.0)
            s *= 1.0 - min(1.0, self.counter_weight * closest)
            excl = self._exclusions[i]
            if excl:
                s *= 1.0 - min(1.0, len(qset & excl) / len(qset))
        return s

    def scores(self, prompt: str, exclude_case: int | None = None) -> dict[str, float]:
        """Every skill's score (0.0 for those sharing no word with the prompt)."""
        assert self._index is not None, "prepare() first"
        q = tokenize(prompt)
        qset = set(q)
        out = dict.fromkeys(self._names, 0.0)
        for i, raw in self._index.scores_for(q).items():
            out[self._names[i]] = self._adjust(i, raw, qset, exclude_case)
        return out

    def select(self, prompt: str, exclude_case: int | None = None) -> str | None:
        """The best-scoring skill (the first in catalog order on a tie) if it clears `min_score`."""
        assert self._index is not None, "prepare() first"
        q = tokenize(prompt)
        qset = set(q)
        best, best_score = None, 0.0
        # Highest raw score first (catalog order on ties): counter-evidence only lowers a score, so once
        # a raw score is below the best adjusted one, no later skill can win. A heap, not a sort: the
        # cut-off usually comes after a few skills, so the cost stays linear in the candidates.
        order = [(-raw, i) for i, raw in self._index.scores_for(q).items()]
        heapq.heapify(order)
        while order:
            neg_raw, i = heapq.heappop(order)
            raw = -neg_raw
            if best is not None and raw < best_score:
                break
            sc = self._adjust(i, raw, qset, exclude_case)
            if best is None or sc > best_score or (sc == best_score and i < best):
                best, best_score = i, sc
        if best is None or best_score < self.min_score:
            return None
        return self._names[best]

    async def route(self, req: RouteRequest) -> RouteResult:
        self.routed += 1
        selected = self.select(req.case.prompt, req.case.index)
        return RouteResult(selected=selected, first_command=None, raw_events_summary=[LABEL],
                           outcome="read" if selected else "answered", turns=1)

    async def aclose(self) -> None:
        return None
