"""`memoview desktop-integration install|uninstall`: launcher, *.memoview file type and icons (freedesktop)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "desktop-integration",
        help="add memoview to the desktop's applications menu and open *.memoview files with it (Linux)",
    )
    p.add_argument("action", choices=("install", "uninstall", "show"),
                   help="install or uninstall for the current user ($XDG_DATA_HOME, default ~/.local/share); "
                        "show prints the launcher that install would write")
    p.set_defaults(handler=cmd_desktop)


def cmd_desktop(args: argparse.Namespace) -> int:
    from memoview import desktop

    if args.action == "show":
        text, _ = desktop.desktop_entry()
        print(text, end="")
        return 0
    if sys.platform == "darwin" or sys.platform.startswith("win"):
        print("note: desktop-integration writes freedesktop.org files (Linux and BSD desktops); on macOS and "
              "Windows the app bundle's installer registers the file type.", file=sys.stderr)
    report = desktop.install() if args.action == "install" else desktop.uninstall()
    for path in report.written:
        print(f"wrote   {path}")
    for path in report.removed:
        print(f"removed {path}")
    for note in report.notes:
        print(f"note: {note}")
    if args.action == "install":
        print(f"launcher runs: {report.exec_line}")
        print("*.memoview files now open in memoview (log out and in if your file manager has not noticed yet).")
    return 0
