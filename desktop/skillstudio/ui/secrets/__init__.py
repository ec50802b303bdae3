"""The Secrets manager: the keyring's secrets, their domains and placeholders (values write-only)."""
