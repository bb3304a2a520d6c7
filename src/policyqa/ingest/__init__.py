"""Files → `Document`s (readers, titles, headings, pages) → `Chunk`s and sentences with character offsets."""
