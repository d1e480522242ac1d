"""`memoview` (the GUI) and `memoview demo`."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

from memoview.cli.progress import run_with_progress


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    gui = subparsers.add_parser("gui", help="open the desktop app (the default with no command)")
    gui.add_argument("case", nargs="?", help="a case file to open")
    gui.set_defaults(handler=lambda a: open_gui([a.case] if a.case else []))

    demo = subparsers.add_parser(
        "demo", help="create or reopen the demo case (demo model + demo corpus) and open it"
    )
    demo.add_argument("--case", help="where to keep the demo case (default: the user data folder)")
    demo.add_argument("--no-gui", action="store_true", help="prepare the case, print its path, and stop")
    demo.add_argument("--run", action="store_true",
                      help="also run the demo protocol (memoview/resources/demo/protocol.toml: opening continuations and "
                           "sweeps, controls included): in the window once the model is open, or with --no-gui "
                           "in the terminal; attempts already run are skipped")
    demo.set_defaults(handler=cmd_demo)


def ensure_display() -> None:
    """On a Linux machine without a screen, start a private virtual display (Xvfb).

    A server or CI machine has no display; rather than fail inside Qt with an
    obscure plugin error, memoview runs on Xvfb when it is installed and says so.
    """
    if not sys.platform.startswith("linux"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"):
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        print("error: no display is available (DISPLAY is not set) and Xvfb is not installed.", file=sys.stderr)
        print("hint: run memoview on a desktop, install Xvfb (apt-get install xvfb), "
              "or set QT_QPA_PLATFORM=offscreen.", file=sys.stderr)
        raise SystemExit(2)
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as handle:
        number = handle.readline().strip()
    if not number:
        proc.kill()
        print("error: Xvfb could not start a virtual display.", file=sys.stderr)
        raise SystemExit(2)
    os.environ["DISPLAY"] = f":{number}"
    atexit.register(proc.terminate)
    print(f"note: no display found; memoview is running on a virtual display (Xvfb :{number}).",
          file=sys.stderr)


def open_gui(argv: Sequence[str]) -> int:
    case_path: Optional[Path] = None
    items = [a for a in argv if a != "--case"]
    if items:
        case_path = Path(items[0])
    ensure_display()
    try:
        from memoview.gui.app import run
    except ImportError as exc:  # pragma: no cover - depends on the platform's Qt
        print(f"error: the desktop app cannot start: {exc}", file=sys.stderr)
        print("hint: the headless commands still work; see 'memoview --help'.", file=sys.stderr)
        return 2
    return int(run(case_path))


def cmd_demo(args: argparse.Namespace) -> int:
    from memoview.core.demo import prepare_demo_case

    if not args.no_gui:
        # The window first; corpus, model and (with --run) the protocol in the background (gui/demo_start.py).
        ensure_display()
        try:
            from memoview.gui.demo_start import run_demo_gui
        except ImportError as exc:  # pragma: no cover - depends on the platform's Qt
            print(f"error: the desktop app cannot start: {exc}", file=sys.stderr)
            print("hint: memoview demo --no-gui [--run] prepares (and runs) the demo headless.", file=sys.stderr)
            return 2
        return int(run_demo_gui(Path(args.case) if args.case else None, run_protocol=args.run))

    result = run_with_progress(prepare_demo_case(Path(args.case) if args.case else None))
    if result.imported:
        print(f"imported {len(result.imported)} demo documents: {', '.join(result.imported)}")
    print(f"demo case: {result.case_path}")
    if result.model_path is not None:
        print(f"demo model: {result.model_path}")
    if args.run:
        from memoview.cli import build_parser
        from memoview.cli.extraction_cmds import cmd_run
        from memoview.paths import resource

        # Through the real parser, so that every option of 'memoview run' has its default.
        run_args = build_parser().parse_args(["run", str(result.case_path), str(resource("demo", "protocol.toml")),
                                              "--model", str(result.model_path)])
        code = cmd_run(run_args)
        if code != 0:
            return code
    return 0
