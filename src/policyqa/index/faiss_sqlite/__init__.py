"""The embedded default store: FAISS vectors + SQLite rows + a bm25s index in generation folders on local disk."""
