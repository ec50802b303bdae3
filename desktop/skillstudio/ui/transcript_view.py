"""The transcript of one agent run as the user watches it: live while it runs, or replayed from disk.

Everything shown comes from the loop's events (`agent.loop`): model messages, shell calls with their
commands, their outputs with exit code / timeout, compaction markers with before/after tokens, a red
banner for a routing violation and a badge when a secret was handed raw to the tool. A saved
transcript is turned into the same events (`replay_steps`), so live and replayed runs look alike.
The widget only ever runs in the GUI thread; the Playground's worker forwards events through signals.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

MAX_SHOWN_OUTPUT = 6000  # characters of one output shown inline (the saved transcript keeps all)

_OK, _BAD, _MUTED, _ACCENT = "#2e7d32", "#c62828", "#757575", "#1565c0"


def replay_steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A saved transcript as the ordered events the live view shows (items with compactions between)."""
    items = list(doc.get("items") or [])
    marks: dict[int, list[dict[str, Any]]] = {}
    for c in doc.get("compaction_events") or []:
        marks.setdefault(int(c.get("after_item", len(items))), []).append({"kind": "compaction", **c})
    steps: list[dict[str, Any]] = []
    for index in range(len(items) + 1):
        steps += marks.get(index, [])
        if index < len(items):
            steps.append({"kind": "item", "item": items[index]})
    steps.append({"kind": "finished", "outcome": doc.get("outcome", ""), "reason": doc.get("stop_reason", ""),
                  "usage": doc.get("usage") or {}, "compactions": doc.get("compactions", 0),
                  "violations": doc.get("violations") or []})
    return steps


def _pre(text: str, color: str | None = None) -> str:
    if len(text) > MAX_SHOWN_OUTPUT:
        text = text[:MAX_SHOWN_OUTPUT] + f"\n… {len(text) - MAX_SHOWN_OUTPUT:,} more characters in the saved run"
    style = f" style='color:{color}'" if color else ""
    return f"<pre{style}>{html.escape(text)}</pre>"


