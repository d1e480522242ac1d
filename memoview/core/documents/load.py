"""Reading one source file into a :class:`LoadedDocument`, or refusing it with the reason.

Everything that is the same for every format happens here, once: the path
checks (missing, dangling link, folder, not a regular file, unreadable),
the size limit (checked with ``stat()`` before a byte is read, so a huge
file costs nothing), hashing the raw bytes and the text, and newline
normalisation. The format modules only turn bytes into text.
"""

from __future__ import annotations

import hashlib
import os
import io
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Callable

from memoview.core.documents.base import Extraction, LoadedDocument
from memoview.core.documents.safezip import check_archive, read_head
from memoview.core.errors import DocumentError

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 25 * MIB
# docx and epub are zip archives: their unpacked size may be this many times the limit.
ZIP_EXPANSION_FACTOR = 10

SUPPORTED_SUFFIXES: dict[str, str] = {
    ".txt": "txt", ".text": "txt",
    ".md": "md", ".markdown": "md",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".epub": "epub",
}
_BINARY_FORMATS = {"pdf", "docx", "epub"}
_FORMAT_NAMES = {"pdf": "PDF", "docx": "Word (.docx)", "epub": "EPUB"}


def _extractor(fmt: str) -> Callable[[bytes, str], Extraction]:
    """The loader for a format, imported only when it is needed."""
    if fmt == "txt":
        from memoview.core.documents.text import extract_plain

        return extract_plain
    if fmt == "md":
        from memoview.core.documents.text import extract_markdown

        return extract_markdown
    if fmt == "html":
        from memoview.core.documents import html

        return html.extract
    if fmt == "pdf":
        from memoview.core.documents import pdf

        return pdf.extract
    if fmt == "docx":
        from memoview.core.documents import docx

        return docx.extract
    if fmt == "epub":
        from memoview.core.documents import epub

        return epub.extract
    raise AssertionError(fmt)


def sniff(raw: bytes) -> str | None:
    """The format the content itself announces (PDF, docx, EPUB), or None for text-like bytes."""
    if raw[:1024].lstrip()[:5] == b"%PDF-":
        return "pdf"
    if raw[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = set(zf.namelist())
                # At most 64 bytes of one member: a bomb hidden in 'mimetype' is never inflated here.
                if "mimetype" in names and read_head(zf, "mimetype").strip() == b"application/epub+zip":
                    return "epub"
                if "META-INF/container.xml" in names:  # an EPUB whose writer forgot the mimetype entry
                    return "epub"
                if "word/document.xml" in names:
                    return "docx"
        except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError, EOFError, zlib.error,
                NotImplementedError):
            return None
        return "zip"
    return None


def _check_unpacked_size(path: Path, raw: bytes, max_bytes: int) -> None:
    """Refuse zip-based files (docx, epub) that would unpack to far more than the size limit."""
    limit = ZIP_EXPANSION_FACTOR * max_bytes
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # the format loader reports a damaged archive with its own message
    if unpacked > limit:
        raise DocumentError(
            f"{path} would unpack to {_mb(unpacked)}, over {ZIP_EXPANSION_FACTOR}x the size limit "
            f"({_mb(limit)}); it was not unpacked.",
            "Raise the limit with --max-mb if this is really one document.",
        )
    # The declared sizes may lie (small declared, huge inflated): count what actually comes out.
    check_archive(raw, limit, str(path))


def _mb(n: int) -> str:
    """Sizes as the --max-mb option counts them (MB = MiB), exact when whole."""
    if n < MIB:
        return f"{n:,} bytes"
    return f"{n // MIB} MB" if n % MIB == 0 else f"{n / MIB:.1f} MB"


