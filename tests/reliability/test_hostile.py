"""Hostile inputs: documents, case files, models and CLI arguments built to break memoview.

Each case asserts what a user (or the other side) must see: a clear error
naming the problem (exit status not 0, no traceback; the CLI runs in process,
so an uncaught exception fails the test), nothing recorded (the audit head
is unchanged, nothing imported), and the case still verifying afterwards.
A few need the operating system: a size-limited tmpfs for a full disk and a
read-only mount (mounted when the tests run as root; skipped otherwise, with
the reason), and real subprocesses for concurrent and killed imports.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from memoview.cli import main as cli_main
from memoview.core.case import Case

REPO = Path(__file__).resolve().parents[2]
TEXT = ("It was a bright cold day in the archive, and the clocks were striking thirteen. The keeper of the "
        "lighthouse wrote every night in a ledger that nobody read. ") * 8


# ---------------------------------------------------------------------------------------------- helpers
@pytest.fixture()
def exhibit_case(tmp_path: Path) -> Path:
    """A case with attempts (hand-made, no model needed) to export from."""
    from tests.core.test_exhibits_case import build_case

    path = tmp_path / "exhibit.memoview"
    build_case(path).close()
    return path


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    path = tmp_path / "case.memoview"
    (tmp_path / "first.txt").write_text(TEXT, encoding="utf-8")
    assert cli_main(["case", "new", str(path)]) == 0
    assert cli_main(["import", str(path), str(tmp_path / "first.txt"), "--title", "First", "--quiet"]) == 0
    return path


def head(path: Path) -> tuple[str, int]:
    with Case.open(path, read_only=True) as c:
        h = c.head()
        return h.hash, h.entries


def verifies(path: Path) -> bool:
    with Case.open(path, read_only=True) as c:
        report = c.verify()
        return report.ok


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], case_path: Path, argv: list[str], *expect: str) -> str:
    """Run a command that must be refused: non-zero, the words expected, nothing recorded, case verifies."""
    before = head(case_path)
    try:
        code, out, err = run(capsys, *argv)
    except SystemExit as exc:  # argparse refusals exit 2 with their message on stderr
        code, (out, err) = int(exc.code or 0), capsys.readouterr()
    assert code != 0, out + err
    text = " ".join((out + err).split())
    for words in expect:
        assert words.lower() in text.lower(), text
    assert head(case_path) == before, "something was recorded"
    assert verifies(case_path)
    return text


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


DOCX_PARTS = {
    "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>',
}


def lie_about_sizes(data: bytes, declared: int) -> bytes:
    """Rewrite every declared uncompressed size (local headers and central directory) to ``declared``."""
    out = bytearray(data)
    pos = 0
    while (pos := out.find(b"PK\x03\x04", pos)) != -1:
        struct.pack_into("<I", out, pos + 22, declared)
        pos += 4
    pos = 0
    while (pos := out.find(b"PK\x01\x02", pos)) != -1:
        struct.pack_into("<I", out, pos + 24, declared)
        pos += 4
    return bytes(out)


# ---------------------------------------------------------------------------------------------- documents
def test_docx_zip_bomb_honest_sizes(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(zip_bytes({**DOCX_PARTS, "word/document.xml": b"\0" * (24 << 20)}))
    assert bomb.stat().st_size < 1 << 20
    refused(capsys, case, ["import", case, bomb, "--max-mb", "2", "--quiet"], "unpack")


def test_docx_zip_bomb_lying_sizes(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Declared sizes say 100 bytes; the member inflates to 24 MB. Not trusted: refused."""
    bomb = tmp_path / "liar.docx"
    bomb.write_bytes(lie_about_sizes(zip_bytes({**DOCX_PARTS, "word/document.xml": b"\0" * (24 << 20)}), 100))
    refused(capsys, case, ["import", case, bomb, "--max-mb", "2", "--quiet"], "liar.docx")


