"""Errors a user can act on. Each message says what went wrong and what to do.

The library's whole exception tree is drawn here (tests/test_errors.py checks that no other module defines one);
the modules that raise them import them from here.
"""


class PolicyQAError(Exception):
    """Base class: the CLI and UI show these as plain messages, never as tracebacks."""


class IndexNotFoundError(PolicyQAError):
    """No index at the folder or store named: build one first."""


class IndexFormatError(PolicyQAError):
    """The index files are damaged or from a format this version does not read: rebuild (`build --full`)."""


class ModelMismatchError(PolicyQAError):
    """The index was built with another embedding model than the one asked for."""


class ModelNotFoundError(PolicyQAError):
    """The embedding model is not installed (no weights are downloaded at run time)."""


class EmptyCorpusError(PolicyQAError):
    """The corpus folder is missing or holds no readable document; an existing index is kept."""


class BuildLockedError(PolicyQAError):
    """Another build holds the index's lock."""


class QueryError(PolicyQAError):
    """A question, query or filter that cannot be run (empty, too long, k out of range, no such document)."""


class DocumentError(PolicyQAError):
    """A single document cannot be read; a build skips it and reports the reason."""


class IndexWriteError(PolicyQAError):
    """A new generation could not be written (disk full, read-only folder, I/O error); the live one is untouched."""


class MilvusWriteError(PolicyQAError):
    """A new version could not be written to Milvus; the live one is untouched."""


class BuildFailedError(PolicyQAError):
    """A background build ended without publishing; the message is the build's own reason."""


class LLMError(PolicyQAError):
    """The generating model could not be reached or gave no usable answer; the quoted answer stands."""


class McpUnavailableError(PolicyQAError):
    """The MCP SDK is not installed: the message names the extra."""


class MissingExtraError(PolicyQAError, ImportError):
    """An integration's optional dependency is not installed: the message names the extra."""
