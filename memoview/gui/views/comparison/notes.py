"""The comparison's Notes tab: notes and tags kept beside the evidence (the output is never changed).

Each note or tag is written with ``Case.annotate`` and so is in the audit log.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QListWidget, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from memoview.gui import palette_colors


class NotesPanel(QWidget):
    def __init__(self, case: Any, attempt_id: int) -> None:
        super().__init__()
        self.case = case
        self.attempt_id = attempt_id
        c = palette_colors.colors()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        notes_title = QLabel(f"<span style='color:{c.secondary}'>Kept beside the evidence: the output is never "
                             "changed; notes and tags are in the audit log.</span>")
        notes_title.setWordWrap(True)
        layout.addWidget(notes_title)
        self.notes_list = QListWidget()
        self.notes_list.setObjectName("notesList")
        self.notes_list.setAccessibleName("Notes and tags on this attempt")
        self.notes_list.setWordWrap(True)
        layout.addWidget(self.notes_list, 1)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setObjectName("noteEdit")
        self.note_edit.setAccessibleName("New note")
        self.note_edit.setPlaceholderText("Write a note on this attempt…")
        self.note_edit.setMaximumHeight(60)
        add_note = QPushButton("Add note")
        add_note.setObjectName("addNote")
        add_note.clicked.connect(self.add_note)
        self.tag_edit = QLineEdit()
        self.tag_edit.setObjectName("tagEdit")
        self.tag_edit.setAccessibleName("New tag")
        self.tag_edit.setPlaceholderText("tag, e.g. key-finding")
        self.tag_edit.returnPressed.connect(self.add_tag)
        add_tag = QPushButton("Add tag")
        add_tag.clicked.connect(self.add_tag)
        row = QHBoxLayout()
        row.addWidget(self.note_edit, 1)
        row.addWidget(add_note)
        row.addWidget(self.tag_edit)
        row.addWidget(add_tag)
        layout.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        self.notes_list.clear()
        for ann in self.case.annotations("attempt", self.attempt_id):
            prefix = "Tag" if ann.kind == "tag" else "Note"
            self.notes_list.addItem(f"{prefix} by {ann.author}, {ann.created_at[:16].replace('T', ' ')} (self-asserted): {ann.body}")

    def add_note(self) -> None:
        body = self.note_edit.toPlainText().strip()
        if not body:
            return
        self.case.annotate("attempt", self.attempt_id, "note", body)
        self.note_edit.clear()
        self.refresh()

    def add_tag(self) -> None:
        body = self.tag_edit.text().strip()
        if not body:
            return
        self.case.annotate("attempt", self.attempt_id, "tag", body)
        self.tag_edit.clear()
        self.refresh()
