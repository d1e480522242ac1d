"""`memoview import`, `documents`, `document show|control` driven through the real CLI entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from memoview.cli import main
from memoview.core.case import Case


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def new_case(case_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, _, _ = _run(capsys, "case", "new", str(case_path))
    assert code == 0
    return case_path


def test_import_mix_keeps_good_names_each_bad_and_exits_nonzero(
    tmp_path: Path, new_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good1 = tmp_path / "first.txt"
    good1.write_text("The first good document.\n", encoding="utf-8")
    good2 = tmp_path / "second.md"
    good2.write_text("# Second\n\nThe second good document.\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    folder = tmp_path / "folder"
    folder.mkdir()
    code, out, err = _run(capsys, "import", str(new_case), str(good1), str(empty), str(binary),
                          str(folder), str(good2), str(tmp_path / "missing.txt"), str(good1), "--quiet")
    assert code == 3  # some failed, the good ones kept
    imported = re.findall(r'^imported (\d+)  "([^"]+)"  sha256 ([0-9a-f]{12})', out, re.MULTILINE)
    assert [title for _, title, _ in imported] == ["first", "Second"]
    for name, why in [("empty.txt", "empty"), ("blob.txt", "binary"), ("folder", "is a folder"),
                      ("missing.txt", "does not exist"), ("first.txt", "already in the case")]:
        assert re.search(rf"^failed .*{re.escape(name)}.*{why}", err, re.MULTILINE), (name, err)
    assert "5 of 7 file(s) not imported" in err
    with Case.open(new_case) as case:
        assert [d.title for d in case.documents()] == ["first", "Second"]


def test_import_exit_codes_all_good_and_all_bad(
    tmp_path: Path, new_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "ok.txt"
    good.write_text("fine\n", encoding="utf-8")
    code, out, err = _run(capsys, "import", str(new_case), str(good), "--title", "Fine Text",
                          "--author", "F. Author", "--source", "exhibit 3", "--date-obtained", "2024-05-01",
                          "--notes", "from the plaintiff", "--control")
    assert code == 0, err
    assert '"Fine Text"' in out and "[negative control]" in out
    code, out, err = _run(capsys, "import", str(new_case), str(tmp_path / "nothing.txt"))
    assert code == 2 and out == ""
    assert "nothing.txt does not exist" in err
    with Case.open(new_case) as case:
        (doc,) = case.documents()
        assert (doc.title, doc.author, doc.source, doc.date_obtained, doc.notes, doc.is_control) == (
            "Fine Text", "F. Author", "exhibit 3", "2024-05-01", "from the plaintiff", True)


def test_import_max_mb_option(tmp_path: Path, new_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 300_000)  # 1.4 MB
    code, _, err = _run(capsys, "import", str(new_case), str(big), "--max-mb", "1")
    assert code == 2
    assert "over the size limit of 1 MB" in err
    code, out, _ = _run(capsys, "import", str(new_case), str(big), "--max-mb", "2")
    assert code == 0 and "imported 1" in out


def test_documents_are_resolved_by_id_title_and_sha256_prefix(
    tmp_path: Path, new_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, body in [("alpha.txt", "Alpha document body.\nSecond line.\n"), ("beta.txt", "Beta body.\n")]:
        (tmp_path / name).write_text(body, encoding="utf-8")
    code, _, _ = _run(capsys, "import", str(new_case), str(tmp_path / "alpha.txt"), str(tmp_path / "beta.txt"))
    assert code == 0
    code, out, _ = _run(capsys, "documents", str(new_case), "--json")
    listed = json.loads(out)
    assert [d["title"] for d in listed] == ["alpha", "beta"]
    beta = listed[1]

    for ref in (str(beta["id"]), "beta", beta["raw_sha256"][:8], beta["text_sha256"][:10].upper()):
        code, out, err = _run(capsys, "document", "show", str(new_case), ref)
        assert code == 0, (ref, err)
        assert re.search(r"^id\s+2$", out, re.MULTILINE), (ref, out)
        assert beta["raw_sha256"] in out and "Beta body." in out

    code, out, err = _run(capsys, "document", "show", str(new_case), "gamma")
    assert code != 0 and "No document matches 'gamma'" in err

    code, out, _ = _run(capsys, "document", "control", str(new_case), "alpha", "--on")
    assert code == 0 and "now a negative control" in out
    code, out, _ = _run(capsys, "documents", str(new_case))
    assert re.search(r"^\s+1\s+alpha .*\[negative control\]", out, re.MULTILINE)
    assert "[negative control]" not in out.splitlines()[1]
    code, out, _ = _run(capsys, "document", "control", str(new_case), "1", "--off")
    assert code == 0 and "no longer a negative control" in out
    with Case.open(new_case) as case:
        assert not case.document(1).is_control
        events = [e.event for e in case.audit_entries()]
        assert events.count("document.control") == 2
