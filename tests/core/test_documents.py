"""Document loading: every format, encodings, and a specific error for each bad input.

Fixtures are generated here with the real libraries (reportlab, python-docx,
ebooklib), so nothing binary is checked in.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tracemalloc
from pathlib import Path

import pytest

from memoview.core.case import Case
from memoview.core.documents.load import DEFAULT_MAX_BYTES, MIB, load_document
from memoview.core.errors import DocumentError

PARAGRAPHS = [
    "Every spring the keeper of the orchard opened a ledger bound in green cloth.",
    "She counted forty-one pear trees, nine quinces and a single medlar.",
    "By midsummer the numbers had become names, and the names had become stories.",
]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- text formats

def test_txt_hashes_raw_bytes_and_normalizes_newlines(tmp_path: Path) -> None:
    raw = "Line one\r\nLine two\rLine three\n".encode("utf-8")
    doc = load_document(_write(tmp_path, "crlf.txt", raw))
    assert doc.raw == raw  # the raw bytes stay as they were
    assert doc.text == "Line one\nLine two\nLine three\n"
    assert doc.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.text_sha256 == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    assert doc.raw_sha256 != doc.text_sha256
    assert (doc.media_type, doc.encoding, doc.filename) == ("text/plain", "utf-8", "crlf.txt")
    assert doc.extractor and doc.extractor_version


def test_markdown_keeps_markup_and_takes_title_from_heading(tmp_path: Path) -> None:
    raw = b"# The Orchard Ledger\n\nSome *emphasis* here.\n"
    doc = load_document(_write(tmp_path, "ledger.md", raw))
    assert doc.text == raw.decode()
    assert doc.media_type == "text/markdown"
    assert doc.title == "The Orchard Ledger"


SAMPLE = "Café crème, naïve façade, “quoted” — résumé. Grüße aus München! " * 4


@pytest.mark.parametrize(
    ("codec", "text", "accepted"),
    [
        ("cp1252", SAMPLE, {"cp1252"}),
        ("latin-1", SAMPLE.replace("“", '"').replace("”", '"').replace("—", "-"), {"cp1252", "latin_1", "iso8859_15"}),
        ("utf-16", SAMPLE, {"utf-16-le", "utf-16-be"}),  # Python writes a BOM for "utf-16"
        ("utf-8-sig", SAMPLE, {"utf-8-sig"}),
        ("utf-16-be-bom", SAMPLE, {"utf-16-be"}),
    ],
)
def test_encodings_are_detected_and_recorded(tmp_path: Path, codec: str, text: str, accepted: set[str]) -> None:
    raw = b"\xfe\xff" + text.encode("utf-16-be") if codec == "utf-16-be-bom" else text.encode(codec)
    doc = load_document(_write(tmp_path, f"{codec}.txt", raw))
    assert doc.text == text
    assert doc.encoding in accepted
    assert "\ufeff" not in doc.text  # the BOM is not part of the text


# ---------------------------------------------------------------- html

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>The Orchard Ledger</title>
<meta name="author" content="A. Writer"></head><body>
<nav><a href="/">Home</a> | <a href="/shop">Shop our catalogue</a> | <a href="/login">Sign in to your account</a></nav>
<header><div class="banner">We use cookies to improve your browsing experience.</div></header>
<div role="navigation"><a href="/a">Related stories you may like</a></div>
<main><article><h1>The Orchard Ledger</h1>
<p>{0}</p><p>{1}</p><p>{2}</p>
</article></main>
<aside>Subscribe to our newsletter for weekly offers.</aside>
<footer><p>Copyright 2024 Example Media Group. All rights reserved. Privacy policy.</p></footer>
</body></html>"""


def test_html_yields_article_without_navigation_or_footer(tmp_path: Path) -> None:
    doc = load_document(_write(tmp_path, "page.html", PAGE.format(*PARAGRAPHS).encode("utf-8")))
    for paragraph in PARAGRAPHS:
        assert paragraph in doc.text
    for furniture in ("Shop our catalogue", "Sign in", "cookies", "Related stories", "newsletter",
                      "All rights reserved", "Privacy policy"):
        assert furniture not in doc.text
    assert doc.media_type == "text/html"
    assert doc.extractor == "trafilatura"
    assert doc.title == "The Orchard Ledger"
    assert doc.author == "A. Writer"


