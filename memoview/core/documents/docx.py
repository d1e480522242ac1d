"""Word documents (.docx): paragraphs and tables in the order they appear (python-docx)."""

from __future__ import annotations

import io
import zipfile
from importlib.metadata import version

from memoview.core.documents.base import Extraction
from memoview.core.errors import DocumentError

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _table_lines(table) -> list[str]:  # type: ignore[no-untyped-def]
    """One line per row, cells separated by tabs; a merged cell is written once."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # merged cells repeat the same cell along the row
                continue
            previous = cell._tc
            cells.append(cell.text.strip())
        lines.append("\t".join(cells))
    return lines


def extract(raw: bytes, name: str) -> Extraction:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(
            f"{name} is not a readable Word (.docx) document ({type(exc).__name__}: {exc}).",
            "Open it in a word processor and save it again as .docx.",
        ) from None
    except Exception as exc:  # python-docx raises PackageNotFoundError and lxml errors
        raise DocumentError(
            f"{name} is not a readable Word (.docx) document ({type(exc).__name__}).",
            "Open it in a word processor and save it again as .docx.",
        ) from None
    blocks: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            blocks.extend(_table_lines(block))
        else:
            blocks.append(block.text)
    props = document.core_properties
    return Extraction(text="\n".join(blocks), media_type=MEDIA_TYPE, extractor="python-docx",
                      extractor_version=version("python-docx"),
                      title=(props.title or "").strip(), author=(props.author or "").strip())
