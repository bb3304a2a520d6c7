"""Where a store on local disk may live: the one rule both stores share (the folder store, milvus-lite's file)."""

from __future__ import annotations

from pathlib import Path

from policyqa.errors import PolicyQAError


def check_separate_folders(corpus_dir: Path, index_dir: Path) -> None:
    """The index must not live inside the corpus (its files would be scanned, listed and deletable as documents),
    nor the corpus inside the index (a build deletes old generations there)."""
    corpus, index = corpus_dir.resolve(), index_dir.resolve()
    if index.is_relative_to(corpus) or corpus.is_relative_to(index):
        raise PolicyQAError(
            f"the index folder '{index_dir}' and the corpus folder '{corpus_dir}' overlap; "
            "keep them side by side, e.g. --corpus corpus --index index"
        )
