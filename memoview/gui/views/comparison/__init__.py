"""The parts of the comparison view (``gui/views/comparison_view.py::ComparisonView``).

``ComparisonView`` keeps the two text panes, their highlights, match navigation (F7) and scroll
coupling; its parts are here:

- ``header.py``        the header line (attempt, document, model, decoding) and the colour legend.
- ``bands.py``         the gutter that joins each output span to its source twin.
- ``matches.py``       the Matches tab (one row per span).
- ``measurements.py``  the Measurements tab and the info line under the panes. **A new measurement** of
                       an attempt goes in ``gui/wording.py::attempt_metric_lines`` (with its plain sentence);
                       one that needs the document's text goes in ``measurements.py::entropy_rows``' manner.
- ``notes.py``         the Notes tab (notes and tags, written to the audit log).
- ``sync.py``          which place of one pane corresponds to a place of the other (pure arithmetic).

**A new tab** of the details panel is a widget built from the case and the attempt (as
``views/exchanges_panel.py``), added in ``ComparisonView.__init__`` next to the others.
The alignment job the view submits is ``gui/case_jobs.py::align_attempt_job``.
"""
