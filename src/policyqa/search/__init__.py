"""Query → `Hit`s: dense, sparse and hybrid retrieval, fusion, MMR, filters, passages, rerank, follow-ups, eval."""
