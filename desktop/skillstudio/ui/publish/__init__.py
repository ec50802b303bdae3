"""Publish: signed export, the registry browser, the trust store and the lockfile."""
