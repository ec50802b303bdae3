"""Hostile tests: a hosted run sends secret values to the provider, so only to OpenAI or a host the user trusts.

The real HostedProvider with a real openai client (nothing is sent: the refusal comes first) and
the real end-to-end path against the suite's scripted Responses server on loopback.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from skillstudio.agent import compaction as cp
from skillstudio.agent.hosted import HostedProvider, check_secret_destination, network_policy
from skillstudio.errors import SkillStudioError
from skillstudio.secrets import trust
from skillstudio.secrets.model import SecretMeta
from skillstudio.secrets.placeholders import SecretSession
from support.leaks import register_test_secret

VALUE = register_test_secret("hosted-trust-VALUE-271828")


def _tool(with_secret: bool) -> dict[str, Any]:
    meta = SecretMeta("BANK", ["api.bank.example.com"])
    session = SecretSession.from_values([(meta, VALUE)]) if with_secret else None
    return {"type": "shell", "environment": {"type": "container_auto", "skills": [],
                                             "network_policy": network_policy(["api.bank.example.com"], session)}}


def _provider(base_url: str, with_secret: bool = True) -> HostedProvider:
    client = openai.OpenAI(api_key="sk-test-not-used", base_url=base_url)
    return HostedProvider(client, "gpt-test", "hi", _tool(with_secret), None, cp.CompactionSettings())


@pytest.mark.parametrize("base_url", ["https://api.openai.com/v1", "https://eu.api.openai.com/v1"])
def test_openai_gets_secrets(base_url: str) -> None:
    _provider(base_url).close()


@pytest.mark.parametrize("base_url", ["https://llm.example.com/v1", "https://api.openai.com.evil.example/v1",
                                      "https://evilapi.openai.com.example/v1", "http://127.0.0.1:9/v1"])
def test_untrusted_providers_are_refused_before_anything_is_sent(base_url: str) -> None:
    with pytest.raises(SkillStudioError) as err:
        _provider(base_url)
    assert "not trusted with secrets" in err.value.message and "skillstudio trust host" in err.value.hint
    assert VALUE not in str(err.value)
    _provider(base_url, with_secret=False).close()  # without secrets any provider is fine


def test_trusted_hosts_need_tls_except_on_loopback() -> None:
    with pytest.raises(SkillStudioError, match="not trusted"):
        check_secret_destination("https://llm.example.com/v1")
    trust.trust_secret_host("llm.example.com")
    trust.trust_secret_host("127.0.0.1")
    check_secret_destination("https://llm.example.com/v1")
    check_secret_destination("http://127.0.0.1:8000/v1")
    with pytest.raises(SkillStudioError, match="without TLS"):
        check_secret_destination("http://llm.example.com/v1")
    with pytest.raises(SkillStudioError, match="without TLS"):
        check_secret_destination("http://api.openai.com/v1")
    trust.trust_secret_host("llm.example.com", trusted=False)
    with pytest.raises(SkillStudioError, match="not trusted"):
        check_secret_destination("https://llm.example.com/v1")
