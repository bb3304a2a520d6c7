"""The JSON REST API under /api/v1, served by the UI's process over the same AppState (and so the same index).

A plain FastAPI app, mounted into Gradio's server through `launch(app_kwargs={"routes": [...]})`, with its own
OpenAPI docs at /api/v1/docs. Credentials are the UI's (POLICYQA_AUTH), sent as HTTP Basic; app/rest_gate.py checks
them, and caps the body, before anything reads the body.
"""

import json
import logging
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount

from policyqa import (
    answer_json,
    answer_markdown,
    answers_csv,
    any_close_match,
    comparison_csv,
    comparison_json,
    comparison_markdown,
    read_index_status,
)
from policyqa.errors import BuildLockedError, PolicyQAError, QueryError

from . import rest_models as m
from .corpus_files import (
    MAX_BYTES_PER_UPLOAD,
    MAX_FILES_PER_UPLOAD,
    MAX_UPLOAD_BYTES,
    CorpusFileError,
    NoSuchDocumentError,
    add_upload,
    delete_document,
    safe_name,
    same_content_in,
    sha256_of,
)
from .rest_gate import MISSING_LOGIN, WRONG_LOGIN, RestGate
from .state import AppState, NoIndexError

log = logging.getLogger("policyqa_app.rest")
PREFIX = "/api/v1"
GENERATION_THREADS = 4  # asks with a generated answer at once; more wait their turn without holding a thread
UPLOAD_BODY_LIMIT = MAX_BYTES_PER_UPLOAD + 1024 * 1024  # the files plus their multipart headers
_COPY_CHUNK = 1024 * 1024
_ERRORS = {401: "Unauthorized", 404: "Not found", 405: "Method not allowed", 409: "Conflict", 413: "Too large"}


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII as \\u escapes: a lone surrogate (from a request, or a file name that is not UTF-8) can
    be sent, where UTF-8 cannot encode it."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def create_rest_app(state: AppState, auth: tuple[str, str] | None) -> FastAPI:
    """Routes over `state`; answers are generated when `state.llm` is set, else quoted."""
    api = FastAPI(
        title="policyqa REST API",
        version="1",
        description="Search, answers with verbatim citations, and corpus management. HTTP Basic auth when the "
        "server runs with POLICYQA_AUTH.",
        responses={400: {"model": m.ErrorResponse}, 401: {"model": m.ErrorResponse}},
        default_response_class=AsciiJSONResponse,
    )
    check_auth = _auth_dependency(auth)  # what the docs show; RestGate has already checked the login
    _add_error_handlers(api)
    api.add_middleware(RestGate, auth=auth, upload_path="/documents", upload_limit=UPLOAD_BODY_LIMIT)

    def fresh() -> AppState:
        state.reload()  # a CLI build published meanwhile is picked up here, not only on a page load
        return state

    State = Annotated[AppState, Depends(fresh)]
    guarded: dict[str, Any] = {"dependencies": [Depends(check_auth)]}

    @api.post("/search", response_model=m.SearchResponse, **guarded)
    def search(body: m.SearchRequest, st: State) -> m.SearchResponse:
        hits = st.index.search(
            body.query, k=body.k, doc_ids=body.doc_ids, mode=body.mode, path=body.path, where=body.where, mmr=body.mmr
        )
        return m.SearchResponse(hits=[m.HitOut.of(h) for h in hits], close_match=any_close_match(h.score for h in hits))

    generation_slots: list[Any] = []  # one anyio CapacityLimiter, made inside the event loop

    @api.post("/ask", response_model=m.AskResponse, **guarded)
    async def ask(body: m.AskRequest, st: State) -> m.AskResponse:
        if body.generate and st.llm is None:
            raise HTTPException(400, "no language model is configured (start the server with --llm-url)")
        llm = st.llm if body.generate is not False else None

        def answer() -> m.AskResponse:
            found = st.index.ask(
                body.question, k=body.k, doc_ids=body.doc_ids, mode=body.mode, path=body.path, where=body.where, llm=llm
            )
            return m.AskResponse.of(found)

        if llm is None:
            return await run_in_threadpool(answer)
        # Generation waits on a remote model for up to --llm-timeout: it gets threads of its own, so that status,
        # search and quoted answers never queue behind it in the shared pool (issue 24, item 8).
        import anyio.to_thread

        if not generation_slots:
            generation_slots.append(anyio.CapacityLimiter(GENERATION_THREADS))
        return await anyio.to_thread.run_sync(answer, limiter=generation_slots[0])

    @api.post("/compare", response_model=m.CompareResponse, **guarded)
    def compare(body: m.CompareRequest, st: State) -> m.CompareResponse:
        """Each question asked of each document: one row per (question, document) with its quote, offsets and the
        document's sha256; a document that does not answer is `unsure` (closest evidence) or `refused`."""
        rows = st.index.compare(body.questions, body.doc_ids, path=body.path, k=body.k)
        context = m.ExportContextOut(**st.index.export_context().header())
        return m.CompareResponse(rows=[m.CompareRowOut(**r.as_dict()) for r in rows], context=context)

    @api.post("/compare/export", responses=_EXPORTED, response_class=PlainTextResponse, **guarded)
    def compare_export(body: m.CompareRequest, st: State, format: ExportFormat = "markdown") -> PlainTextResponse:
        """The comparison as a file to paste or keep: Markdown (block quotes, numbered references with file, page,
        offsets, sha256, index version, model, date), CSV (a header, one line per row) or JSON."""
        rows = st.index.compare(body.questions, body.doc_ids, path=body.path, k=body.k)
        writer = {"markdown": comparison_markdown, "csv": comparison_csv, "json": comparison_json}
        return _exported(writer[format](rows, st.index.export_context()), format, "comparison")

    @api.post("/ask/export", responses=_EXPORTED, response_class=PlainTextResponse, **guarded)
    def ask_export(body: m.AskRequest, st: State, format: ExportFormat = "markdown") -> PlainTextResponse:
        """The quoted answer as Markdown, CSV or JSON, each quote with a reference `policyqa verify` can check."""
        if body.generate:
            raise HTTPException(400, "exports hold the quoted answer; ask without generate")
        found = st.index.ask(
            body.question, k=body.k, doc_ids=body.doc_ids, mode=body.mode, path=body.path, where=body.where
        )
        context = st.index.export_context()
        text = {
            "markdown": lambda: answer_markdown(found, context),
            "csv": lambda: answers_csv([found], context),
            "json": lambda: answer_json(found, context),
        }[format]()
        return _exported(text, format, "answer")

    @api.get("/documents", response_model=m.DocumentsResponse, **guarded)
    def documents(st: State) -> m.DocumentsResponse:
        return m.DocumentsResponse(documents=_documents(st))

    @api.post(
        "/documents",
        response_model=m.UploadResponse,
        status_code=201,
        responses={413: {"model": m.ErrorResponse}},
        openapi_extra=_UPLOAD_SCHEMA,
        **guarded,
    )
    async def upload(request: Request) -> m.UploadResponse:
        """Add files to the corpus (multipart field `files`, one or more); then POST /build indexes them.
        All files are checked first (name, type, size); when one is refused, none is saved. A file whose content is
        already in the corpus (or earlier in the request) is not saved again: `skipped` names it, a note says where."""
        form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=10)
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise HTTPException(400, "send one or more files in the multipart field 'files'")
        return await run_in_threadpool(_save_uploads, files, state)

    @api.delete("/documents/{doc_id:path}", response_model=m.DeleteResponse, responses=_NOT_FOUND, **guarded)
    def delete(doc_id: str, st: State) -> m.DeleteResponse:
        delete_document(doc_id, st.corpus_dir)
        then = "the corpus watcher removes it" if st.watcher else "POST /build removes it"
        return m.DeleteResponse(deleted=doc_id, note=f"deleted from the corpus; {then} from the index")

    for route in api.routes:  # a path parameter's ".*" stops at a line break: "x%0A.txt" would be the router's 404
        if getattr(route, "path", "") == "/documents/{doc_id:path}":
            route.path_regex = re.compile(route.path_regex.pattern, re.DOTALL)  # type: ignore[attr-defined]

    @api.post("/build", response_model=m.BuildResponse, responses={409: {"model": m.ErrorResponse}}, **guarded)
    def build(st: State) -> m.BuildResponse:
        """Sync the index with the corpus; one build at a time (409 while another runs, here or from the CLI)."""
        report = st.rebuild(lock_timeout=0)
        return m.BuildResponse(summary=report.summary(), report=report.as_dict())

    @api.get("/status", response_model=m.StatusResponse, **guarded)
    def status(st: State) -> m.StatusResponse:
        return _status(st)

    return api


