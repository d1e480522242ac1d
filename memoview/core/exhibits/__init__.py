"""Annotated PDF exhibits (reportlab). ``styles`` is shared with the GUI.

Import :func:`export_exhibit` and :class:`ExportOptions` from
:mod:`memoview.core.exhibits.export`; reportlab is loaded only when an
exhibit is drawn.
"""
