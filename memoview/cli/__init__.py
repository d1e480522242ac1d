"""Command-line entry point.

``memoview`` alone opens the GUI; ``memoview demo`` opens the demo case;
every other subcommand runs headless. Subcommands live in small modules,
one per area, each exposing ``register(subparsers)``; handlers return an
exit code. Errors from the core are printed as message + hint, never as a
traceback: :mod:`memoview.cli.errors` is the one error printer, and an
unexpected fault prints one line plus the path of the error log that holds
its details (exit code 70).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from memoview.core.errors import MemoviewError
from memoview.cli.errors import install_hooks, print_error, print_unexpected

# Each module registers its own subcommands; order is the order in --help.
COMMAND_MODULES = (
    "memoview.cli.app_cmds",
    "memoview.cli.case_cmds",
    "memoview.cli.document_cmds",
    "memoview.cli.model_cmds",
    "memoview.cli.extraction_cmds",
    "memoview.cli.attempt_cmds",
    "memoview.cli.engine_cmds",
    "memoview.cli.alignment_cmds",
    "memoview.cli.export_cmds",
    "memoview.cli.server_cmds",
    "memoview.cli.findings_cmds",
    "memoview.cli.desktop_cmds",
    "memoview.cli.selftest_cmds",
)


class _VersionAction(argparse.Action):
    """``--version``: memoview's version on the first line, then platform and library versions (metadata only)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: Optional[str] = None) -> None:
        from memoview.support import version_report

        try:
            print(version_report())
        except BrokenPipeError:  # `memoview --version | head -1`
            pass
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memoview",
        description="Evidence explorer for memorization in language models. "
        "Run without a command to open the desktop app.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="show the version, platform and engine libraries, and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    if argv is None:  # run as the program (not called from a test): errors anywhere go to the one printer
        install_hooks()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0].startswith("--case"):
        from memoview.cli.app_cmds import open_gui

        return open_gui(args_list)
    parser = build_parser()
    args = parser.parse_args(args_list)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except MemoviewError as exc:
        return print_error(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `memoview ... | head`: the reader left; stop quietly like other Unix tools.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as exc:  # noqa: BLE001 - a fault in memoview: logged, one clear message, no traceback
        return print_unexpected(exc, where=f"'memoview {args.command}'")
