"""A tagged PDF: logical structure for screen readers and accessibility checkers.

Open-source reportlab writes no structure tree, so memoview adds a plain one:
every drawn block (heading, paragraph, table, side-by-side columns, text
box, chart) is a marked-content sequence (``/H1 <</MCID n>> BDC ... EMC``)
in the page's content stream, and a ``StructTreeRoot`` lists one structure
element per sequence, in reading order, under a ``Document`` element. The
page band (legend, page number, Bates number) is marked as a pagination
artifact. The catalog says ``/MarkInfo <</Marked true>>`` and carries the
document language.

The structure is coarse (a table is one element, not rows and cells), which
is what PDF/UA calls a minimum; it gives reading order, headings and
language, and keeps the output deterministic.
"""

from __future__ import annotations

from typing import Any, Optional

from reportlab.platypus import Flowable, Paragraph, Table
from reportlab.platypus.doctemplate import ActionFlowable
from reportlab.platypus.flowables import KeepTogether, PageBreak, Spacer

LANGUAGE = "en-US"

_HEADINGS = {"h1": "H1", "h2": "H2", "h3": "H3", "title": "Title"}


def role_of(flowable: Flowable) -> Optional[str]:
    """The structure type for a flowable, or None for things that draw nothing (spacers, page breaks)."""
    if isinstance(flowable, (ActionFlowable, Spacer, KeepTogether, PageBreak)):
        return None
    if isinstance(flowable, Paragraph):
        return _HEADINGS.get(getattr(flowable.style, "name", ""), "P")
    if isinstance(flowable, Table):
        return "Table"
    name = type(flowable).__name__
    if name == "MemorizationMap":
        return "Figure"
    if name in ("TwoColumns", "TextBox", "LegendSample"):
        return "Div"
    return "Div"


class Tagged(Flowable):
    """Draws ``inner`` inside a marked-content sequence of type ``role``; splits into tagged parts."""

    def __init__(self, inner: Flowable, role: str) -> None:
        super().__init__()
        self.inner = inner
        self.role = role
        self.hAlign = getattr(inner, "hAlign", "LEFT")
        self.vAlign = getattr(inner, "vAlign", "BOTTOM")

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        w, h = self.inner.wrap(availWidth, availHeight)
        self.width, self.height = w, h
        return w, h

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        parts = self.inner.split(availWidth, availHeight)
        if len(parts) == 1 and parts[0] is self.inner:
            return [self]
        return [tag(p) for p in parts]

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:
        begin = getattr(canvas, "begin_tag", None)
        if begin is None:
            self.inner.drawOn(canvas, x, y, _sW)
            return
        begin(self.role)
        try:
            self.inner.drawOn(canvas, x, y, _sW)
        finally:
            canvas.end_tag()

    def getSpaceBefore(self) -> float:
        return float(self.inner.getSpaceBefore())

    def getSpaceAfter(self) -> float:
        return float(self.inner.getSpaceAfter())

    def getKeepWithNext(self) -> bool:
        return bool(self.inner.getKeepWithNext())

    def identity(self, maxLen: Optional[int] = None) -> str:
        return f"Tagged({self.role}, {self.inner.identity(maxLen)})"


def tag(flowable: Flowable) -> Flowable:
    """Wrap a flowable (and the contents of a KeepTogether) for tagging; idempotent."""
    if isinstance(flowable, Tagged):
        return flowable
    if isinstance(flowable, KeepTogether):
        flowable._content = [tag(f) for f in flowable._content]
        return flowable
    role = role_of(flowable)
    return flowable if role is None else Tagged(flowable, role)


class StructureRecorder:
    """Collects, per page, the marked-content ids and their roles; writes the structure tree at save."""

    def __init__(self) -> None:
        self.pages: list[list[str]] = []  # page index -> roles, by MCID
        self.current: list[str] = []
        self.depth = 0

    def begin(self, code: list[str], role: str) -> None:
        if self.depth:  # nested (a table inside a box): one sequence already covers it
            self.depth += 1
            return
        code.append(f"/{role} <</MCID {len(self.current)}>> BDC")
        self.current.append(role)
        self.depth = 1

    def end(self, code: list[str]) -> None:
        self.depth -= 1
        if self.depth == 0:
            code.append("EMC")

    def next_page(self) -> list[str]:
        done, self.current, self.depth = self.current, [], 0
        return done

    def write(self, doc: Any, page_names: list[str], page_objects: list[Any], page_roles: list[list[str]],
              language: str) -> None:
        """Add StructTreeRoot, ParentTree, MarkInfo and Lang to the document ``doc`` (a PDFDocument)."""
        from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFObjectReference, PDFString

        root = PDFDictionary({"Type": PDFName("StructTreeRoot")})
        root_ref = doc.Reference(root)
        document = PDFDictionary({"Type": PDFName("StructElem"), "S": PDFName("Document"), "P": root_ref,
                                  "Lang": PDFString(language)})
        document_ref = doc.Reference(document)
        kids: list[Any] = []
        nums: list[Any] = []
        for index, (name, page, roles) in enumerate(zip(page_names, page_objects, page_roles)):
            page_ref = PDFObjectReference(name)
            page.StructParents = index
            page.__NoDefault__ = list(page.__NoDefault__) + ["StructParents"]
            per_page: list[Any] = []
            for mcid, role in enumerate(roles):
                elem = PDFDictionary({"Type": PDFName("StructElem"), "S": PDFName(role), "P": document_ref,
                                      "Pg": page_ref, "K": mcid})
                if role == "Figure":
                    elem["Alt"] = PDFString("Memorization map: a bar chart of the leading exact tokens of each "
                                            "window across the work")
                ref = doc.Reference(elem)
                kids.append(ref)
                per_page.append(ref)
            nums += [index, PDFArray(per_page)]
        document["K"] = PDFArray(kids)
        root["K"] = document_ref
        root["ParentTree"] = doc.Reference(PDFDictionary({"Nums": PDFArray(nums)}))
        root["ParentTreeNextKey"] = len(page_names)
        doc.Catalog.StructTreeRoot = root_ref
        doc.Catalog.MarkInfo = PDFDictionary({"Marked": "true"})
        doc.Catalog.Lang = PDFString(language)
