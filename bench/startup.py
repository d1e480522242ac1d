"""Time to the first memoview window, against a bare Qt window, in fresh processes.

Each measurement runs in a new Python process (nothing cached in memory),
timing from interpreter start to the first paint of the window. The baseline
is a bare QApplication + empty QMainWindow measured in the same run, so the
ratio says what memoview adds on this machine. Goal: memoview < 1.5 s.

    /work/venv/bin/python bench/startup.py [--runs 5] [--case PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

BASELINE = textwrap.dedent("""
    import time, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow
    app = QApplication(sys.argv)
    w = QMainWindow()
    w.resize(1280, 820)
    w.show()
    QTimer.singleShot(0, app.quit)
    app.exec()
    print("SHOWN_AT", time.time())
    print("TORCH", "torch" in sys.modules)
""")

MEMOVIEW = textwrap.dedent("""
    import time, sys
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from memoview.gui.app import create_main_window, ensure_application
    app = ensure_application(sys.argv[:1])
    w = create_main_window(Path(CASE) if CASE else None)
    w.show()
    QTimer.singleShot(0, app.quit)
    app.exec()
    print("SHOWN_AT", time.time())
    print("TORCH", "torch" in sys.modules)
    w.shutdown()
""")


def measure(body: str, case: str, env: dict[str, str]) -> tuple[float, bool]:
    """Seconds from spawning the process to the first window painted (the child prints the wall-clock
    moment it got there; same machine, same clock)."""
    code = f"CASE = {case!r}\n" + body
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    return float(lines["SHOWN_AT"]) - t0, lines.get("TORCH", "").strip() == "True"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--case", default="", help="open this case file in the memoview window")
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        env["MEMOVIEW_DATA_DIR"] = tmp  # fresh settings; never touch the user's
        case = args.case
        if not case:
            from memoview.core.case import Case

            case = os.path.join(tmp, "bench.memoview")
            Case.create(case).close()
        base, mv_empty, mv_case = [], [], []
        torch_loaded = False
        for _ in range(args.runs):
            base.append(measure(BASELINE, "", env)[0])
            t, torch1 = measure(MEMOVIEW, "", env)
            mv_empty.append(t)
            t, torch2 = measure(MEMOVIEW, case, env)
            mv_case.append(t)
            torch_loaded = torch_loaded or torch1 or torch2
    b = statistics.median(base)
    e = statistics.median(mv_empty)
    c = statistics.median(mv_case)
    print(f"runs: {args.runs} (median, seconds from process start to first window shown; platform "
          f"{env['QT_QPA_PLATFORM']})")
    print(f"baseline  bare QApplication + QMainWindow : {b:.3f} s")
    print(f"memoview  first window, no case          : {e:.3f} s  (ratio {e / b:.2f}x)")
    print(f"memoview  first window, opening a case   : {c:.3f} s  (ratio {c / b:.2f}x)")
    print(f"torch imported at start-up: {'YES (bad)' if torch_loaded else 'no'}")
    print(f"goal < 1.5 s: {'met' if max(e, c) < 1.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
