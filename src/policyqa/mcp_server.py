"""AI assistants over the Model Context Protocol: search, ask, compare, list_documents and read_document as MCP
tools, thin over `PolicyIndex`. `policyqa mcp` serves them over stdio; `policyqa serve` mounts the same server over
streamable HTTP at /mcp, behind the UI's login (app/mcp_http.py).

Needs the official SDK (the `mcp` extra, 2.x: `mcp.server.mcpserver.MCPServer`); `require_sdk()` says how to
install it. Tool failures the caller can fix (an empty query, an unknown document, offsets outside the text) come
back as tool errors with the reason; they never end the server.
"""

# No `from __future__ import annotations`: the SDK reads each tool's parameter and return types from its
# annotations, which name types local to create_server.
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from policyqa import Settings, any_close_match, read_index_status
from policyqa.errors import McpUnavailableError, PolicyQAError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from policyqa import PolicyIndex
    from policyqa.mcp_models import DocumentList, DocumentSpan

INSTALL_HINT = "pip install 'policyqa[mcp]'"
SERVER_NAME = "policyqa"
MAX_RESULTS = 50  # passages per search/ask: an assistant's context is the limit, not the index
MAX_READ_CHARS = 20_000  # one read_document span; longer spans are cut and say where to read on

INSTRUCTIONS = (
    "Search and question answering with verbatim citations over a folder of policy documents. `ask` answers a "
    "question with quotes (or says the documents do not answer it); `search` finds passages; `compare` asks "
    "questions of each document side by side; `list_documents` names the documents; `read_document` reads the "
    "text around a citation. Every quote and passage has a doc_id and character offsets [start, end) into the "
    "document's text: read_document(doc_id, start, end) returns exactly those characters. Cite them as given."
)
READ_DESCRIPTION = (
    "Read document text[start:end] exactly as indexed (the offsets search, ask and compare give), at most "
    f"{MAX_READ_CHARS:,} characters at a time: a longer span is cut (truncated: true); read on from `end`."
)

IndexSource = Callable[[], "PolicyIndex"]


def require_sdk() -> None:
    """The MCP SDK is importable, or McpUnavailableError naming the extra to install."""
    try:
        import mcp.server.mcpserver  # noqa: F401
    except ImportError as exc:
        raise McpUnavailableError(
            f"the MCP server needs the 'mcp' extra ({exc.name or 'mcp'} is missing): {INSTALL_HINT}"
        ) from exc


def following(index: "PolicyIndex") -> IndexSource:
    """`index`, switched to a newer published generation (a build meanwhile) before each call."""
    lock = threading.Lock()

    def current() -> "PolicyIndex":
        with lock:
            index.refresh()
        return index

    return current


@contextmanager
def _as_tool_error() -> Iterator[None]:
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        yield
    except PolicyQAError as exc:
        raise ToolError(str(exc)) from exc