class TranscriptView(QWidget):
    """A scrolling run transcript with its banner, badges and token meter."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("transcript_title")
        self.title.setStyleSheet("font-weight: 600;")
        self.banner = QLabel()
        self.banner.setObjectName("routing_banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(f"background:{_BAD}; color:white; padding:6px 8px; border-radius:4px;"
                                  "font-weight:600;")
        self.exposed_badge = QLabel("⚠ secret exposed")
        self.exposed_badge.setObjectName("exposed_badge")
        self.exposed_badge.setToolTip("A secret's raw value was handed to the tool (not a placeholder); "
                                      "the tool could have printed or sent it anywhere.")
        self.exposed_badge.setStyleSheet("background:#ef6c00; color:white; padding:2px 8px; border-radius:8px;")
        self.meter = QLabel()
        self.meter.setObjectName("token_meter")
        self.meter.setToolTip("API usage summed over the run; context = the size of the next request "
                              "(API usage where present, tiktoken estimate otherwise).")
        self.status = QLabel()
        self.status.setObjectName("transcript_status")
        self.body = QTextBrowser()
        self.body.setObjectName("transcript_body")
        self.body.setOpenLinks(False)
        self.body.document().setDefaultStyleSheet(
            "pre { font-family: monospace; margin: 2px 0 2px 12px; white-space: pre-wrap; }")

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.exposed_badge)
        head.addStretch(1)
        head.addWidget(self.meter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.banner)
        lay.addWidget(self.body, 1)
        lay.addWidget(self.status)
        self.kinds: list[str] = []  # what was appended, in order (message, shell_call, output, compaction…)
        self.clear_view(title)

    # ------------------------------------------------------------------ state

    def clear_view(self, title: str | None = None) -> None:
        if title is not None:
            self.title.setText(title)
        self.body.clear()
        self.kinds = []
        self._blocks: list[str] = []
        self.banner.hide()
        self.banner.clear()
        self.exposed_badge.hide()
        self.meter.setText("Tokens: –")
        self.status.setText("")
        self._compactions = 0

    def set_exposed(self, exposed: bool) -> None:
        self.exposed_badge.setVisible(exposed)

    def show_violation(self, message: str) -> None:
        current = self.banner.text()
        if message and message not in current:
            self.banner.setText((current + "\n" if current else "") + f"Routing violation: {message}")
        self.banner.show()

    def plain_text(self) -> str:
        return self.body.toPlainText()

    def _append(self, kind: str, markup: str) -> None:
        """Add one block. The document is re-set from the blocks: QTextEdit.append would carry the
        previous <pre>'s format into every later block."""
        self.kinds.append(kind)
        self._blocks.append(markup)
        bar = self.body.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.body.setHtml("".join(self._blocks))
        if at_end:
            bar.setValue(bar.maximum())

    # ------------------------------------------------------------------ events

    def add_event(self, event: dict[str, Any]) -> None:
        """Show one loop event (live or replayed); unknown kinds are ignored."""
        kind = event.get("kind")
        if kind == "item":
            self._item(event.get("item") or {})
        elif kind == "compaction":
            self._compactions += 1
            self._append("compaction",
                         f"<p style='color:{_ACCENT}'>⟲ <b>Compaction</b> ({html.escape(str(event.get('strategy')))}):"
                         f" {int(event.get('before_tokens') or 0):,} → {int(event.get('after_tokens') or 0):,} tokens"
                         f" — {int(event.get('dropped_items') or 0)} item(s) summarised</p>")
        elif kind == "routing_violation":
            self.show_violation(str(event.get("message") or ""))
        elif kind == "usage":
            self._meter(event.get("total") or {}, event.get("context_tokens"), event.get("context_source"))
        elif kind == "request":
            self.status.setText(f"Waiting for the model (turn {event.get('turn')})…")
        elif kind == "skill_loaded":
            self.status.setText(f"Loaded skill {event.get('skill')}")
        elif kind == "finished":
            self._finished(event)

    def _meter(self, total: dict[str, Any], context: Any = None, source: Any = None) -> None:
        i, o = int(total.get("input_tokens") or 0), int(total.get("output_tokens") or 0)
        text = f"Tokens: {i:,} in · {o:,} out"
        if context is not None:
            text += f" · context {int(context):,} ({source or 'estimate'})"
        if self._compactions:
            text += f" · {self._compactions} compaction(s)"
        self.meter.setText(text)

    def _card(self, inner: str) -> str:
        shade = self.palette().alternateBase().color().name()
        return (f"<table width='100%' cellpadding='6' cellspacing='0' style='margin-top:6px; background:{shade}'>"
                f"<tr><td>{inner}</td></tr></table>")

    def _item(self, item: dict[str, Any]) -> None:
        t = item.get("type")
        if t == "message":
            who = "Model (commentary)" if item.get("phase") == "commentary" else "Model"
            self._append("message", f"<p style='margin-top:10px'><b>{who}</b></p>"
                                    f"<p style='white-space:pre-wrap'>{html.escape(str(item.get('text') or ''))}</p>")
        elif t == "shell_call":
            where = "hosted container" if item.get("remote") else "sandbox"
            extra = []
            if item.get("timeout_ms"):
                extra.append(f"timeout {int(item['timeout_ms']) / 1000:g}s")
            if item.get("skills"):
                extra.append("skills: " + ", ".join(item["skills"]))
            note = f" <span style='color:{_MUTED}'>({html.escape('; '.join(extra))})</span>" if extra else ""
            cmds = "\n".join(f"$ {c}" for c in item.get("commands") or [])
            self._append("shell_call", self._card(f"<b>Shell call</b> in the {where}{note}{_pre(cmds, _ACCENT)}"))
        elif t == "shell_call_output":
            code, timed_out = item.get("exit_code"), bool(item.get("timed_out"))
            ok = code == 0 and not timed_out
            label = "timed out" if timed_out else f"exit {code}"
            if item.get("truncated"):
                label += " · output truncated"
            parts = [f"<span style='color:{_OK if ok else _BAD}'><b>{html.escape(label)}</b></span>"]
            if item.get("stdout"):
                parts.append(_pre(str(item["stdout"]).rstrip("\n")))
            if item.get("stderr"):
                parts.append(_pre(str(item["stderr"]).rstrip("\n"), _BAD))
            self._append("output", self._card("".join(parts)))

    def _finished(self, event: dict[str, Any]) -> None:
        for v in event.get("violations") or []:
            self.show_violation(str(v))
        outcome = str(event.get("outcome") or "")
        reason = str(event.get("reason") or "")
        if event.get("usage"):
            self._meter(event["usage"])
        color = _OK if outcome == "completed" else _BAD
        self.status.setText(f"Finished: {outcome}" + (f" — {reason}" if reason else ""))
        self._append("finished", f"<p style='color:{color}'><b>Run {html.escape(outcome)}</b>"
                                 f"{(' — ' + html.escape(reason)) if reason else ''}</p>")

    # ------------------------------------------------------------------ saved runs

    def show_doc(self, doc: dict[str, Any], upto: int | None = None) -> list[dict[str, Any]]:
        """Show a saved transcript up to step `upto` (all when None); returns its steps."""
        steps = replay_steps(doc)
        self.clear_view(f"Run {doc.get('run_id', '')} · {doc.get('model', '')} · {doc.get('mode', '')}")
        self.set_exposed(bool(doc.get("secret_exposed")))
        self._append("prompt", f"<p><b>Prompt</b></p><p style='white-space:pre-wrap'>"
                               f"{html.escape(str(doc.get('prompt') or ''))}</p>")
        for step in steps[: len(steps) if upto is None else upto]:
            self.add_event(step)
        return steps
