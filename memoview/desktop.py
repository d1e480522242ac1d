"""Desktop integration on Linux and other freedesktop.org systems (``memoview desktop-integration``).

One command installs, for the current user: the launcher (``.desktop`` entry)
whose ``Exec`` is this installation's own ``memoview`` (a venv, pipx, or a
bundle), the ``application/x-memoview-case`` MIME type for ``*.memoview``,
the app icon and the case-file icon, and memoview as the default application
for case files, so double-clicking a case opens it in memoview. Everything
goes under ``$XDG_DATA_HOME`` (default ``~/.local/share``) and
``$XDG_CONFIG_HOME/mimeapps.list`` (default ``~/.config``), so tests and
packagers can point it elsewhere. ``uninstall`` removes exactly what
``install`` wrote. No Qt here: the CLI runs it headless.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from memoview.paths import resource

DESKTOP_ID = "memoview.desktop"
MIME_TYPE = "application/x-memoview-case"
MIME_ICON = "application-x-memoview-case"


@dataclass
class IntegrationReport:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    exec_line: str = ""
    notes: list[str] = field(default_factory=list)


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME")
    return Path(value) if value else Path.home() / ".local" / "share"


def config_home() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME")
    return Path(value) if value else Path.home() / ".config"


def launcher_command() -> list[str]:
    """The command that starts *this* memoview: the bundle's executable, the venv's script, or python -m."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    script = Path(sys.executable).parent / ("memoview.exe" if os.name == "nt" else "memoview")
    if script.is_file():
        return [str(script)]
    return [str(Path(sys.executable)), "-m", "memoview"]


def _desktop_quote(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry spec requires (double quotes, escaped \\ " ` $)."""
    if arg and all(c.isalnum() or c in "/._-+=:," for c in arg):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def desktop_entry(command: Optional[list[str]] = None) -> tuple[str, str]:
    """The launcher's text with Exec/TryExec pointing at this installation; returns (text, exec line)."""
    cmd = command or launcher_command()
    exec_line = " ".join(_desktop_quote(a) for a in [*cmd, "gui"]) + " %f"
    out = []
    for line in resource("desktop", DESKTOP_ID).read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            line = f"TryExec={cmd[0]}"
        out.append(line)
    return "\n".join(out) + "\n", exec_line


def _targets() -> dict[str, Path]:
    home = data_home()
    return {
        "desktop": home / "applications" / DESKTOP_ID,
        "mime": home / "mime" / "packages" / "memoview.xml",
        "icon": home / "icons" / "hicolor" / "scalable" / "apps" / "memoview.svg",
        "mime_icon": home / "icons" / "hicolor" / "scalable" / "mimetypes" / f"{MIME_ICON}.svg",
    }


def _run_quietly(cmd: list[str], report: IntegrationReport) -> None:
    """Refresh a desktop database if the tool exists; the files work without it after the next login."""
    if shutil.which(cmd[0]) is None:
        report.notes.append(f"{cmd[0]} is not installed; the desktop picks the changes up at the next login")
        return
    try:
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        report.notes.append(f"{cmd[0]} failed: {exc}")


def _set_default_app(report: IntegrationReport, remove: bool = False) -> None:
    """memoview as the default application for case files, in $XDG_CONFIG_HOME/mimeapps.list."""
    path = config_home() / "mimeapps.list"
    parser = configparser.RawConfigParser(delimiters=("=",), strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive MIME types
    if path.exists():
        parser.read(path, encoding="utf-8")
    section = "Default Applications"
    if remove:
        if parser.has_option(section, MIME_TYPE) and parser.get(section, MIME_TYPE) == DESKTOP_ID:
            parser.remove_option(section, MIME_TYPE)
        else:
            return
    else:
        if not parser.has_section(section):
            parser.add_section(section)
        parser.set(section, MIME_TYPE, DESKTOP_ID)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        parser.write(handle, space_around_delimiters=False)
    (report.removed if remove else report.written).append(path)


def install(command: Optional[list[str]] = None) -> IntegrationReport:
    """Install launcher, MIME type, icons and the default-application entry for the current user."""
    report = IntegrationReport()
    targets = _targets()
    text, report.exec_line = desktop_entry(command)
    for key, content in (("desktop", text),
                         ("mime", resource("desktop", "memoview-mime.xml").read_text(encoding="utf-8"))):
        targets[key].parent.mkdir(parents=True, exist_ok=True)
        targets[key].write_text(content, encoding="utf-8")
        report.written.append(targets[key])
    svg = resource("icons", "memoview.svg")
    for key in ("icon", "mime_icon"):
        targets[key].parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(svg, targets[key])
        report.written.append(targets[key])
    _set_default_app(report)
    _run_quietly(["update-mime-database", str(data_home() / "mime")], report)
    _run_quietly(["update-desktop-database", str(data_home() / "applications")], report)
    return report


def uninstall() -> IntegrationReport:
    """Remove what :func:`install` wrote (other applications' entries are left alone)."""
    report = IntegrationReport()
    for path in _targets().values():
        if path.exists():
            path.unlink()
            report.removed.append(path)
    _set_default_app(report, remove=True)
    if (data_home() / "mime").is_dir():
        _run_quietly(["update-mime-database", str(data_home() / "mime")], report)
    return report


__all__ = ["DESKTOP_ID", "MIME_TYPE", "IntegrationReport", "desktop_entry", "install", "launcher_command",
           "uninstall"]