ExportFormat = Literal["markdown", "csv", "json"]
_MEDIA = {"markdown": "text/markdown", "csv": "text/csv", "json": "application/json"}
_SUFFIX = {"markdown": "md", "csv": "csv", "json": "json"}
_EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {"schema": {"type": "string"}} for media in _MEDIA.values()}},
}


def _exported(text: str, format: str, name: str) -> PlainTextResponse:
    headers = {"Content-Disposition": f'attachment; filename="policyqa-{name}.{_SUFFIX[format]}"'}
    return PlainTextResponse(text, media_type=f"{_MEDIA[format]}; charset=utf-8", headers=headers)


def rest_mount(api: FastAPI) -> Mount:
    """The API under PREFIX in Gradio's server; every path below it reaches the API (and so its login and its error
    shape), line breaks included."""
    mount = Mount(PREFIX, app=api)
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount


def _auth_dependency(auth: tuple[str, str] | None) -> Any:
    basic = HTTPBasic(auto_error=False, description="the UI's user and password (POLICYQA_AUTH)")

    def check(credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)]) -> None:
        if auth is None:
            return
        ok = credentials is not None and all(
            [
                secrets.compare_digest(credentials.username.encode(), auth[0].encode()),
                secrets.compare_digest(credentials.password.encode(), auth[1].encode()),
            ]
        )
        if not ok:
            message = MISSING_LOGIN if credentials is None else WRONG_LOGIN
            raise HTTPException(401, message, {"WWW-Authenticate": "Basic"})

    return check


