"""Trigger testing: the cases editor, suite runs and their results, try a prompt, the optimizer."""
