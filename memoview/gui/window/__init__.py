"""The parts the main window (``gui/main_window.py::MainWindow``) is composed of.

``MainWindow`` owns the case, the one worker and the slots behind the menus; each part of its
chrome lives here:

- ``menus.py``      the menu bar as a table. **A new menu action** is one ``MenuAction`` line in
                    ``MENUS`` (name, text, slot, shortcut, tip, ``needs_case``) plus its slot: a
                    ``MainWindow`` method that calls into a new module, dialog or job.
- ``tabs.py``       ``CaseTabs``: the central tab widget, one tab per key (``"document:3"``), pinned
                    tabs (Start, Overview) the user cannot close. **A new view** opens with
                    ``window.tabs.find_view(key)``, else ``window.tabs.add_view(key, view, title, tip)``,
                    from a ``MainWindow.open_*`` slot.
- ``status.py``     ``StatusLine``: the open case's summary, the running job's label, progress and Cancel.
- ``start_page.py`` the Start page (first steps, the demo-protocol button) and the disclosure notice.
- ``drops.py``      what a dropped path is: a model (folder with config.json, a .gguf) or a document.
- ``dock_width.py`` the case tree dock's width: a fifth of the window, or the width the user dragged it to.
- ``reports.py``    the words a finished job is reported in (verification, protocol, import, model info).

The worker jobs the window submits are in ``gui/case_jobs.py`` (import, fingerprint) and
``gui/engine.py`` (models, attempts, protocols); the theme is app-wide, in ``gui/theme.py``.
Importing this package stays cheap: no torch, no case-file machinery.
"""