def _add_error_handlers(api: FastAPI) -> None:
    def reply(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
        sent = dict(headers) if headers else None
        return AsciiJSONResponse({"message": message, "status": status}, status_code=status, headers=sent)

    @api.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException and the router's own 404/405
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return reply(exc.status_code, str(exc.detail or _ERRORS.get(exc.status_code, "")), exc.headers)

    @api.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return reply(400, "bad request: " + "; ".join(parts))

    @api.exception_handler(PolicyQAError)
    async def library_error(_request: Request, exc: PolicyQAError) -> JSONResponse:
        if isinstance(exc, NoSuchDocumentError):
            return reply(404, str(exc))
        if isinstance(exc, BuildLockedError):
            return reply(409, str(exc))
        if isinstance(exc, NoIndexError):
            return reply(503, str(exc))
        if isinstance(exc, QueryError | CorpusFileError):
            return reply(400, str(exc))
        return reply(500, str(exc))

    @api.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error in the REST API", exc_info=exc)
        return reply(500, f"unexpected error ({type(exc).__name__}); see the server log")


def _save_uploads(files: list[UploadFile], state: AppState) -> m.UploadResponse:
    names = [safe_name(f.filename or "") for f in files]  # refuses traversal, absolute paths, unknown types
    if len(set(names)) < len(names):
        raise CorpusFileError("the same file name is sent twice in one request")
    total = 0
    with tempfile.TemporaryDirectory(prefix="policyqa-upload-") as folder:
        copies = []
        for upload, name in zip(files, names, strict=True):
            copy = Path(folder) / name
            size = 0
            with copy.open("wb") as out:
                while chunk := upload.file.read(_COPY_CHUNK):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        limit = MAX_UPLOAD_BYTES // (1024 * 1024)
                        raise HTTPException(413, f"refused '{upload.filename}': over the {limit} MB limit")
                    out.write(chunk)
            if size == 0:
                raise CorpusFileError(f"refused '{upload.filename}': the file is empty")
            total += size
            if total > MAX_BYTES_PER_UPLOAD:
                raise HTTPException(413, f"refused: the files are over {MAX_BYTES_PER_UPLOAD // 2**20} MB in total")
            copies.append((copy, upload.filename or name, size))
        added, skipped, notes = [], [], []
        seen: dict[str, str] = {}  # sha256 -> where those bytes are now
        for copy, original, size in copies:
            digest = sha256_of(copy)
            where = seen.get(digest) or same_content_in(state.corpus_dir, copy, size, digest)
            if where:  # the UI's check: the same bytes twice would be two documents answering alike
                skipped.append(original)
                notes.append(f"'{original}' not added: the same content is already in the corpus as {where}")
                continue
            saved, note = add_upload(copy, original, state.corpus_dir)
            seen[digest] = saved
            added.append(saved)
            notes.append(f"added {saved}{note}")
    return m.UploadResponse(added=added, skipped=skipped, notes=notes)


_DOCUMENT_NOTES = {
    "removed": "file removed; build to drop it",
    "changed": "changed; build to re-index",
    "new": "not indexed yet; POST /build",
}


def _documents(state: AppState) -> list[m.DocumentOut]:
    status = read_index_status(state.corpus_dir, state.store, settings=state.settings)
    return [
        m.DocumentOut(
            doc_id=d.doc_id,
            title=d.title,
            chunks=d.chunks,
            size=d.size,
            indexed=d.state != "new",
            note=_DOCUMENT_NOTES.get(d.state, ""),
        )
        for d in status.documents
    ]


def _status(state: AppState) -> m.StatusResponse:
    llm_name = f"{state.llm.model} at {state.llm.url}" if state.llm is not None else None
    status = read_index_status(state.corpus_dir, state.store, settings=state.settings)
    watched = state.watch_status()
    watch = {**watched.as_dict(), "message": watched.message()} if watched is not None else None
    if not status.indexed:
        return m.StatusResponse(
            indexed=False, building=state.building, llm=llm_name, message=state.load_error, watch=watch
        )
    return m.StatusResponse(
        indexed=True,
        building=state.building,
        generation=status.generation,
        model=status.model,
        backend=status.backend,
        built_at=status.built_at,
        documents=len(status.records),
        chunks=status.chunks,
        stale=status.as_dict()["stale"],
        llm=llm_name,
        message=state.load_error,
        watch=watch,
    )


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": m.ErrorResponse}}
_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "required": ["files"],
                }
            }
        },
    }
}
