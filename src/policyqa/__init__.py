"""policyqa: semantic search and extractive question answering with verbatim citations."""

from policyqa.api import PolicyIndex, build_index, open_index
from policyqa.errors import PolicyQAError

__all__ = ["PolicyIndex", "PolicyQAError", "build_index", "open_index"]
__version__ = "0.1.0"