def _check_path(path: Path, max_bytes: int) -> os.stat_result:
    name = str(path)
    if not os.path.lexists(path):
        raise DocumentError(f"{name} does not exist.", "Check the path and its spelling.")
    if path.is_symlink() and not path.exists():
        raise DocumentError(
            f"{name} cannot be read: it is a symbolic link to {os.readlink(path)}, which does not exist.",
            "Point the link at an existing file, or import the file itself.",
        )
    try:
        info = path.stat()
    except OSError as exc:
        raise DocumentError(f"{name} cannot be read ({exc.strerror}).",
                            "Check the file's permissions and that its folder is accessible.") from None
    if stat.S_ISDIR(info.st_mode):
        raise DocumentError(f"{name} is a folder, not a file.",
                            "Give the files inside it instead (e.g. FOLDER/*.txt).")
    if not stat.S_ISREG(info.st_mode):
        raise DocumentError(f"{name} is not a regular file (a device, socket or pipe).",
                            "Copy its content into a file and import that.")
    if info.st_size == 0:
        raise DocumentError(f"{name} is empty (0 bytes).", "Check that the right file was chosen.")
    if info.st_size > max_bytes:
        raise DocumentError(
            f"{name} is {_mb(info.st_size)}, over the size limit of {_mb(max_bytes)}; it was not read.",
            "Raise the limit with --max-mb if this is really one document, or split it.",
        )
    return info


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except PermissionError:
        raise DocumentError(f"{path} cannot be read (permission denied).",
                            "Check the file's permissions, or copy it somewhere readable.") from None
    except OSError as exc:
        raise DocumentError(f"{path} cannot be read ({exc.strerror or exc}).",
                            "Check that the file is accessible.") from None
    if len(raw) > max_bytes:  # it grew between stat() and read()
        raise DocumentError(f"{path} is over the size limit of {_mb(max_bytes)}; it was not read in full.",
                            "Raise the limit with --max-mb if this is really one document.")
    if not raw:
        raise DocumentError(f"{path} is empty (0 bytes).", "Check that the right file was chosen.")
    return raw


def choose_format(path: Path, raw: bytes) -> str:
    """Pick the loader: content signatures of binary formats win, else the suffix decides."""
    suffix = path.suffix.lower()
    by_suffix = SUPPORTED_SUFFIXES.get(suffix)
    sniffed = sniff(raw)
    if sniffed in _BINARY_FORMATS:
        return sniffed
    if by_suffix in _BINARY_FORMATS:
        raise DocumentError(
            f"{path} is named {suffix} but its content is not a {_FORMAT_NAMES[by_suffix]} file"
            + (" (it is a zip archive of another kind)." if sniffed == "zip" else "."),
            "The file is damaged, truncated or misnamed; check that the right file was chosen.",
        )
    if sniffed == "zip":
        raise DocumentError(f"{path} is a zip archive, which memoview does not import.",
                            "Unpack it and import the documents inside.")
    if by_suffix is None:
        known = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DocumentError(
            f"{path} has the unsupported suffix '{suffix or '(none)'}'.",
            f"Supported: {known}. If it is plain text, rename it to .txt.",
        )
    return by_suffix


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_document(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedDocument:
    """Read, check and extract one file. Raises :class:`DocumentError` with the reason."""
    if max_bytes <= 0:
        raise DocumentError(f"The size limit must be positive (got {max_bytes} bytes).",
                            "Give --max-mb a positive number.")
    file_path = Path(os.path.abspath(os.fspath(path)))
    _check_path(file_path, max_bytes)
    raw = _read(file_path, max_bytes)
    fmt = choose_format(file_path, raw)
    if fmt in ("docx", "epub"):
        _check_unpacked_size(file_path, raw, max_bytes)
    extractor = _extractor(fmt)
    try:
        extraction = extractor(raw, str(file_path))
    except DocumentError:
        raise
    except Exception as exc:  # a format library choking on a damaged file: still the user's file
        raise DocumentError(
            f"{file_path} could not be read as {fmt} ({type(exc).__name__}: {exc}).",
            "The file may be damaged. If it opens normally elsewhere, please report this with the file.",
        ) from exc
    text = normalize_newlines(extraction.text)
    if not text.strip():
        raise DocumentError(f"{file_path} contains no text (only whitespace after extraction).",
                            "Check that the right file was chosen.")
    return LoadedDocument(
        path=str(file_path),
        filename=file_path.name,
        media_type=extraction.media_type,
        raw=raw,
        raw_sha256=sha256_hex(raw),
        text=text,
        text_sha256=sha256_hex(text.encode("utf-8")),
        extractor=extraction.extractor,
        extractor_version=extraction.extractor_version,
        encoding=extraction.encoding,
        title=extraction.title,
        author=extraction.author,
        warnings=extraction.warnings,
    )
