"""The doctor measures document lengths in Python: SQLite's length() stops at a NUL (issue 22, "fix first")."""

from __future__ import annotations

import sqlite3

import numpy as np

from policyqa.index.faiss_sqlite.checks import _sentence_problems
from policyqa.index.faiss_sqlite.generation import SCHEMA


def test_a_nul_inside_a_document_does_not_look_like_damage() -> None:
    text = "Early \x00 words. " + "A sentence far after the NUL character, well past it. " * 3
    start = text.index("A sentence")
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    db.execute(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ["d.txt", "d.txt", "D", "0" * 64, len(text), text, "[]", "[]", 0.0, "{}"],
    )
    db.execute("INSERT INTO chunks VALUES (1, 'd.txt', ?, ?, NULL, NULL, NULL, ?)", [start, len(text), text[start:]])
    vector = np.ones(4, dtype="<f4") / 2.0
    db.execute("INSERT INTO sentences VALUES (1, ?, ?, ?)", [start, len(text) - 1, vector.tobytes()])
    assert db.execute("SELECT length(text) FROM documents").fetchone()[0] < start  # what fooled the old check
    assert _sentence_problems(db, 4) == []
    db.execute('UPDATE sentences SET "end" = ?', [len(text) + 5])  # a span past the end is still caught
    assert len(_sentence_problems(db, 4)) == 1
