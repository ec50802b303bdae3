"""Editing a skill: the SKILL.md editor tab, live checks, problems, token meter, new-skill wizard."""