def test_html_in_a_declared_legacy_charset(tmp_path: Path) -> None:
    body = "Les élèves étaient très fâchés contre le maître d’école."
    # A byte that is invalid UTF-8 plus a <meta charset>: the declaration decides.
    page = f'<html><head><meta charset="windows-1252"></head><body><article><p>{body}</p></article></body></html>'
    doc = load_document(_write(tmp_path, "old.htm", page.encode("cp1252")))
    assert body in doc.text


def test_xhtml_walk_keeps_chapter_headings_and_drops_scripts() -> None:
    from memoview.core.documents.html import walk_text

    text = walk_text("<html><head><title>x</title></head><body><header><h1>Chapter One</h1></header>"
                     "<script>var a = 1;</script><p>It was <i>late</i>.</p></body></html>")
    assert text.split("\n")[0] == "Chapter One"
    assert "It was late." in text
    assert "var a" not in text and "x" not in text.split("\n")


# ---------------------------------------------------------------- pdf

def _pdf_with_text(path: Path, pages: list[list[str]]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Ledger PDF")
    c.setAuthor("B. Author")
    for lines in pages:
        y = 780
        for line in lines:
            c.drawString(72, y, line)
            y -= 18
        c.showPage()
    c.save()
    return path


def test_pdf_text_layer_in_page_order(tmp_path: Path) -> None:
    path = _pdf_with_text(tmp_path / "ledger.pdf", [PARAGRAPHS[:2], PARAGRAPHS[2:]])
    doc = load_document(path)
    positions = [doc.text.index(p) for p in PARAGRAPHS]
    assert positions == sorted(positions)
    assert doc.media_type == "application/pdf"
    assert doc.extractor == "pypdf"
    assert (doc.title, doc.author) == ("Ledger PDF", "B. Author")


def test_image_only_pdf_says_no_text_layer(tmp_path: Path) -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path))
    c.rect(72, 600, 300, 100, fill=1)  # shapes ...
    c.circle(300, 400, 50)
    image = Image.new("RGB", (64, 32), (250, 250, 250))  # ... and an image, but no text
    c.drawImage(ImageReader(image), 72, 200, width=256, height=128)
    c.showPage()
    c.rect(100, 100, 50, 50)
    c.showPage()
    c.save()
    with pytest.raises(DocumentError, match="no text layer") as info:
        load_document(path)
    assert "2 page(s)" in info.value.message
    assert "OCR" in info.value.hint


def test_truncated_pdf_is_refused(tmp_path: Path) -> None:
    good = _pdf_with_text(tmp_path / "whole.pdf", [PARAGRAPHS]).read_bytes()
    with pytest.raises(DocumentError, match="truncated.pdf"):
        load_document(_write(tmp_path, "truncated.pdf", good[: len(good) // 3]))


# ---------------------------------------------------------------- docx

def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Ledger DOCX"
    document.core_properties.author = "C. Author"
    document.add_heading("Inventory", level=1)
    document.add_paragraph(PARAGRAPHS[0])
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Pear", "41"
    table.cell(1, 0).text, table.cell(1, 1).text = "Quince", "9"
    document.add_paragraph(PARAGRAPHS[1])
    path = tmp_path / "ledger.docx"
    document.save(str(path))

    doc = load_document(path)
    lines = doc.text.split("\n")
    assert lines == ["Inventory", PARAGRAPHS[0], "Pear\t41", "Quince\t9", PARAGRAPHS[1]]
    assert doc.extractor == "python-docx"
    assert (doc.title, doc.author) == ("Ledger DOCX", "C. Author")
    assert doc.media_type.endswith("wordprocessingml.document")


# ---------------------------------------------------------------- epub

def test_epub_chapters_in_spine_order(tmp_path: Path) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("memoview-test-1")
    book.set_title("Ledger EPUB")
    book.set_language("en")
    book.add_author("D. Author")
    chapters = []
    for number, paragraph in enumerate(PARAGRAPHS, start=1):
        chapter = epub.EpubHtml(title=f"Chapter {number}", file_name=f"ch{number}.xhtml", lang="en")
        chapter.content = f"<h1>Chapter {number}</h1><p>{paragraph}</p>"
        chapters.append(chapter)
    for chapter in reversed(chapters):  # manifest order differs from reading order
        book.add_item(chapter)
    book.toc = tuple(chapters)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    path = tmp_path / "ledger.epub"
    epub.write_epub(str(path), book)

    doc = load_document(path)
    positions = [doc.text.index(p) for p in PARAGRAPHS]
    assert positions == sorted(positions)
    assert doc.text.startswith("Chapter 1\n")  # the navigation document is not text of the work
    assert doc.extractor == "ebooklib"
    assert (doc.title, doc.author) == ("Ledger EPUB", "D. Author")
    assert doc.media_type == "application/epub+zip"


# ---------------------------------------------------------------- bad inputs

def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"empty \(0 bytes\)"):
        load_document(_write(tmp_path, "empty.txt", b""))


def test_whitespace_only_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="contains no text"):
        load_document(_write(tmp_path, "blank.txt", b" \n\n\t \r\n"))


def test_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    raw = bytes(range(256)) * 8
    with pytest.raises(DocumentError, match=r"binary data, not text \(it contains NUL bytes"):
        load_document(_write(tmp_path, "data.txt", raw))


def test_binary_file_of_control_characters(tmp_path: Path) -> None:
    raw = bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17]) * 100 + b"some text"
    with pytest.raises(DocumentError, match="control characters"):
        load_document(_write(tmp_path, "ctl.txt", raw))


