"""What row binding costs: recording sweeps and verifying a case, with and without it, in one run.

Run: python bench/integrity.py [--windows 2000] [--sweeps 10]
Records N sweeps of W windows each into a case with row binding (the TEMP
capture triggers and per-row hashes in each audit entry) and into a case
where the capture triggers are removed (the format-1 behaviour, the
baseline), then times ``Case.verify`` (memoview) and the standalone verifier
on the bound case. Prints seconds and ratios measured in this run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from memoview.core.case import Case  # noqa: E402
from memoview.core.records import Attempt, AttemptSpec, SweepWindow  # noqa: E402
from tests.core.test_integrity import build_case  # noqa: E402


def record(path: Path, sweeps: int, windows: int, bound: bool) -> float:
    build_case(path)
    with Case.open(path) as case:
        if not bound:
            for (name,) in case.store.conn.execute("SELECT name FROM temp.sqlite_master WHERE type = 'trigger'").fetchall():
                case.store.conn.execute(f'DROP TRIGGER temp."{name}"')
        spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=1, model_fingerprint="ab" * 32,
                           document_id=1, params={"top_k": 40})
        start = time.perf_counter()
        for s in range(sweeps):
            case.record_attempt(Attempt(id=0, spec=spec, status="done"),
                                [SweepWindow(0, i, i * 5, i * 20, i * 20 + 18, i * 20, i % 50, 0.5, -1.5 - s, -2.5)
                                 for i in range(windows)])
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=2000)
    parser.add_argument("--sweeps", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bound_path, plain_path = Path(tmp) / "bound.memoview", Path(tmp) / "plain.memoview"
        plain = record(plain_path, args.sweeps, args.windows, bound=False)
        bound = record(bound_path, args.sweeps, args.windows, bound=True)
        rows = args.sweeps * (args.windows + 1)
        print(f"recording {args.sweeps} sweeps x {args.windows} windows ({rows:,} rows): "
              f"bound {bound:.2f} s vs unbound baseline {plain:.2f} s: {bound / plain:.2f}x")
        with Case.open(bound_path) as case:
            start = time.perf_counter()
            report = case.verify()
            ours = time.perf_counter() - start
        assert report.ok, report.problems
        start = time.perf_counter()
        subprocess.run([sys.executable, "-I", str(Path(__file__).resolve().parent.parent / "memoview" /
                                              "verify_standalone.py"), str(bound_path)], check=True,
                       capture_output=True)
        theirs = time.perf_counter() - start
        print(f"verify {report.rows_checked:,} bound rows: memoview {ours:.2f} s "
              f"({ours / report.rows_checked * 1e6:.0f} us per row), standalone verifier {theirs:.2f} s "
              f"(incl. interpreter start): {theirs / ours:.2f}x memoview")


if __name__ == "__main__":
    main()
