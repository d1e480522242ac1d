"""HTML to text: the article, not the page around it.

A web page saved from a news site or a book seller carries menus, cookie
banners and footers that are not the work; aligning model output against
them would find "reproduction" of boilerplate. trafilatura finds the main
content; when it finds none (a bare page, a fragment) a plain lxml walk
that drops navigation elements takes over. The walk is also what EPUB
chapters use, because a chapter is all content and trafilatura can drop a
short one as "not an article".
"""

from __future__ import annotations

import re
from importlib.metadata import version

from memoview.core.documents.base import Extraction
from memoview.core.documents.encoding import decode_text
from memoview.core.errors import DocumentError

MEDIA_TYPE = "text/html"

# Elements that never hold readable text.
NON_TEXT = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "head", "button", "select"})
# Page furniture around an article: never the work.
FURNITURE = NON_TEXT | {"nav", "aside", "form", "menu"}
# Kept only inside an <article> or <main> (a chapter's heading often sits in <header>).
_PAGE_BANDS = {"header", "footer"}
_FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}
_BLOCK = {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
          "blockquote", "pre", "table", "tr", "dl", "dt", "dd", "figure", "figcaption", "br", "hr",
          "body", "title", "address", "center", "header", "footer"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)


def decode_html(raw: bytes, name: str) -> tuple[str, str]:
    """Decode HTML bytes, honouring a ``<meta charset>`` declaration when UTF-8 fails."""
    try:
        return decode_text(raw, name)
    except DocumentError:
        declared = _META_CHARSET.search(raw[:4096])
        if declared is None:
            raise
        encoding = declared.group(1).decode("ascii").lower()
        try:
            return raw.decode(encoding, errors="strict"), encoding
        except (LookupError, UnicodeDecodeError):
            raise DocumentError(
                f"{name} declares the character set '{encoding}' but its bytes are not valid in it.",
                "Re-save the page as UTF-8.",
            ) from None


def _parse(markup: str):  # type: ignore[no-untyped-def]
    import lxml.html

    # lxml refuses str input that carries an XML encoding declaration.
    markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", markup)
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(markup, parser=parser)
    except Exception:  # lxml.etree.ParserError on empty documents
        return None
    # libxml2 stops at 256 levels of nesting and silently drops the rest: refuse instead.
    if any("Excessive depth" in e.message for e in parser.error_log):
        raise DocumentError(
            "its HTML is nested more than 256 elements deep; the parser would silently drop everything deeper, "
            "so it was refused.", "Deep nesting like this is not a real page; check the file.")
    return root


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _strip_furniture(root) -> None:  # type: ignore[no-untyped-def]
    """Remove navigation, sidebars, forms and page-level headers/footers in place."""
    doomed = []
    for element in root.iter():
        tag = _local(element.tag)
        role = (element.get("role") or "").lower() if isinstance(element.tag, str) else ""
        if tag in FURNITURE or role in _FURNITURE_ROLES:
            doomed.append(element)
        elif tag in _PAGE_BANDS and not any(_local(a.tag) in ("article", "main") for a in element.iterancestors()):
            doomed.append(element)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail text, which belongs to the parent


def _walk(root, drop: frozenset[str]) -> str:  # type: ignore[no-untyped-def]
    parts: list[str] = []

    def visit(element) -> None:  # type: ignore[no-untyped-def]
        tag = _local(element.tag)
        if not isinstance(element.tag, str) or tag in drop:
            if element.tail:
                parts.append(element.tail)
            return
        block = tag in _BLOCK
        if block:
            parts.append("\n")
        if element.text:
            parts.append(element.text)
        for child in element:
            visit(child)
        if tag in ("td", "th"):
            parts.append("\t")
        if block:
            parts.append("\n")
        if element.tail:
            parts.append(element.tail)

    body = root.find("body")
    visit(body if body is not None else root)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def walk_text(markup: str, *, drop: frozenset[str] = NON_TEXT) -> str:
    """Visible text of an HTML/XHTML document, block elements on their own lines.

    With the default ``drop`` everything readable is kept (EPUB chapters);
    :func:`extract` strips page furniture first.
    """
    root = _parse(markup)
    return "" if root is None else _walk(root, drop)


def _title_author(markup: str) -> tuple[str, str]:
    root = _parse(markup)
    if root is None:
        return "", ""
    title = ""
    for xpath in ('//meta[@property="og:title"]/@content', "//title/text()", "//h1//text()"):
        found = [t.strip() for t in root.xpath(xpath) if t.strip()]
        if found:
            title = found[0]
            break
    authors = [a.strip() for a in root.xpath('//meta[@name="author"]/@content') if a.strip()]
    return title, authors[0] if authors else ""


def extract(raw: bytes, name: str) -> Extraction:
    import lxml.html
    import trafilatura

    markup, encoding = decode_html(raw, name)
    title, author = _title_author(markup)
    root = _parse(markup)
    if root is None:
        raise DocumentError(f"{name} is not readable HTML (the parser found no document).",
                            "Check that the right file was chosen.")
    _strip_furniture(root)
    cleaned = lxml.html.tostring(root, encoding="unicode")
    text = trafilatura.extract(cleaned, include_comments=False, include_tables=True, deduplicate=False)
    extractor = "trafilatura"
    extractor_version = version("trafilatura")
    warnings: tuple[str, ...] = ()
    if not text or not text.strip():
        text = _walk(root, FURNITURE)
        extractor = "lxml-text-walk"
        extractor_version = version("lxml")
        warnings = ("trafilatura found no article; the page's visible text without navigation was used",)
    return Extraction(text=text, media_type=MEDIA_TYPE, extractor=extractor,
                      extractor_version=extractor_version, encoding=encoding,
                      title=title, author=author, warnings=warnings)
