"""Texts → unit vectors: the `Embedder` (model identity, backend, precision) and its backends."""
