"""Providers and keys, decided once: one key lookup, no silent estimate, messages free of CLI flags."""

from __future__ import annotations

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.openai_defaults import DEFAULT_MODEL, api_key, store_api_key
from skillstudio.services.providers import (
    NoModelConfigured,
    ProviderChoice,
    ProviderKind,
    build_router,
    key_status,
    resolve,
)
from skillstudio.services.settings import InvalidSetting, RunOptions


def test_no_key_and_no_base_url_is_an_error_never_an_estimate() -> None:
    with pytest.raises(NoModelConfigured) as err:
        resolve(ProviderChoice())
    assert "--" not in str(err.value)  # app-neutral: the CLI adds its flags itself
    assert "offline estimate" in err.value.hint
    est = resolve(ProviderChoice(kind=ProviderKind.OFFLINE))
    assert est.is_estimate and build_router(est).is_estimate


def test_a_base_url_alone_is_enough_and_means_the_responses_api() -> None:
    r = resolve(ProviderChoice(base_url=" http://127.0.0.1:9/v1 ", model="llama3.1"))
    assert (r.kind, r.base_url, r.model, r.api_key) == (ProviderKind.RESPONSES, "http://127.0.0.1:9/v1", "llama3.1",
                                                        "no-key-needed")
    with pytest.raises(SkillStudioError, match="no model name"):
        resolve(ProviderChoice(base_url="http://127.0.0.1:9/v1", model=" "))


def test_chat_without_a_base_url_talks_to_openai_with_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    r = resolve(ProviderChoice(kind=ProviderKind.CHAT))
    assert (r.kind, r.base_url, r.model, r.api_key) == (ProviderKind.CHAT, None, DEFAULT_MODEL, "sk-env")
    assert "sk-env" not in repr(r)  # the key never shows in a repr or a log line


def test_the_environment_wins_over_the_keyring_entry(real_keyring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    store_api_key("sk-stored")
    try:
        assert api_key() == "sk-stored" and key_status().stored is True
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
        assert api_key() == "sk-env" and key_status().from_env
        monkeypatch.setenv("OPENAI_API_KEY", "  ")  # blank is unset
        assert api_key() == "sk-stored"
    finally:
        store_api_key(None)
    assert key_status().stored is False
    monkeypatch.delenv("OPENAI_API_KEY")
    assert api_key() is None


def test_run_options_speak_no_flags() -> None:
    for bad, setting in ((RunOptions(runs=0), "runs"), (RunOptions(concurrency=0), "concurrency"),
                         (RunOptions(threshold=0), "threshold"), (RunOptions(timeout_s=0), "timeout")):
        with pytest.raises(InvalidSetting) as err:
            bad.checked()
        assert err.value.setting == setting and not err.value.message.startswith("-")
    assert RunOptions(runs=1).run_settings().runs == 1
