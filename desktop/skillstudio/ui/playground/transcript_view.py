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

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

LIVE_KINDS = {"text_delta": "Model is writing…", "command_delta": "Model is writing a shell call…",
              "output_delta": "Running…"}
MAX_SHOWN_OUTPUT = 6000  # characters of one output shown inline (the saved transcript keeps all)

OUTCOME_WORDS = {"completed": "completed", "cancelled": "stopped", "limit": "stopped at a limit",
                 "limit_cost": "stopped at the cost limit",
                 "error": "failed", "routing_violation": "failed: routing violation"}
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
        self.redacted_badge = QLabel()
        self.redacted_badge.setObjectName("redacted_badge")
        self.redacted_badge.setToolTip("The tool printed a secret's value; it was replaced by its name in the "
                                       "transcript, the model's input and the saved run.")
        self.redacted_badge.setStyleSheet("background:#6d4c41; color:white; padding:2px 8px; border-radius:8px;")
        self.meter = QLabel()
        self.meter.setObjectName("token_meter")
        self.meter.setToolTip("API usage summed over the run; context = the size of the next request "
                              "(API usage where present, tiktoken estimate otherwise).")
        self.status = QLabel()
        self.status.setObjectName("transcript_status")
        self.body = QTextBrowser()
        self.body.setObjectName("transcript_body")
        self.body.setOpenLinks(False)
        # the theme makes every text edit monospace; prose reads better in the UI font (commands stay mono)
        self.body.setStyleSheet('QTextBrowser#transcript_body { font-family: "Inter", "Noto Sans", "DejaVu Sans", '
                                '"Segoe UI", sans-serif; }')
        self.body.document().setDefaultStyleSheet(
            "pre { font-family: monospace; margin: 2px 0 2px 12px; white-space: pre-wrap; }")

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.exposed_badge)
        head.addWidget(self.redacted_badge)
        head.addStretch(1)
        head.addWidget(self.meter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.banner)
        lay.addWidget(self.body, 1)
        lay.addWidget(self.status)
        self._live_title, self._live = "", ""  # the step in progress (streamed deltas) until its item lands
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(100)  # deltas can come per character: repaint at most 10× a second
        self._render_timer.timeout.connect(self._render)
        self.live = True  # False while replaying a saved run (no "running…" indicators)
        self.hosted = False  # a hosted run: its calls run in OpenAI's container, not in our sandbox
        self.kinds: list[str] = []  # what was appended, in order (message, shell_call, output, compaction…)
        self.clear_view(title)

    # ------------------------------------------------------------------ state

    def clear_view(self, title: str | None = None) -> None:
        if title is not None:
            self.title.setText(title)
        self.body.clear()
        self.kinds = []
        self._blocks: list[str] = []
        self._live_title, self._live = "", ""
        self.banner.hide()
        self.banner.clear()
        self.exposed_badge.hide()
        self.redacted_badge.hide()
        self.meter.setText("Tokens: –")
        self.status.setText("")
        self._compactions = 0

    def set_exposed(self, exposed: bool) -> None:
        self.exposed_badge.setVisible(exposed)

    def set_redacted(self, names: list[str]) -> None:
        self.redacted_badge.setText("secret in output, redacted: " + ", ".join(names))
        self.redacted_badge.setVisible(bool(names))

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
        self._live_title, self._live = "", ""
        self._render()

    @Slot()
    def _render(self) -> None:
        self._render_timer.stop()
        bar = self.body.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        live = ""
        if self._live_title:
            live = self._card(f"<i style='color:{_MUTED}'>{html.escape(self._live_title)}</i>"
                              + (_pre(self._live[-MAX_SHOWN_OUTPUT:]) if self._live else ""))
        self.body.setHtml("".join(self._blocks) + live)
        if at_end:
            bar.setValue(bar.maximum())

    def live_text(self) -> str:
        return self._live

    # ------------------------------------------------------------------ events

    def add_event(self, event: dict[str, Any]) -> None:
        """Show one loop event (live or replayed); unknown kinds are ignored."""
        kind = str(event.get("kind"))
        if kind in LIVE_KINDS:
            title = LIVE_KINDS[kind]
            if title != self._live_title:
                self._live_title, self._live = title, ""
            self._live += str(event.get("delta") or event.get("text") or "")
            if not self._render_timer.isActive():
                self._render_timer.start()
        elif kind == "item":
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
        elif kind == "request" and self.live:
            self.status.setText(f"Waiting for the model (turn {event.get('turn')})…")
            self._live_title, self._live = "Waiting for the model…", ""
            self._render()
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
            where = "hosted container" if item.get("remote") or self.hosted else "sandbox"
            extra = []
            if item.get("timeout_ms"):
                extra.append(f"timeout {int(item['timeout_ms']) / 1000:g}s")
            if item.get("skills"):
                extra.append("skills: " + ", ".join(item["skills"]))
            note = f" <span style='color:{_MUTED}'>({html.escape('; '.join(extra))})</span>" if extra else ""
            cmds = "\n".join(f"$ {c}" for c in item.get("commands") or [])
            self._append("shell_call", self._card(f"<b>Shell call</b> in the {where}{note}{_pre(cmds, _ACCENT)}"))
            if where == "sandbox" and self.live:
                self.status.setText("Running the shell call in the sandbox…")
                self._live_title = LIVE_KINDS["output_delta"]
                self._render()
        elif t == "shell_call_output":
            code, timed_out = item.get("exit_code"), bool(item.get("timed_out"))
            ok = code == 0 and not timed_out
            label = "timed out" if timed_out else f"exit {code}" + (" (killed)" if code == 137 else "")
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
        if outcome == "routing_violation" and self.kinds and self.kinds[-1] == "shell_call":
            self._append("blocked", self._card(f"<span style='color:{_BAD}'><b>Not run</b> — the call reaches "
                                               "outside the pinned skill</span>"))
        color = _OK if outcome == "completed" else _BAD
        words = OUTCOME_WORDS.get(outcome, outcome)
        self.status.setText(f"Finished: {words}" + (f" — {reason}" if reason else ""))
        self._append("finished", f"<p style='color:{color}; margin-top:10px'><b>Run {html.escape(words)}</b>"
                                 f"{(' — ' + html.escape(reason)) if reason else ''}</p>")

    # ------------------------------------------------------------------ saved runs

    def show_doc(self, doc: dict[str, Any], upto: int | None = None) -> list[dict[str, Any]]:
        """Show a saved transcript up to step `upto` (all when None); returns its steps."""
        steps = replay_steps(doc)
        self.live = False
        self.clear_view(f"Run {doc.get('run_id', '')} · {doc.get('model', '')} · {doc.get('mode', '')}")
        self.set_exposed(bool(doc.get("secret_exposed")))
        self.hosted = doc.get("mode") == "hosted"
        self.set_redacted(list(doc.get("secrets_seen_in_output") or []))
        self._compactions = int(doc.get("compactions") or 0)
        self._meter(doc.get("usage") or {})
        self._append("prompt", f"<p><b>Prompt</b></p><p style='white-space:pre-wrap'>"
                               f"{html.escape(str(doc.get('prompt') or ''))}</p>")
        for step in steps[: len(steps) if upto is None else upto]:
            self.add_event(step)
        if self.kinds[-1] != "finished":
            self.status.setText(f"Replaying a saved run (outcome: {OUTCOME_WORDS.get(str(doc.get('outcome')), '?')})")
        return steps