def create_server(
    index: IndexSource, corpus_dir: Path | None = None, settings: Settings | None = None
) -> "MCPServer":
    """The MCP server over the index `index()` returns at each call. `corpus_dir`: list_documents also names the
    corpus files not indexed yet, and those changed since the build (against `settings`: what a build would run
    with; None: `Settings()`)."""
    require_sdk()
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations
    from pydantic import Field

    from policyqa import mcp_models as out

    # WARNING: the SDK's INFO lines (one per tool call) would fill the server log; errors still show
    server = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, log_level="WARNING")
    reading = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    Count = Annotated[int, Field(ge=1, le=MAX_RESULTS, description=f"how many passages (1 to {MAX_RESULTS})")]
    DocIds = Annotated[list[str] | None, Field(description="only these documents (doc_id values from list_documents)")]
    PathGlob = Annotated[str | None, Field(description='only documents whose doc_id matches this glob, "policies/*"')]

    @server.tool(annotations=reading)
    def search(
        query: Annotated[str, Field(description="words or a question")],
        k: Count = 5,
        doc_ids: DocIds = None,
        path: PathGlob = None,
        mode: Literal["hybrid", "dense", "bm25"] = "hybrid",
    ) -> out.SearchResult:
        """Find the passages that best match a query, ranked, each with its document, page, section and exact
        character offsets. Scores are calibrated P(a close match); close_match is false when none is close."""
        with _as_tool_error():
            hits = index().search(query, k=k, doc_ids=doc_ids, mode=mode, path=path)
        passages = [out.Passage.of(h) for h in hits]
        return out.SearchResult(
            query=query, passages=passages, close_match=any_close_match(p.score for p in passages)
        )

    @server.tool(annotations=reading)
    def ask(
        question: Annotated[str, Field(description="one question, in plain words")],
        k: Count = 5,
        doc_ids: DocIds = None,
        path: PathGlob = None,
    ) -> out.AskResult:
        """Answer a question from the documents with verbatim quotes (each a citation with doc_id and offsets), or
        say that the documents do not answer it (state "refused", with the nearest material). Quote the citations
        as given; state "unsure" means the closest evidence may not answer."""
        with _as_tool_error():
            return out.AskResult.of(index().ask(question, k=k, doc_ids=doc_ids, path=path))

    @server.tool(annotations=reading)
    def list_documents() -> out.DocumentList:
        """The indexed documents: doc_id (use it in the other tools), title, sha256 of the source file, size."""
        with _as_tool_error():
            current = index()
            return _document_list(current, corpus_dir, settings)

    @server.tool(annotations=reading, description=READ_DESCRIPTION)
    def read_document(
        doc_id: Annotated[str, Field(description="a doc_id from list_documents, search or ask")],
        start: Annotated[int, Field(ge=0, description="first character (0-based offset into the text)")] = 0,
        end: Annotated[int | None, Field(ge=0, description="one past the last character (default: read on)")] = None,
    ) -> out.DocumentSpan:
        with _as_tool_error():
            return _read_span(index(), doc_id, start, end)

    @server.tool(annotations=reading)
    def compare(
        questions: Annotated[list[str], Field(min_length=1, description="one or more questions")],
        doc_ids: Annotated[list[str] | None, Field(description="only these documents (default: all)")] = None,
        path: PathGlob = None,
    ) -> out.CompareResult:
        """Ask each question of each document separately: one row per (question, document) with its state
        (answered / partial / unsure / refused), its best verbatim quote with offsets, the answering words, and the
        document's sha256. For side-by-side comparisons ("How long does each policy keep CCTV footage?")."""
        with _as_tool_error():
            rows = index().compare(questions, doc_ids, path=path)
        return out.CompareResult(rows=[out.CompareCell.of(r) for r in rows])

    return server


def _document_list(current: "PolicyIndex", corpus_dir: Path | None, settings: Settings | None) -> "DocumentList":
    from policyqa import mcp_models as out

    records = current.documents()
    changed: set[str] = set()
    not_indexed: list[str] = []
    if corpus_dir is not None and corpus_dir.is_dir():
        stale = read_index_status(corpus_dir, current.store, settings=settings).stale
        changed = {*stale.modified, *stale.deleted}
        not_indexed = list(stale.added)
    documents = [
        out.DocumentInfo.of(r, "changed or removed since the build" if r.doc_id in changed else None) for r in records
    ]
    return out.DocumentList(generation=current.generation.name, documents=documents, not_indexed=not_indexed)


def _read_span(current: "PolicyIndex", doc_id: str, start: int, end: int | None) -> "DocumentSpan":
    from policyqa import mcp_models as out

    document = current.document(doc_id)
    if document is None:
        raise PolicyQAError(f"no document '{doc_id}' in the index; list_documents names the documents")
    length = len(document.text)
    if start > length:
        raise PolicyQAError(f"start {start} is past the end of '{doc_id}', which has {length:,} characters")
    if end is not None and end < start:
        raise PolicyQAError(f"end {end} is before start {start}")
    if end is not None and end > length:
        raise PolicyQAError(f"end {end} is past the end of '{doc_id}', which has {length:,} characters")
    wanted = length if end is None else end
    stop = min(wanted, start + MAX_READ_CHARS)
    page = document.page_at(start)
    return out.DocumentSpan(
        doc_id=doc_id,
        title=document.title,
        start=start,
        end=stop,
        text=document.text[start:stop],
        length=length,
        page=page,
        page_label=document.page_label(page),
        truncated=stop < wanted,
    )


def serve_stdio(index: "PolicyIndex", corpus_dir: Path | None = None, settings: Settings | None = None) -> None:
    """Serve over stdin/stdout until the client closes them (the SDK points fd 1 at stderr meanwhile, so stray
    prints cannot corrupt the protocol). `settings`: what the caller (`policyqa mcp`) built from its flags and the
    environment."""
    server = create_server(following(index), corpus_dir, settings)
    threading.Thread(target=_warm_up, args=(index,), name="policyqa-warm-up", daemon=True).start()
    server.run("stdio")


def _warm_up(index: "PolicyIndex") -> None:
    with contextlib.suppress(Exception):  # a failed warm-up only makes the first call slower
        index.warm_up()
