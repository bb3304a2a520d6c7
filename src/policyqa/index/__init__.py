"""The index: the `Store` seam (store.py), the records that cross it, and its two stores (faiss_sqlite/, milvus/)."""
