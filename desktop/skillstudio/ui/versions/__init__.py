"""Versions of a skill: git history, diffs and the version bump (release)."""
