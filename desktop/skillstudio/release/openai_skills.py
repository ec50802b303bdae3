"""Publishing a signed bundle to the OpenAI Skills API (`openai:` targets).

A skill with the same name gets a new version (made the default); otherwise the skill is created
from the zip. We use the SDK's `client.skills` resources so the wire format is the SDK's own.
The API key comes from OPENAI_API_KEY, else the OS keyring entry the app's settings write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstudio.errors import EnvironmentProblem, SkillStudioError


@dataclass(frozen=True)
class Published:
    skill_id: str
    version: str
    created: bool


def api_key() -> str:
    from skillstudio import openai_defaults

    key = openai_defaults.api_key()  # the one lookup: OPENAI_API_KEY wins, else the app's keyring entry
    if not key:
        raise EnvironmentProblem("no OpenAI API key", "set OPENAI_API_KEY or store a key in the app's settings")
    return key


def client(base_url: str | None = None) -> Any:
    import openai

    return openai.OpenAI(api_key=api_key(), base_url=base_url or os.environ.get("OPENAI_BASE_URL") or None,
                         max_retries=0, timeout=120)


def _call(fn: Any, *args: Any, **kw: Any) -> Any:
    import openai

    try:
        return fn(*args, **kw)
    except openai.AuthenticationError:
        raise EnvironmentProblem("the OpenAI API rejected the API key", "check OPENAI_API_KEY") from None
    except openai.APIConnectionError as exc:
        raise EnvironmentProblem(f"cannot reach the OpenAI API ({exc})", "check the base URL and your network",
                                 setting="base-url") from None
    except openai.APIStatusError as exc:
        raise SkillStudioError(f"the Skills API answered {exc.status_code}: {exc.message}",
                               "check the bundle (run `skillstudio validate`)") from None


def find_skill(c: Any, name: str) -> Any | None:
    page = _call(c.skills.list, limit=100)
    for s in page.auto_paging_iter() if hasattr(page, "auto_paging_iter") else page:
        if s.name == name:
            return s
    return None


def push_zip(zip_path: Path, name: str, *, base_url: str | None = None, target: str = "openai:") -> Published:
    """Create the skill (or a new default version of it) from the zip."""
    c = client(base_url)
    wanted_id = target.removeprefix("openai:").strip() or None
    data = Path(zip_path).read_bytes()
    upload = (f"{name}.zip", data, "application/zip")
    existing = _call(c.skills.retrieve, wanted_id) if wanted_id else find_skill(c, name)
    if existing is None:
        s = _call(c.skills.create, files=upload)
        return Published(s.id, str(s.latest_version or s.default_version), True)
    v = _call(c.skills.versions.create, existing.id, files=upload, default=True)
    return Published(existing.id, str(v.version), False)


@dataclass(frozen=True)
class RemoteSkill:
    skill_id: str
    name: str
    default_version: str
    latest_version: str


def list_skills(*, base_url: str | None = None) -> list[RemoteSkill]:
    c = client(base_url)
    page = _call(c.skills.list, limit=100)
    return [RemoteSkill(s.id, s.name, str(s.default_version), str(s.latest_version))
            for s in (page.auto_paging_iter() if hasattr(page, "auto_paging_iter") else page)]


def retrieve(skill_id: str, *, base_url: str | None = None) -> RemoteSkill:
    s = _call(client(base_url).skills.retrieve, skill_id)
    return RemoteSkill(s.id, s.name, str(s.default_version), str(s.latest_version))


def set_default_version(skill_id: str, version: str, *, base_url: str | None = None) -> RemoteSkill:
    s = _call(client(base_url).skills.update, skill_id, default_version=version)
    return RemoteSkill(s.id, s.name, str(s.default_version), str(s.latest_version))


def delete(skill_id: str, *, base_url: str | None = None) -> bool:
    return bool(_call(client(base_url).skills.delete, skill_id).deleted)
