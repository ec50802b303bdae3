"""Packaging: the wheel carries the resources and examples (and no workspace state); the Linux metadata,
icons and release notes are consistent. Fast: builds the wheel, installs nothing."""

from __future__ import annotations

import configparser
import importlib.util
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from skillstudio import __version__

REPO = Path(__file__).resolve().parent.parent
PKG = REPO / "packaging"
APP_ID = "dev.skillstudio.SkillStudio"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "-w", str(out), "--no-deps", "-q",
                           "--no-build-isolation"], capture_output=True, text=True, timeout=240)
    if proc.returncode != 0 and "hatchling" in proc.stderr:  # hatchling not in this venv: isolated build
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "-w", str(out), "--no-deps", "-q"],
                              capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    (whl,) = out.glob("skillstudio-*.whl")
    return whl


def test_wheel_ships_resources_examples_and_the_console_scripts(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = zf.read(f"skillstudio-{__version__}.dist-info/entry_points.txt").decode()
    assert wheel.name.startswith(f"skillstudio-{__version__}-")
    for rel in ("skillstudio/_resources/icons/skillstudio.svg", "skillstudio/_resources/docs/user-guide.md",
                "skillstudio/_resources/themes/light.qss", "skillstudio/cli/main.py", "skillstudio/diagnostics.py"):
        assert rel in names, rel
    for skill in sorted(p.name for p in (REPO / "skills").iterdir() if (p / "SKILL.md").is_file()):
        assert f"skillstudio/_examples/{skill}/SKILL.md" in names
        assert f"skillstudio/_examples/{skill}/evals/triggers.yaml" in names
    assert "skillstudio = skillstudio.cli.main:main" in entry_points
    assert "skillstudio-gui = skillstudio.cli.main:gui_main" in entry_points
    leaked = [n for n in names if "/.skillstudio/" in n or "__pycache__" in n or n.startswith(("tests/", "desktop/"))]
    assert not leaked, f"workspace state or build junk in the wheel: {leaked[:5]}"


def test_desktop_file_and_metainfo_agree(tmp_path: Path) -> None:
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str  # type: ignore[assignment,method-assign]
    desktop.read(PKG / "linux" / f"{APP_ID}.desktop", encoding="utf-8")
    entry = desktop["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "skillstudio" and entry["Categories"].endswith(";")
    meta = ET.parse(PKG / "linux" / f"{APP_ID}.metainfo.xml").getroot()
    assert meta.findtext("id") == APP_ID
    assert meta.findtext("launchable") == f"{APP_ID}.desktop"
    shots = [img.text or "" for img in meta.iter("image")]
    assert shots and all((PKG / "screenshots" / Path(s).name).is_file() for s in shots)
    assert __version__ in [r.get("version") for r in meta.iter("release")]
    tool = shutil.which("appstreamcli")
    if tool:  # the real validator where it is installed (it is on the CI image)
        proc = subprocess.run([tool, "validate", "--no-net", str(PKG / "linux" / f"{APP_ID}.metainfo.xml")],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_icons_are_rendered_in_every_size() -> None:
    from struct import unpack

    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        data = (PKG / "icons" / f"skillstudio-{size}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert unpack(">II", data[16:24]) == (size, size)
    ico = (PKG / "icons" / "skillstudio.ico").read_bytes()
    reserved, kind, count = unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 6


def _release_notes():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("release_notes", PKG / "release_notes.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["release_notes"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_release_notes_come_from_the_changelogs(tmp_path: Path, capsys) -> None:
    rn = _release_notes()
    log = tmp_path / "CHANGELOG.md"
    log.write_text("# Changelog\n\n## [Unreleased]\n\n## [2.0.0] - 2026-12-01\n\n### Fixed\n- A crash when\n"
                   "  saving.\n\n### Added\n- A <thing> & more.\n\n## [1.0.0] - 2026-01-01\n\n- First.\n",
                   encoding="utf-8")
    skills = tmp_path / "skills"
    (skills / "demo").mkdir(parents=True)
    (skills / "demo" / "CHANGELOG.md").write_text("## [1.2.0] - 2026-11-30\n### Added\n- Demo step.\n",
                                                  encoding="utf-8")
    assert rn.main(["--changelog", str(log), "--skills", str(skills)]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Skill Studio 2.0.0 (2026-12-01)")
    assert "- A crash when saving." in md and "## Added" in md and "**demo** 1.2.0: Demo step." in md
    assert rn.main(["--changelog", str(log), "--version", "1.0.0", "--format", "appstream"]) == 0
    xml = capsys.readouterr().out
    assert ET.fromstring(xml).get("version") == "1.0.0" and "<li>First.</li>" in xml
    assert rn.main(["--changelog", str(log), "--version", "2.0.0", "--format", "appstream"]) == 0
    assert "A &lt;thing&gt; &amp; more." in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no entry for 9.9.9"):
        rn.main(["--changelog", str(log), "--version", "9.9.9"])
    assert rn.main(["--changelog", str(REPO / "CHANGELOG.md"), "--version", __version__]) == 0


def test_gui_smoke_test_flag_opens_and_closes_the_window(tmp_path: Path) -> None:
    """What `make package` runs on the frozen app, here on the source tree (a real process, offscreen)."""
    import os

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SKILLSTUDIO_CONFIG_DIR": str(tmp_path / "c"),
           "SKILLSTUDIO_DATA_DIR": str(tmp_path / "d"), "SKILLSTUDIO_CACHE_DIR": str(tmp_path / "k")}
    proc = subprocess.run([sys.executable, "-m", "skillstudio", "gui", "--smoke-test"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    n = sum(1 for p in (REPO / "skills").iterdir() if (p / "SKILL.md").is_file())
    assert f"window painted, {n} skills loaded" in proc.stdout
    assert not any((REPO / "skills").glob("*/.skillstudio/recovery*"))  # it worked on a copy
    bad = subprocess.run([sys.executable, "-m", "skillstudio", "gui", "--smoke-test", str(tmp_path / "missing")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "is not a folder" in bad.stderr and "Traceback" not in bad.stderr