def test_epub_bomb_in_mimetype_during_sniffing(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "bomb.epub"
    bomb.write_bytes(zip_bytes({"mimetype": b"application/epub+zip" + b" " * (40 << 20),
                                "META-INF/container.xml": b"<container/>"}))
    refused(capsys, case, ["import", case, bomb, "--max-mb", "2", "--quiet"], "unpack")


def test_epub_bomb_in_mimetype_lying_sizes(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "sly.epub"
    bomb.write_bytes(lie_about_sizes(zip_bytes({"mimetype": b"application/epub+zip" + b" " * (40 << 20),
                                                "META-INF/container.xml": b"<container/>"}), 20))
    refused(capsys, case, ["import", case, bomb, "--max-mb", "2", "--quiet"], "sly.epub")


def test_epub_bomb_in_a_chapter(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "chapter.epub"
    bomb.write_bytes(zip_bytes({"mimetype": b"application/epub+zip", "META-INF/container.xml": b"<container/>",
                                "OEBPS/ch1.xhtml": b"<p>" + b"a" * (30 << 20) + b"</p>"}))
    refused(capsys, case, ["import", case, bomb, "--max-mb", "2", "--quiet"], "unpack")


def test_zip_with_too_many_members(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    many = tmp_path / "many.docx"
    many.write_bytes(zip_bytes({**DOCX_PARTS, "word/document.xml": b"<x/>", **{f"m/{i}": b"" for i in range(10_050)}},
                               compression=zipfile.ZIP_STORED))
    refused(capsys, case, ["import", case, many, "--quiet"], "members")


def test_truncated_docx(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = zip_bytes({**DOCX_PARTS, "word/document.xml": b"<w:document/>" * 500})
    cut = tmp_path / "cut.docx"
    cut.write_bytes(data[: len(data) // 2])
    refused(capsys, case, ["import", case, cut, "--quiet"], "cut.docx")


def test_text_named_docx(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "fake.docx"
    fake.write_text("just text", encoding="utf-8")
    refused(capsys, case, ["import", case, fake, "--quiet"], "not a Word")


def test_zip_named_txt(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    z = tmp_path / "archive.txt"
    z.write_bytes(zip_bytes({"a.txt": b"hello"}))
    refused(capsys, case, ["import", case, z, "--quiet"], "zip archive")


def test_mostly_ascii_with_guessable_bytes_is_warned(case: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Decoded, but never silently: the warning names the encoding guessed and the characters it decided."""
    f = tmp_path / "latin.txt"
    f.write_bytes(TEXT.encode("ascii") + b" The caf\xe9 on the corner. " + TEXT.encode("ascii"))
    code, out, err = run(capsys, "import", case, f, "--quiet")
    assert code == 0
    assert "not valid UTF-8" in err and "a guess" in err and "'é'" in err
    assert verifies(case)


def test_mostly_ascii_with_stray_bytes(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bytes undefined in cp1252: whatever code page the guesser picks, the user is told, character by character."""
    f = tmp_path / "broken.txt"
    f.write_bytes(TEXT.encode("ascii") + b"\x81\x8d\x8f\x90\x9d" + TEXT.encode("ascii"))
    before = head(case)
    code, out, err = run(capsys, "import", case, f, "--quiet")
    if code == 0:
        assert "not valid UTF-8" in err and "a guess" in err and "5 non-ASCII" in err
    else:
        assert "not valid UTF-8" in err and head(case) == before
    assert verifies(case)


def test_utf8_with_one_bad_byte(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "mixed.txt"
    f.write_bytes("Ünïcödé text, ".encode("utf-8") * 20 + b"\xff" + b" more text")
    refused(capsys, case, ["import", case, f, "--quiet"], "mostly UTF-8")


def test_deeply_nested_html(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "deep.html"
    f.write_text("<html><body>" + "<div>" * 20_000 + "deep" + "</div>" * 20_000 + "<p>after</p></body></html>")
    refused(capsys, case, ["import", case, f, "--quiet"], "nested more than 256")


def test_billion_laughs_epub(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                      for i in range(1, 10))
           + b']><html xmlns="http://www.w3.org/1999/xhtml"><body><p>&lol9;</p></body></html>')
    opf = (b'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
           b'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
           b'<dc:title>t</dc:title><dc:language>en</dc:language></metadata><manifest>'
           b'<item id="c" href="c.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c"/>'
           b'</spine></package>')
    container = (b'<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                 b'<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/>'
                 b'</rootfiles></container>')
    f = tmp_path / "lol.epub"
    f.write_bytes(zip_bytes({"mimetype": b"application/epub+zip", "META-INF/container.xml": container,
                             "content.opf": opf, "c.xhtml": lol}))
    before = head(case)
    code, out, err = run(capsys, "import", case, f, "--quiet")
    if code == 0:  # libxml2's amplification limit stops the expansion; whatever is imported must be small
        with Case.open(case, read_only=True) as c:
            assert len(c.documents()[-1].text) < 10 << 20
    else:
        assert "lol.epub" in err and head(case) == before
    assert verifies(case)


@pytest.mark.parametrize("content,words", [
    (b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 40, "binary"),
    (b"text with a NUL\x00 byte" * 10, "NUL"),
    ("UTF-16 without a byte-order mark, long enough".encode("utf-16-le"), "UTF-16"),
    (b"", "empty"),
])
def test_not_text(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, words: str) -> None:
    f = tmp_path / "x.txt"
    f.write_bytes(content)
    refused(capsys, case, ["import", case, f, "--quiet"], words)


def test_folder_missing_link_fifo(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    refused(capsys, case, ["import", case, folder, "--quiet"], "is a folder")
    refused(capsys, case, ["import", case, tmp_path / "missing.txt", "--quiet"], "does not exist")
    link = tmp_path / "dangling.txt"
    link.symlink_to(tmp_path / "nowhere.txt")
    refused(capsys, case, ["import", case, link, "--quiet"], "symbolic link")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    refused(capsys, case, ["import", case, fifo, "--quiet"], "not a regular file")


def test_over_size_limit_and_bad_limits(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "big.txt"
    f.write_text(TEXT * 2000)
    refused(capsys, case, ["import", case, f, "--max-mb", "0.5", "--quiet"], "over the size limit")
    for bad in ("nan", "inf", "0", "-1", "1e300"):
        refused(capsys, case, ["import", case, f, "--max-mb", bad, "--quiet"], "max-mb")


def test_unsupported_suffix_and_fake_pdf(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "notes.xyz"
    odd.write_text("text")
    refused(capsys, case, ["import", case, odd, "--quiet"], "unsupported suffix")
    pdf = tmp_path / "junk.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + os.urandom(4000))
    refused(capsys, case, ["import", case, pdf, "--quiet"], "junk.pdf")


def test_title_with_newline(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "t.txt"
    f.write_text("A different text for the newline title test.")
    refused(capsys, case, ["import", case, f, "--title", "Line one\nline two", "--quiet"], "one line")
    refused(capsys, case, ["import", case, f, "--title", "x" * 501, "--quiet"], "at most 500")


def test_title_that_looks_like_another_documents_id(case: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Document 2 titled "1": '1' must not silently resolve to either document."""
    f = tmp_path / "two.txt"
    f.write_text("The second document, titled with the first one's id.")
    assert run(capsys, "import", case, f, "--title", "1", "--quiet")[0] == 0
    refused(capsys, case, ["document", "show", case, "1"], "names 2 different documents", "id:N")
    code, out, _ = run(capsys, "document", "show", case, "id:1")
    assert code == 0 and "First" in out
    code, out, _ = run(capsys, "document", "show", case, "title:1")
    assert code == 0 and "The second document" in out


def test_title_that_looks_like_a_hash_prefix(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Case.open(case, read_only=True) as c:
        prefix = c.documents()[0].raw_sha256[:8]
    f = tmp_path / "hashy.txt"
    f.write_text("A document whose title is another document's hash prefix.")
    assert run(capsys, "import", case, f, "--title", prefix, "--quiet")[0] == 0
    refused(capsys, case, ["document", "show", case, prefix], "different documents")


def test_duplicate_import(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, case, ["import", case, tmp_path / "first.txt", "--quiet"], "already in the case")


# ---------------------------------------------------------------------------------------------- numbers and ids
@pytest.mark.parametrize("argv,words", [
    (["sweep", "{case}", "--model", "m", "--document", "1", "--temperature", "nan"], "finite number"),
    (["sweep", "{case}", "--model", "m", "--document", "1", "--temperature", "inf"], "finite number"),
    (["extract", "{case}", "--model", "m", "--document", "1", "--char-start", "5", "--pz-temperature=-inf"],
     "finite number"),
    (["prompt", "{case}", "--model", "m", "--text", "hi", "--top-p", "nan"], "finite number"),
    (["membership", "{case}", "--model", "m", "--document", "1", "--k-percent", "nan"], "finite number"),
    (["attempt", "show", "{case}", "99999999999999999999999"], "too large"),
    (["attempt", "reproduce", "{case}", "-99999999999999999999999"], "too large"),
    (["document", "show", "{case}", "99999999999999999999999"], "No document matches"),
    (["document", "show", "{case}", "id:99999999999999999999999"], "too large"),
    (["attempt", "show", "{case}", "12"], "no attempt 12"),
    (["sweep", "{case}", "--model", "m", "--document", "1", "--prefix", "1" + "0" * 30], "too large"),
    (["export", "{case}", "--all", "-o", "{tmp}/x.pdf", "--bates-start", "1" + "0" * 30], "too large"),
    (["prompt", "{case}", "--model", "m", "--text", "hi", "--n", "100000"], "500"),
    (["extract", "{case}", "--model", "m", "--document", "1", "--char-start", "0", "--decoding", "sample",
      "--n", "50000"], "confirm-large"),
])
def test_bad_numbers_refused_before_anything_runs(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  argv: list[str], words: str) -> None:
    args = [a.replace("{case}", str(case)).replace("{tmp}", str(tmp_path)) for a in argv]
    refused(capsys, case, args, words)


@pytest.mark.parametrize("name,content,words", [
    ("nan.toml", 'model = "m"\n[[steps]]\nmethod = "sweep"\ndocuments = [1]\ntemperature = nan\n', "finite"),
    ("huge.toml", 'model = "m"\n[[steps]]\nmethod = "prefix"\ndocuments = "all"\ndecoding = "sample"\n'
                  'n_samples = 1000000\nchar_starts = [0]\n', "confirm-large"),
    ("list.json", "[1, 2, 3]", "no [[steps]]"),
    ("bad.toml", None, "not UTF-8"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "cannot be read"),
])
def test_hostile_protocols_store_nothing(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         name: str, content: str | None, words: str) -> None:
    f = tmp_path / name
    if content is None:
        f.write_bytes(b'name = "\xff\xfe"\n')
    else:
        f.write_text(content)
    refused(capsys, case, ["run", case, f, "--quiet"], words)


# ---------------------------------------------------------------------------------------------- case files
@pytest.mark.parametrize("make,words", [
    (lambda p: p.write_bytes(b"\x00" * 100), "not a memoview case"),
    (lambda p: p.write_bytes(b""), "not a memoview case"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE t(x)").connection.commit(), "not a memoview case"),
    (lambda p: p.mkdir(), "folder"),
])
def test_files_that_are_not_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str], make, words: str) -> None:
    path = tmp_path / "x.memoview"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    code, out, err = run(capsys, "case", "info", path)
    assert code != 0 and words in err
    if before is not None:
        assert path.read_bytes() == before


def test_truncated_case_is_damaged_and_untouched(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = case.read_bytes()
    case.write_bytes(data[: len(data) // 2])
    cut = case.read_bytes()
    code, out, err = run(capsys, "case", "verify", case)
    assert code != 0 and "damaged" in err and "Restore" in err
    assert case.read_bytes() == cut


def test_newer_case_is_refused(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = sqlite3.connect(case)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    code, _out, err = run(capsys, "case", "info", case)
    assert code != 0 and "newer memoview" in err


# ---------------------------------------------------------------------------------------------- models
def test_hostile_models_register_nothing(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, case, ["model", "add", case, tmp_path / "no-such-model"], "no-such-model")
    empty = tmp_path / "empty-model"
    empty.mkdir()
    refused(capsys, case, ["model", "add", case, empty], "config.json")
    gguf = tmp_path / "junk.gguf"
    gguf.write_bytes(b"GGUF" + os.urandom(2000))
    refused(capsys, case, ["model", "add", case, gguf], "junk.gguf")
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    refused(capsys, case, ["model", "add", case, pickled], "pickle")
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    header = json.dumps({"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4_000_000]}}).encode()
    (truncated / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 100)
    refused(capsys, case, ["model", "add", case, truncated], "truncated")


# ---------------------------------------------------------------------------------------------- the system
def _mount(kind_dir: Path, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    kind_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(kind_dir)],
                          capture_output=True).returncode == 0


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: a real full disk (ENOSPC from the kernel, no mocking)."""
    where = tmp_path / "small"
    if not _mount(where, "size=3m"):
        pytest.skip("needs root to mount a size-limited tmpfs (a real full disk)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(where: Path, leave: int) -> None:
    free = shutil.disk_usage(where).free
    with open(where / "filler", "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def test_disk_full_during_import(small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path = small_disk / "case.memoview"
    assert run(capsys, "case", "new", case_path)[0] == 0
    small = tmp_path / "small.txt"
    small.write_text(TEXT)
    big = tmp_path / "big.txt"
    big.write_text("".join(f"Line {i} of a long document that will not fit on the disk.\n" for i in range(60_000)))
    _fill(small_disk, 400_000)
    code, out, err = run(capsys, "import", case_path, small, big, tmp_path / "first.txt", "--quiet")
    text = " ".join((out + err).split())
    assert code != 0
    assert "imported 1" in out  # what was committed is reported as committed
    assert "full" in text and "stopped" in text and "committed before the stop: document(s) 1" in text
    assert "not attempted: 1 file(s)" in text
    (small_disk / "filler").unlink()
    with Case.open(case_path) as c:
        assert [d.filename for d in c.documents()] == ["small.txt"]
        assert c.verify().ok


def test_disk_full_during_export(exhibit_case: Path, small_disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(small_disk, 2_000)
    out_pdf = small_disk / "ex.pdf"
    text = refused(capsys, exhibit_case, ["export", exhibit_case, "--all", "-o", out_pdf, "--creation-date",
                                          "2025-01-01", "--skip-model-check", "--quiet"],
                   "No space left", "Nothing was written")
    assert "case is unchanged" in text
    assert not out_pdf.exists() and not (small_disk / ".ex.pdf.partial").exists()


@pytest.fixture()
def read_only_copy(exhibit_case: Path, tmp_path: Path) -> Iterator[Path]:
    """The case on a read-only mount (even root cannot write there)."""
    where = tmp_path / "ro"
    if not _mount(where, "size=20m"):
        pytest.skip("needs root to mount a read-only tmpfs")
    try:
        shutil.copy(exhibit_case, where / "case.memoview")
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where / "case.memoview"
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_case_views_verifies_and_exports(read_only_copy: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "case", "info", read_only_copy)
    assert code == 0 and "(read-only)" in out and "head" in out
    code, out, err = run(capsys, "case", "verify", read_only_copy)
    assert code == 0 and "intact" in out
    assert "read-only: this verification was not written" in out
    assert "damaged" not in (out + err).lower()
    code, out, err = run(capsys, "documents", read_only_copy)
    assert code == 0 and "memorized_work.txt" in out or "negative control" in out
    code, out, err = run(capsys, "export", read_only_copy, "--all", "-o", tmp_path / "ro.pdf",
                         "--creation-date", "2025-01-01", "--skip-model-check", "--quiet")
    assert code == 0 and "not written to its audit log" in out
    other = tmp_path / "other.txt"
    other.write_text("Another text for the read-only test.")
    code, out, err = run(capsys, "import", read_only_copy, other, "--quiet")
    assert code != 0 and "read-only" in err and "damaged" not in err.lower()


def test_two_processes_import_the_same_file(case: Path, tmp_path: Path) -> None:
    f = tmp_path / "race.txt"
    f.write_text("Two importers race for this text. " * 200)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "memoview", "import", str(case), str(f), "--quiet"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    codes = sorted(r[2] for r in results)
    assert codes == [0, 2], results
    loser = next(r for r in results if r[2] == 2)
    assert "already in the case" in loser[1] and "Traceback" not in loser[1]
    with Case.open(case, read_only=True) as c:
        assert sum(d.filename == "race.txt" for d in c.documents()) == 1
        assert c.verify().ok


def test_killed_import_printed_only_what_it_committed(case: Path, tmp_path: Path) -> None:
    count = 300
    files = []
    for i in range(count):
        f = tmp_path / f"doc{i:03d}.txt"
        f.write_text(f"Document number {i}. " + TEXT)
        files.append(str(f))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "memoview", "import", str(case), *files, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    # Flushed per file: these lines arrive while the import is still running.
    seen = "".join(proc.stdout.readline() for _ in range(3))
    assert seen.count("imported ") == 3
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    rest = proc.stdout.read()  # the same buffered reader as readline (communicate() would skip its buffer)
    printed = [line for line in (seen + rest).splitlines() if line.startswith("imported ")]
    printed_ids = {int(line.split()[1]) for line in printed}
    with Case.open(case, read_only=True) as c:
        stored = {d.id for d in c.documents() if d.filename.startswith("doc")}
        assert c.verify().ok
    # Every printed id is committed; at most the file in flight is committed but not yet printed.
    assert printed_ids <= stored and len(stored - printed_ids) <= 1, (seen + rest, sorted(stored))
    assert len(stored) < count  # it really was killed mid-import


def _limit_file_size(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_file_size_limit_during_import(case: Path, tmp_path: Path) -> None:
    """Runs without root: the kernel's file-size limit (RLIMIT_FSIZE, as `ulimit -f`) makes SQLite's
    writes fail mid-import, a real OS error with no mocking (EFBIG rather than ENOSPC)."""
    small = tmp_path / "small.txt"
    small.write_text("A small document that fits. " * 20)
    big = tmp_path / "big.txt"
    big.write_text("".join(f"Line {i} of a long document that will not fit under the limit.\n" for i in range(60_000)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    limit = case.stat().st_size + 1_500_000
    proc = subprocess.run([sys.executable, "-m", "memoview", "import", str(case), str(small), str(big),
                           str(tmp_path / "first.txt"), "--quiet"], capture_output=True, text=True, env=env,
                          preexec_fn=_limit_file_size(limit), timeout=300)
    text = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0 and "Traceback" not in text, text
    assert "imported 2" in proc.stdout and "stopped" in text, text
    assert "committed before the stop: document(s) 2" in text
    with Case.open(case) as c:
        assert [d.filename for d in c.documents()] == ["first.txt", "small.txt"]
        assert c.verify().ok
