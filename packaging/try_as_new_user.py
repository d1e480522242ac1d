"""Start a built memoview the way a new user does and photograph the screen (release check, by hand).

    python packaging/try_as_new_user.py dist/memoview/memoview --out /tmp/shots/packaging

Runs ``<memoview> demo`` on a private virtual display (Xvfb) with an empty
home folder (no cache, no settings, no demo case: a first run), takes a
screenshot of the whole screen after each of ``--at`` seconds, then closes the
app. Unlike ``memoview selftest`` it drives nothing: it shows what a user sees
while the window opens and the demo model is prepared in the background.
Needs Xvfb and Pillow with XCB support (both in the development environment).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("memoview", help="the memoview executable to try (e.g. dist/memoview/memoview)")
    parser.add_argument("--out", default="/tmp/shots/packaging", help="folder for the screenshots")
    parser.add_argument("--at", default="3,20,60", help="seconds after start at which to take screenshots")
    args = parser.parse_args(argv)
    try:
        from PIL import ImageGrab
    except ImportError:
        print("error: Pillow is needed for the screenshots (pip install pillow).", file=sys.stderr)
        return 2
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        print("error: Xvfb is not installed.\nhint: apt-get install xvfb", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="memoview-new-user-"))
    read_fd, write_fd = os.pipe()
    display = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "1440x900x24", "-nolisten", "tcp"],
                               pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as handle:
        number = handle.readline().strip()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY")
           and not k.startswith(("XDG_", "MEMOVIEW_"))}
    env.update(HOME=str(home), DISPLAY=f":{number}")
    log = (out / "new_user_demo.log").open("w")
    started = time.monotonic()
    app = subprocess.Popen([str(Path(args.memoview).resolve()), "demo"], cwd=home, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        for at in (float(s) for s in args.at.split(",")):
            time.sleep(max(0.0, started + at - time.monotonic()))
            if app.poll() is not None:
                print(f"the app exited with code {app.returncode} before {at:g} s; see {log.name}")
                return 1
            shot = out / f"new_user_demo_{at:g}s.png"
            ImageGrab.grab(xdisplay=f":{number}").save(shot)
            print(f"{time.monotonic() - started:6.1f} s  {shot}")
    finally:
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
        display.terminate()
        log.close()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
