"""Issue 16 item 2: the exhibit's headline numbers agree with its pages (real PDF, read with pdftotext).

A work whose only finding is a sweep window (42 of 50 leading tokens, a continuation with a long verbatim
run) must show that finding on the cover, in the index, in the attempt's outcome row and in Appendix A;
a selection export says how many of the case's works it covers and counts its controls as the baseline does.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.jobs import run_job
from memoview.core.records import Attempt, AttemptSpec, SweepWindow
from tests.core.test_exhibits_case import PARAMS, build_case, loaded, prose


def _flat(pdf: Path) -> str:
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def sweep_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("headlines")
    case = build_case(root / "case.memoview", work_words=600)
    model = case.models()[0]
    doc = case.add_document(loaded(prose(42, 700), "license.txt"), title="A Licence Text With A Long Title That "
                            "Must Be Shown In Full, Wrapped Rather Than Cut Off With An Ellipsis", author="C. Lawyer")
    text = doc.text
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    windows = []
    for i, wi in enumerate(range(60, 600, 60)):
        a, b, c = spaces[wi - 50], spaces[wi] + 3, spaces[wi + 35] + 2  # cut inside words on purpose
        g = 42 if i == 3 else i % 3
        cont = text[b:c][:-40] + " and then something else entirely" if i == 3 else None
        windows.append(SweepWindow(0, i, wi, b, c, a, g, 0.9 if i == 3 else g / 50, -30.0, -4.4 if i == 3 else None, cont))
    spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=model.id or 1, model_fingerprint=model.fingerprint,
                       document_id=doc.id, params=dict(PARAMS, temperature=None, top_k=None),
                       target={"prefix_tokens": 50, "suffix_tokens": 50, "stride_tokens": 60}, bos_policy="prepend-bos")
    sweep = case.record_attempt(Attempt(id=0, spec=spec, status="done"), windows)
    out = root / "selection.pdf"
    run_job(export_exhibit(case, ExportOptions(document_refs=(str(doc.id),), creation_date="2025-03-01"), out))
    case.close()
    assert sweep.id
    return out


def test_sweep_window_reaches_cover_index_outcome_and_log(sweep_only: Path) -> None:
    text = _flat(sweep_only)
    cover = text.split("Index of every work tested")[0]
    index = text.split("Index of every work tested")[1].split("Method")[0]
    # cover: the window's 42 of 50 tokens, where it comes from, its p_z, and a non-zero longest run
    assert "Most leading tokens exact 42 of 50 target tokens: W1 A Licence Text" in cover
    assert "window 3" in cover
    assert "about 1 in 25,000 (log10 \u22124.4)" in cover
    longest = int(re.search(r"Longest verbatim run (\d+) words", cover).group(1))  # type: ignore[union-attr]
    assert longest >= 20
    # outcome tiers in words on the cover, and the prompt class statement
    assert "1 reproduced part of it" in cover and "0 reproduced the whole target passage exactly" in cover
    assert "1 whole-work sweep gave the model 50 tokens of the work before each window" in cover
    assert "not regurgitation" in cover
    # index row agrees with the cover
    assert "42 of 50" in index and f"{longest} words" in index and "about 1 in 25,000" in index
    assert "Must Be Shown In Full, Wrapped Rather Than Cut Off With An Ellipsis" in index  # full title, wrapped
    # the attempt's outcome row and Appendix A
    assert "best window 3: 42 of 50 leading tokens exact" in text
    log = text.split("Appendix A. Complete attempt log")[1].split("Appendix B")[0]
    assert re.search(r"done partial 42 of 50 \u22124\.40", log) and "sweep / prefix" in log  # cell order as poppler reads it
    assert f" {longest} " in log.split("A2. Sweep windows")[0]
    assert "A2. Sweep windows" in log and "42 of 50 45 of 50 (0.90)" in log
    # a memorization score never without what it counts
    assert "memorization score 0.90 (45 of 50 target token positions" in text


def test_selection_says_n_of_m_and_counts_controls_like_the_baseline(sweep_only: Path) -> None:
    text = _flat(sweep_only)
    assert "1 of the 3 works with attempts in this case" in text  # build_case's two works + this one
    assert "All works with at least one attempt" not in text
    assert "1 in the case, every one used for the chance baseline; 0 of them have attempts" in text
    assert re.search(r"controls \(1 documents, \d+ outputs\)", text)


def test_columns_start_and_end_on_word_boundaries(sweep_only: Path) -> None:
    """The window was cut three characters into a word: the cut word is completed as context after an ellipsis."""
    text = subprocess.run(["pdftotext", "-raw", str(sweep_only), "-"], check=True, capture_output=True, text=True).stdout
    assert "Source (true continuation)" in text
    assert re.search(r"\u2026\w+", text)  # an ellipsis directly followed by the completed word
    assert "decoding temperature=None" not in text and "top_k=None" not in text
    assert "not used (greedy)" in text  # decoding settings as words
