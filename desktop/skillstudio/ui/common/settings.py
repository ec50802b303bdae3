"""The app's persistent settings: an INI file under userdirs.config_dir() (never the registry/home).

Secrets never go here: the API key lives in the OS keyring (see settings_dialog.py).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from skillstudio import userdirs
from skillstudio.openai_defaults import DEFAULT_MODEL

MAX_RECENT = 10


class AppSettings:
    def __init__(self) -> None:
        self.path = userdirs.config_dir() / "settings.ini"
        self.qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _str(self, key: str, default: str = "") -> str:
        value = self.qs.value(key, default)
        return str(value) if value is not None else default

    @property
    def theme(self) -> str:
        return self._str("ui/theme", "light")

    @theme.setter
    def theme(self, value: str) -> None:
        self.qs.setValue("ui/theme", value)

    @property
    def model(self) -> str:
        return self._str("model/name", DEFAULT_MODEL)

    @model.setter
    def model(self, value: str) -> None:
        self.qs.setValue("model/name", value)

    @property
    def base_url(self) -> str:
        return self._str("model/base_url", "")

    @base_url.setter
    def base_url(self, value: str) -> None:
        self.qs.setValue("model/base_url", value)

    @property
    def provider(self) -> str:
        """The provider new runs start with: 'offline', 'responses' or 'chat' ('' = decide from the key)."""
        return self._str("model/provider", "")

    @provider.setter
    def provider(self, value: str) -> None:
        self.qs.setValue("model/provider", value)

    @property
    def proxy(self) -> str:
        """HTTP(S) proxy for model requests ('' = the environment's)."""
        return self._str("network/proxy", "")

    @proxy.setter
    def proxy(self, value: str) -> None:
        self.qs.setValue("network/proxy", value)

    @property
    def no_proxy(self) -> str:
        return self._str("network/no_proxy", "localhost,127.0.0.1,::1")

    @no_proxy.setter
    def no_proxy(self, value: str) -> None:
        self.qs.setValue("network/no_proxy", value)

    def recent_workspaces(self) -> list[Path]:
        raw = self.qs.value("workspaces/recent", [])
        items = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple)) else []
        return [Path(p) for p in items if p]

    def add_recent_workspace(self, path: Path) -> None:
        path = Path(path).resolve()
        items = [p for p in self.recent_workspaces() if p != path]
        items.insert(0, path)
        self.qs.setValue("workspaces/recent", [str(p) for p in items[:MAX_RECENT]])
        self.qs.setValue("workspaces/last", str(path))

    def last_workspace(self) -> Path | None:
        value = self._str("workspaces/last", "")
        return Path(value) if value else None

    def value(self, key: str, default: object = None) -> object:
        return self.qs.value(key, default)

    def set_value(self, key: str, value: object) -> None:
        self.qs.setValue(key, value)

    def sync(self) -> None:
        self.qs.sync()
