"""One corpus file → a `PreparedDocument`: the document read, its chunks, and each chunk's whole sentences.

The unit of work a build hands to the embed stage, in one process or on a Ray cluster alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from policyqa.ingest.chunking import Chunk, Chunker
from policyqa.ingest.documents import CorpusFile, Document, read_document
from policyqa.ingest.sentences import passage_sentences


@dataclass(frozen=True)
class PreparedDocument:
    doc: Document
    chunks: list[Chunk]
    sentence_spans: list[list[tuple[int, int]]]  # per chunk: (start, end) of its whole sentences in doc.text

    def sentence_texts(self) -> list[str]:
        return [self.doc.text[a:b] for spans in self.sentence_spans for a, b in spans]


def prepare_document(file: CorpusFile, chunker: Chunker) -> PreparedDocument:
    """Read, chunk and split into sentences; DocumentError when the file cannot be read."""
    doc = read_document(file)
    chunks = chunker.split(doc)
    return PreparedDocument(doc, chunks, [passage_sentences(doc.text, c.start, c.end) for c in chunks])
