"""Signed export (Qt-free): bundles, keys, signatures, registries, lockfile.

pack / unpack   deterministic zip out; safe, all-or-nothing import in
crypto / keys   Ed25519 / ECDSA P-256; private keys only in the OS keyring
dsse / attest   DSSE envelope around an in-toto Statement v1 about the zip
trust           per-workspace trusted keys, roles and signing policy
registry / oci  OCI registry client; bundle + signature referrer push/pull/approve/copy
layout          OCI image-layout folder target (offline, copyable to any registry)
openai_skills   OpenAI Skills API target
lockfile        skills.lock and routes.yaml
leaks           secret values an export must not contain
"""
