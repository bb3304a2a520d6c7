"""Errors a user can act on. Each message says what went wrong and what to do."""


class PolicyQAError(Exception):
    """Base class: the CLI and UI show these as plain messages, never as tracebacks."""


class IndexNotFoundError(PolicyQAError):
    pass


class IndexFormatError(PolicyQAError):
    pass


class ModelMismatchError(PolicyQAError):
    pass


class ModelNotFoundError(PolicyQAError):
    pass


class EmptyCorpusError(PolicyQAError):
    pass


class BuildLockedError(PolicyQAError):
    pass


class QueryError(PolicyQAError):
    pass


class DocumentError(PolicyQAError):
    """A single document cannot be read; a build skips it and reports the reason."""
