"""A tagged PDF: logical structure for screen readers and accessibility checkers.

Open-source reportlab writes no structure tree, so memoview adds a plain one:
every drawn block (heading, paragraph, table, side-by-side columns, text
box, chart) is a marked-content sequence (``/H1 <</MCID n>> BDC ... EMC``)
in the page's content stream, and a ``StructTreeRoot`` lists one structure
element per sequence, in reading order, under a ``Document`` element. The
page band (legend, page number, Bates number) is marked as a pagination
artifact. The catalog says ``/MarkInfo <</Marked true>>`` and carries the
document language.

Tables are tagged down to their cells, so that a screen reader can move by
row and column: a ``Table`` element holds one ``TR`` per drawn row and one
``TH`` (header row, or the key column of a key/value table) or ``TD`` per
cell; each cell's drawing is its own marked-content sequence, and the grid
lines and cell shading are artifacts. reportlab's ``Table`` reports each row
and cell to a render callback (``renderCB``), which is where the tags are
emitted. The side-by-side columns (:class:`.flowables.TwoColumns`) tag
themselves as a two-column table: their mini-legend is the table's
``Caption``, the column titles are a header row, and each column's text is
one cell; line numbers are artifacts.

Other blocks (paragraphs, boxes, the map) stay one element each. Everything
keeps the output deterministic.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Sequence

from reportlab.platypus import Paragraph, Table
from reportlab.platypus.doctemplate import ActionFlowable
from reportlab.platypus.flowables import PageBreak, Spacer

from memoview.core.exhibits.rl_bases import Flowable, KeepTogether

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
        columns = getattr(self.inner, "tag_header_columns", None)
        for part in parts:
            if columns and isinstance(part, Table):
                part.tag_header_columns = columns  # the key column stays TH
        return [tag(p) for p in parts]

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:
        begin = getattr(canvas, "begin_tag", None)
        if begin is None or getattr(self.inner, "tags_itself", False):
            self.inner.drawOn(canvas, x, y, _sW)  # untagged canvas, or a flowable that tags its own parts
            return
        if isinstance(self.inner, Table):
            self._draw_table(canvas, x, y, _sW)
            return
        begin(self.role)
        try:
            self.inner.drawOn(canvas, x, y, _sW)
        finally:
            canvas.end_tag()

    def _draw_table(self, canvas: Any, x: float, y: float, _sW: float) -> None:
        table: Any = self.inner  # a reportlab Table (drawOn checked), untyped
        repeat = table.repeatRows
        header_rows = set(repeat) if isinstance(repeat, (tuple, list)) else set(range(int(repeat or 0)))
        tagger = _TableTagger(canvas, header_rows, set(getattr(table, "tag_header_columns", ())))
        previous = getattr(table, "_renderCB", None)
        table._renderCB = tagger
        canvas.begin_group("Table")
        try:
            table.drawOn(canvas, x, y, _sW)
        finally:
            table._renderCB = previous
            tagger.close()
            canvas.end_group()

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


def header_columns(table: Table, columns: Sequence[int]) -> Table:
    """Mark ``columns`` of a key/value table as row headers (TH). Kept on the parts of a split table."""
    table.tag_header_columns = tuple(columns)
    return table


class _TableTagger:
    """reportlab ``renderCB`` for one table draw: TR per row, TH/TD per cell, shading and lines as artifacts."""

    def __init__(self, canvas: Any, header_rows: set[int], header_cols: set[int]) -> None:
        self.canvas = canvas
        self.header_rows = header_rows
        self.header_cols = header_cols
        self.open_row = False

    def __call__(self, table: Any, event: str, *args: Any) -> None:
        c = self.canvas
        if event in ("startBG", "startLines"):
            c.begin_artifact()
        elif event in ("endBG", "endLines"):
            c.end_tag()
        elif event == "startRow":
            c.begin_group("TR")
            self.open_row = True
        elif event == "endRow":
            c.end_group()
            self.open_row = False
        elif event == "startCell":
            row, col = int(args[0]), int(args[1])
            if row in self.header_rows:
                c.begin_tag("TH", scope="Column")
            elif col in self.header_cols:
                c.begin_tag("TH", scope="Row")
            else:
                c.begin_tag("TD")
        elif event == "endCell":
            c.end_tag()

    def close(self) -> None:
        if self.open_row:  # the draw failed mid-row: keep the structure balanced
            self.canvas.end_group()
            self.open_row = False


@contextmanager
def structure(canvas: Any, role: str) -> Iterator[None]:
    """A structure element that groups the tags drawn inside it (a no-op on an untagged canvas)."""
    if not hasattr(canvas, "begin_group"):
        yield
        return
    canvas.begin_group(role)
    try:
        yield
    finally:
        canvas.end_group()


@contextmanager
def content(canvas: Any, role: str, **attrs: str) -> Iterator[None]:
    """One marked-content sequence of ``role`` (a leaf structure element)."""
    if not hasattr(canvas, "begin_tag"):
        yield
        return
    canvas.begin_tag(role, **attrs)
    try:
        yield
    finally:
        canvas.end_tag()


@contextmanager
def artifact(canvas: Any) -> Iterator[None]:
    """Drawing that is not content (rules, line numbers, shading): marked as an artifact."""
    if not hasattr(canvas, "begin_artifact"):
        yield
        return
    canvas.begin_artifact()
    try:
        yield
    finally:
        canvas.end_tag()


@dataclass
class Node:
    """One structure element: a leaf (``mcid`` set) or a group of ``kids``."""

    role: str
    mcid: Optional[int] = None
    kids: list["Node"] = field(default_factory=list)
    scope: str = ""


class StructureRecorder:
    """Collects, per page, the structure (groups and marked-content leaves); writes the tree at save."""

    def __init__(self) -> None:
        self.current: list[Node] = []  # this page's top-level elements
        self.stack: list[Node] = []  # open groups (Table, TR)
        self.mcid = 0
        self.depth = 0  # > 0 inside a marked-content sequence (nested tags are folded into it)
        self.suppressed = 0  # groups begun inside a sequence (ignored, but kept balanced)

    def _add(self, node: Node) -> None:
        (self.stack[-1].kids if self.stack else self.current).append(node)

    def begin(self, code: list[str], role: str, scope: str = "") -> None:
        if self.depth:  # nested (a table inside a box): one sequence already covers it
            self.depth += 1
            return
        code.append(f"/{role} <</MCID {self.mcid}>> BDC")
        self._add(Node(role, self.mcid, scope=scope))
        self.mcid += 1
        self.depth = 1

    def begin_artifact(self, code: list[str]) -> None:
        if self.depth:
            self.depth += 1
            return
        code.append("/Artifact BMC")
        self.depth = 1

    def end(self, code: list[str]) -> None:
        self.depth -= 1
        if self.depth == 0:
            code.append("EMC")

    def begin_group(self, role: str) -> None:
        if self.depth:
            self.suppressed += 1
            return
        node = Node(role)
        self._add(node)
        self.stack.append(node)

    def end_group(self) -> None:
        if self.suppressed:
            self.suppressed -= 1
            return
        if self.stack:
            self.stack.pop()

    def next_page(self) -> list[Node]:
        done = self.current
        self.current, self.stack, self.mcid, self.depth, self.suppressed = [], [], 0, 0, 0
        return done

    def write(self, doc: Any, page_names: list[str], page_objects: list[Any], page_nodes: list[list[Node]],
              language: str) -> None:
        """Add StructTreeRoot, ParentTree, MarkInfo and Lang to the document ``doc`` (a PDFDocument)."""
        from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFObjectReference, PDFString

        root = PDFDictionary({"Type": PDFName("StructTreeRoot")})
        root_ref = doc.Reference(root)
        document = PDFDictionary({"Type": PDFName("StructElem"), "S": PDFName("Document"), "P": root_ref,
                                  "Lang": PDFString(language)})
        document_ref = doc.Reference(document)

        def element(node: Node, parent_ref: Any, page_ref: Any, leaves: dict[int, Any]) -> Any:
            elem = PDFDictionary({"Type": PDFName("StructElem"), "S": PDFName(node.role), "P": parent_ref,
                                  "Pg": page_ref})
            if node.role == "Figure":
                elem["Alt"] = PDFString("Memorization map: a bar chart of the leading exact tokens of each "
                                        "window across the work")
            if node.scope:
                elem["A"] = PDFDictionary({"O": PDFName("Table"), "Scope": PDFName(node.scope)})
            ref = doc.Reference(elem)
            if node.mcid is not None:
                elem["K"] = node.mcid
                leaves[node.mcid] = ref
            else:
                elem["K"] = PDFArray([element(kid, ref, page_ref, leaves) for kid in node.kids])
            return ref

        kids: list[Any] = []
        nums: list[Any] = []
        for index, (name, page, nodes) in enumerate(zip(page_names, page_objects, page_nodes)):
            page_ref = PDFObjectReference(name)
            page.StructParents = index
            page.__NoDefault__ = list(page.__NoDefault__) + ["StructParents"]
            leaves: dict[int, Any] = {}
            kids += [element(node, document_ref, page_ref, leaves) for node in nodes]
            nums += [index, PDFArray([leaves[m] for m in sorted(leaves)])]
        document["K"] = PDFArray(kids)
        root["K"] = document_ref
        root["ParentTree"] = doc.Reference(PDFDictionary({"Nums": PDFArray(nums)}))
        root["ParentTreeNextKey"] = len(page_names)
        doc.Catalog.StructTreeRoot = root_ref
        doc.Catalog.MarkInfo = PDFDictionary({"Marked": "true"})
        doc.Catalog.Lang = PDFString(language)
