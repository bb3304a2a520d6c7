"""The index: the `Store` seam (store.py) and its implementations, sync (build), doctor, locking, status."""
