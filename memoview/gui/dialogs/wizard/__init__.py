"""The pages and parts of the extraction wizard (``gui/dialogs/extraction_wizard.py::ExtractionWizard``).

One module per step, in the wizard's order: ``model_page`` (1, model and engine), ``document_page`` (2),
``passage_page`` (3, one passage or the whole work), ``method_page`` (4), ``parameters_page`` (5),
``run_page`` (6). Shared parts: ``methods`` (the methods in plain words, which need a passage or the whole
work, a request's settings in words), ``plan_state`` (can the choice run, and what exactly it sends),
``planner`` (the look-ahead jobs that tokenize on the worker), ``widgets`` (the plan view, explanations).

**A new wizard setting** (say, a BOS policy) goes on ``ParametersPage`` in ``parameters_page.py``:
create its widget in ``__init__`` and add it as a row of ``basic_rows`` (always in view) or
``advanced_rows`` (under "Advanced settings"); say for which methods it shows in ``applicable``; put its
value in ``params`` (which becomes the typed request in ``gui/engine.py::build_request``); say it in words
in ``methods.py::settings_words`` (the run page's summary). If it changes what is sent, add its value to
the memo key of ``ExtractionWizard.plan_state`` and connect its change signal to ``_changed`` so the
preview is read again. A setting of how the model is run (engine, device, precision) belongs in the
engine dialog (``gui/dialogs/engine_dialog.py``), shown on the model page.
"""
