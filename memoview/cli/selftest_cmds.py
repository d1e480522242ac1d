"""`memoview selftest`: does this installation work? (demo case in the window, one attempt, one exhibit)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "selftest", help="check this installation: open the demo case in the window, run one attempt with the "
                         "demo model, export an exhibit (needs the demo model)")
    p.add_argument("--case", help="where to create the self-test case (default: a temporary folder)")
    p.add_argument("-o", "--output", help="where to write the exhibit (default: next to the case)")
    p.add_argument("--screenshot", help="save a PNG of the window at the end")
    p.set_defaults(handler=cmd_selftest)


def cmd_selftest(args: argparse.Namespace) -> int:
    from memoview.cli.app_cmds import ensure_display

    folder = Path(tempfile.mkdtemp(prefix="memoview-selftest-")) if not args.case else Path(args.case).parent
    case = Path(args.case) if args.case else folder / "selftest.memoview"
    output = Path(args.output) if args.output else case.with_suffix(".pdf")
    ensure_display()
    from memoview.gui.selftest import run_selftest

    return run_selftest(case, output, Path(args.screenshot) if args.screenshot else None)
