"""Dialogs: the guided extraction wizard, the export dialog, the one error dialog."""
