"""Secret values an export must not contain: everything in the user's and the workspace's vault.

Why here: `pack`/`push` refuse a bundle holding a stored secret's value (a key pasted into a
reference file is the classic leak). Values are read from the OS keyring only when a vault lists
secrets; a vault we cannot read stops the export rather than letting it pass unchecked.
"""

from __future__ import annotations

from pathlib import Path

from skillstudio.secrets.vault import Vault, metadata_path


def known_secret_values(skill_dir: Path | None = None) -> list[str]:
    vaults = [Vault()]
    if skill_dir is not None:
        ws = Path(skill_dir).resolve().parent
        if metadata_path(ws).exists():
            vaults.append(Vault(ws))
        if metadata_path(Path(skill_dir).resolve()).exists():
            vaults.append(Vault(Path(skill_dir).resolve()))
    values: set[str] = set()
    for v in vaults:
        if v.path.exists() and v.list():
            values.update(v.values().values())
    return sorted(values)
