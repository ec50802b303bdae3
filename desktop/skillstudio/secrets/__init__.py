"""Secrets as placeholders (Qt-free).

- `vault`: values in the OS keyring only; names/bindings in `secrets.yaml` (workspace or user config).
- `placeholders`: per-run `ssph_…` placeholders and the `SecretSession` of one run.
- `substitute`: the pure per-request decision (substitute on bound hosts, refuse elsewhere).
- `tls_ca` / `intercept`: the local CA and the asyncio sidecar the egress proxy hands tunnels to.
- `redact` / `encodings`: `[secret:NAME]` redaction for every path out of a run (whole, streamed,
  logging), catching case, reversal, separators, slices of 8+ characters and the common encodings.
- `trust`: workspace trust — a workspace's bindings and sandbox policies apply only once approved.
"""