def test_damaged_utf8_is_not_guessed_as_another_encoding(tmp_path: Path) -> None:
    raw = "Grüße aus München, wie geht’s?\n".encode() * 5 + b"\xff\xfe-broken\n"
    with pytest.raises(DocumentError, match=r"not valid UTF-8 \(byte \d+") as info:
        load_document(_write(tmp_path, "damaged.txt", raw))
    assert "will not guess" in info.value.message


def test_bytes_that_no_encoding_explains(tmp_path: Path) -> None:
    raw = bytes(range(0x80, 0x100)) * 16
    with pytest.raises(DocumentError, match="no other text encoding explains") as info:
        load_document(_write(tmp_path, "noise.txt", raw))
    assert "noise.txt" in info.value.message


def test_50_mb_file_refused_by_stat_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:  # sparse: instant, takes no disk space
        handle.truncate(50 * MIB)
    tracemalloc.start()
    try:
        with pytest.raises(DocumentError) as info:
            load_document(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "50 MB" in info.value.message
    assert f"size limit of {DEFAULT_MAX_BYTES // MIB} MB" in info.value.message
    assert "--max-mb" in info.value.hint
    assert peak < 1 * MIB  # nothing of the file was read into memory


def test_size_limit_is_adjustable(tmp_path: Path) -> None:
    path = _write(tmp_path, "small.txt", b"x" * 2000)
    with pytest.raises(DocumentError, match="2,000 bytes, over the size limit of 1,000 bytes"):
        load_document(path, max_bytes=1000)
    assert load_document(path, max_bytes=2000).text == "x" * 2000


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        load_document(tmp_path / "nope.txt")


def test_folder(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(DocumentError, match="is a folder, not a file"):
        load_document(folder)


def test_dangling_symlink_is_unreadable(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "gone.txt")
    with pytest.raises(DocumentError, match="cannot be read: it is a symbolic link to .*gone.txt, which does not exist"):
        load_document(link)


def _load_as_nobody(path: Path) -> str:
    """Call load_document in a forked child that has dropped root to 'nobody'; return its error."""
    import memoview.core.documents.encoding  # noqa: F401  (imported before dropping privileges)
    import memoview.core.documents.text  # noqa: F401

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        message = b"no error"
        try:
            os.setgid(65534)
            os.setuid(65534)
            load_document(path)
        except DocumentError as exc:
            message = exc.message.encode()
        except BaseException as exc:  # report anything else to the parent
            message = f"unexpected {type(exc).__name__}: {exc}".encode()
        os.write(write_end, message)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return data.decode()


def test_permission_denied(tmp_path: Path) -> None:
    """A file the user may not read. Root reads anything, so as root the check runs in a
    forked child that has dropped to the unprivileged user 'nobody'."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="memoview-perm-", dir="/tmp"))
    path = folder / "secret.txt"
    try:
        folder.chmod(0o755)
        path.write_bytes(b"hidden text")
        path.chmod(0)
        if os.geteuid() == 0:
            message = _load_as_nobody(path)
        else:
            with pytest.raises(DocumentError) as info:
                load_document(path)
            message = info.value.message
        assert message == f"{path} cannot be read (permission denied)."
    finally:
        if path.exists():
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
            path.unlink()
        folder.rmdir()


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(DocumentError, match="not a regular file"):
        load_document(fifo)


def test_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"unsupported suffix '\.rtf'") as info:
        load_document(_write(tmp_path, "letter.rtf", b"{\\rtf1 hello}"))
    assert ".txt" in info.value.hint


def test_misnamed_pdf(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"named \.pdf but its content is not a PDF"):
        load_document(_write(tmp_path, "fake.pdf", b"just some text, not a PDF at all"))


def test_content_sniffing_beats_a_wrong_text_suffix(tmp_path: Path) -> None:
    pdf = _pdf_with_text(tmp_path / "real.pdf", [PARAGRAPHS]).read_bytes()
    doc = load_document(_write(tmp_path, "really_a_pdf.txt", pdf))
    assert doc.media_type == "application/pdf"
    assert PARAGRAPHS[0] in doc.text


# ---------------------------------------------------------------- import into a case

def test_import_keeps_good_files_reports_bad_ones_and_detects_duplicates(tmp_path: Path, case_path: Path) -> None:
    from memoview.core.documents.importer import import_files
    from memoview.core.jobs import run_job

    good = _write(tmp_path, "good.txt", PARAGRAPHS[0].encode())
    copy = _write(tmp_path, "same_bytes_other_name.txt", PARAGRAPHS[0].encode())
    other = _write(tmp_path, "other.md", PARAGRAPHS[1].encode())
    empty = _write(tmp_path, "empty.txt", b"")
    with Case.create(case_path) as case:
        report = run_job(import_files(case, [good, empty, copy, other, tmp_path / "missing.txt"],
                                      author="E. Author", source="exhibit 12"))
        assert [o.ok for o in report.outcomes] == [True, False, False, True, False]
        first = report.outcomes[0].document
        assert first is not None and first.author == "E. Author" and first.source == "exhibit 12"
        duplicate = report.outcomes[2]
        assert duplicate.duplicate_of == first.id
        assert "already in the case" in duplicate.error and first.raw_sha256[:12] in duplicate.error
        assert "empty" in report.outcomes[1].error
        assert "does not exist" in report.outcomes[4].error
        assert not report.ok
        stored = case.documents()
        assert [d.filename for d in stored] == ["good.txt", "other.md"]
        assert case.document_raw(first.id) == PARAGRAPHS[0].encode()
        # The same file again: still nothing added twice.
        again = run_job(import_files(case, [good]))
        assert again.outcomes[0].duplicate_of == first.id
        assert len(case.documents()) == 2
        assert case.verify().ok


def test_import_marks_controls_and_refuses_one_title_for_many_files(tmp_path: Path, case_path: Path) -> None:
    from memoview.core.documents.importer import import_files
    from memoview.core.errors import ValidationError
    from memoview.core.jobs import run_job

    a = _write(tmp_path, "a.txt", b"alpha text")
    b = _write(tmp_path, "b.txt", b"beta text")
    with Case.create(case_path) as case:
        with pytest.raises(ValidationError, match="title names one document"):
            run_job(import_files(case, [a, b], title="Same"))
        report = run_job(import_files(case, [a], is_control=True, title="Alpha"))
        assert report.ok
        assert case.resolve_document("Alpha").is_control


def test_import_can_be_cancelled_and_keeps_what_it_finished(tmp_path: Path, case_path: Path) -> None:
    from memoview.core.documents.importer import import_files
    from memoview.core.jobs import CancelToken, Progress

    paths = [_write(tmp_path, f"{i}.txt", f"text number {i}".encode()) for i in range(4)]
    token = CancelToken()
    with Case.create(case_path) as case:
        job = import_files(case, paths, cancel=token)
        seen = 0
        try:
            while True:
                event = next(job)
                assert isinstance(event, Progress)
                seen += 1
                if seen == 3:  # two files done, the third announced
                    token.cancel()
        except StopIteration as stop:
            report = stop.value
        assert report.cancelled and not report.ok
        assert len(case.documents()) == len(report.imported) == 3


def test_utf16_without_bom_gets_its_own_message(tmp_path: Path) -> None:
    raw = "Plain words in UTF-16 with no byte-order mark.\n".encode("utf-16-le")
    with pytest.raises(DocumentError, match="UTF-16 text without a byte-order mark"):
        load_document(_write(tmp_path, "nobom.txt", raw))


def test_zip_bomb_docx_is_not_unpacked(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b" " * (3 * MIB))  # compresses to a few KB
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(DocumentError, match=r"would unpack to 3.0 MB, over 10x the size limit \(1,024,000 bytes\)"):
        load_document(path, max_bytes=100 * 1024)


def test_epub_without_mimetype_entry_is_still_recognised(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "book.bin"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("META-INF/container.xml", "<container/>")
    with pytest.raises(DocumentError, match="not a readable EPUB"):
        load_document(path)  # sniffed as EPUB despite the suffix, then refused as damaged
