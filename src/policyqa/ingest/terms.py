"""Words → index terms for BM25 and the grounding checks: English stop words dropped, Snowball stems."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _stemmer() -> Any:
    try:
        import Stemmer  # PyStemmer: Snowball English, a C extension

        return Stemmer.Stemmer("english")
    except ImportError:
        return None


def stems(words: list[str]) -> list[str]:
    """Lower-cased Snowball stems ("signed", "signing" → "sign"); the words themselves without PyStemmer."""
    stemmer = _stemmer()
    lowered = [w.lower() for w in words]
    return stemmer.stemWords(lowered) if stemmer is not None else lowered


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def stemmer_in_use() -> bool:
    return _stemmer() is not None
