"""Late chunking: a sentence's vector pooled from the token states of the chunk that holds it, in the chunk's own
forward pass, so a build embeds each chunk once and gets its sentences' vectors for free.

The sentence vector is the mean of the last-layer states of the sentence's tokens (the tokens whose character
offsets overlap the sentence) within its chunk, L2-normalised: the same pooling as the chunk vector, over a span.
A sentence that two chunks hold (the overlap) or that crosses a chunk boundary gets one vector, pooled in its
*home* chunk: the chunk holding most of its characters (ties: the earlier chunk). That chunk sees the most of the
sentence's own words, and every row of the sentence then has the same vector, so `ask` scores a sentence the same
whichever of its chunks was retrieved. A sentence longer than any chunk is pooled over the part its home chunk holds.

"separate" (each sentence embedded on its own, a second encode of about as many tokens as the chunks) is kept as an
option: the manifest records which one built an index, and a change rebuilds it with that reason.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

SentenceVectors = Literal["late", "separate"]
SENTENCE_VECTORS: tuple[str, ...] = get_args(SentenceVectors)
DEFAULT_SENTENCE_VECTORS: SentenceVectors = "late"
BEFORE = {"vectors": "separate"}  # what indexes built before this setting was recorded hold

Span = tuple[int, int]


def sentence_settings(mode: SentenceVectors) -> dict[str, str]:
    """The manifest's "sentences" entry."""
    if mode not in SENTENCE_VECTORS:
        raise ValueError(f"unknown sentence vectors {mode!r}; choose one of {', '.join(SENTENCE_VECTORS)}")
    return {"vectors": mode}


def home_chunks(chunks: list[Span], sentences: list[list[Span]]) -> dict[Span, int]:
    """For each sentence (document offsets), the index of the chunk holding most of its characters (ties: the
    earlier chunk). `sentences[i]` are the sentences overlapping chunk i."""
    home: dict[Span, tuple[int, int]] = {}
    for i, ((c_start, c_end), spans) in enumerate(zip(chunks, sentences, strict=True)):
        for a, b in spans:
            held = min(b, c_end) - max(a, c_start)
            if a < b and (held > home.get((a, b), (-1, 0))[0]):
                home[a, b] = (held, i)
    return {span: i for span, (_, i) in home.items()}


def pool_spans(states: np.ndarray, offsets: np.ndarray, spans: list[Span]) -> np.ndarray:
    """Unit mean vectors of the token states whose character offsets overlap each span.

    `states`: (tokens, hidden) of one text; `offsets`: (tokens, 2) character offsets into that text, (0, 0) for
    special and padding tokens (which belong to no span). A span with no token gets a row of NaN."""
    if not spans:
        return np.zeros((0, states.shape[1]), np.float32)
    bounds = np.asarray(spans, dtype=np.int64)
    starts, ends = offsets[:, 0][None, :], offsets[:, 1][None, :]
    member = (starts < bounds[:, 1:2]) & (ends > bounds[:, 0:1]) & (ends > starts)
    counts = member.sum(1, keepdims=True).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (member.astype(np.float32) @ states.astype(np.float32)) / counts
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)
