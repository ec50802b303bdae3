"""Skill Studio: a local-first IDE for agent skills (author, trigger-test, sandbox, sign, ship)."""

__version__ = "0.1.0"
