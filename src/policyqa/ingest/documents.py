"""Reading corpus files (txt, md, pdf, docx, html) into plain text with page and heading spans.

Every offset used later (chunks, citations) refers to `Document.text`, so readers build that text once
and record where pages and headings start inside it.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from policyqa.errors import DocumentError
from policyqa.ingest.clean import clean_text
from policyqa.ingest.readers import KIND_BY_SUFFIX
from policyqa.ingest.titles import document_title, sane_title

SUPPORTED_SUFFIXES = tuple(KIND_BY_SUFFIX)  # one list of file types: the readers' own
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 64  # folder levels below the corpus root that are read; deeper ones are reported, not walked


@dataclass(frozen=True)
class Heading:
    start: int
    title: str
    level: int = 1  # outline level: 1 for "#" / Heading 1 / <h1>, 2 below it, ...


@dataclass(frozen=True)
class Document:
    id: str  # path relative to the corpus root, with forward slashes
    path: Path
    title: str
    text: str
    sha256: str
    size: int
    page_starts: tuple[int, ...] = ()  # offset where page i+1 starts; empty when the format has no pages
    headings: tuple[Heading, ...] = field(default_factory=tuple)
    page_labels: tuple[str, ...] = ()  # printed label of each page where the file has them ("iii", "12")
    footnotes: tuple[tuple[int, int], ...] = ()  # (start, end) of footnote text, kept apart from the body
    ocr_pages: tuple[int, ...] = ()  # 1-based pages whose text was read by OCR
    notes: tuple[str, ...] = ()  # how the file was read, when a user should know (OCR, a misnamed type)
    metadata: tuple[tuple[str, str], ...] = ()  # the file's own fields: front matter's date, a PDF's author

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, offset)

    def heading_at(self, offset: int) -> str | None:
        i = bisect.bisect_right(self._heading_starts, offset) - 1
        return self.headings[i].title if i >= 0 else None

    @cached_property
    def _heading_starts(self) -> list[int]:  # once per document, not once per chunk (200k headings)
        return [h.start for h in self.headings]

    def heading_path(self, offset: int) -> list[str]:
        """The section headings enclosing `offset`, outermost first (a breadcrumb)."""
        return heading_path(self.headings, offset)


def heading_path(headings: tuple[Heading, ...] | list[Heading], offset: int) -> list[str]:
    path: list[Heading] = []
    for heading in headings:
        if heading.start > offset:
            break
        while path and path[-1].level >= heading.level:
            path.pop()
        path.append(heading)
    return [h.title for h in path]


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    unreachable: bool = False  # a folder or file that exists but could not be read: its indexed documents stay

    def covers(self, doc_id: str) -> bool:
        return self.path == "." or doc_id == self.path or doc_id.startswith(self.path + "/")


@dataclass(frozen=True)
class CorpusFile:
    id: str
    path: Path
    data: bytes
    sha256: str


def scan_corpus(root: Path) -> tuple[list[CorpusFile], list[Skipped]]:
    """Every supported file below `root` with its bytes and hash; symlinks leaving the root are skipped."""
    root = root.resolve()
    files: list[CorpusFile] = []
    paths, skipped = walk_corpus(root)
    for path in sorted(paths):
        doc_id = path.relative_to(root).as_posix()
        try:
            doc_id.encode("utf-8")
        except UnicodeEncodeError:  # os.fsdecode kept undecodable bytes as surrogates; SQLite cannot store them
            shown = doc_id.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            skipped.append(Skipped(shown, "file name is not valid UTF-8; rename the file to index it"))
            continue
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # dangling, or a loop
                skipped.append(Skipped(doc_id, "broken symlink or symlink loop (not followed)"))
                continue
            if not target.is_relative_to(root):
                skipped.append(Skipped(doc_id, "symlink pointing outside the corpus folder (not followed)"))
                continue
            if target.is_dir():  # a folder inside the corpus: its files are indexed under their own paths
                continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append(Skipped(doc_id, f"unsupported file type '{path.suffix or '(none)'}'"))
            continue
        try:
            # O_NONBLOCK: opening a named pipe must not wait for a writer; fstat then says what was opened
            with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    skipped.append(Skipped(doc_id, "not a regular file (a named pipe, socket or device); not read"))
                    continue
                if info.st_size > MAX_FILE_BYTES:
                    skipped.append(Skipped(doc_id, f"file too large ({info.st_size} bytes; limit {MAX_FILE_BYTES})"))
                    continue
                data = handle.read()
        except FileNotFoundError as exc:  # removed since the folder was listed
            skipped.append(Skipped(doc_id, f"cannot read file: {exc.strerror or exc}"))
            continue
        except OSError as exc:
            reason = f"cannot read file: {exc.strerror or exc}; its indexed version, if any, is kept"
            skipped.append(Skipped(doc_id, reason, unreachable=True))
            continue
        files.append(CorpusFile(doc_id, path, data, hashlib.sha256(data).hexdigest()))
    return files, skipped


def walk_corpus(root: Path) -> tuple[list[Path], list[Skipped]]:
    """Every file and symlink below `root` except hidden ones, and the folders that were not read: those that
    cannot be listed, and those nested deeper than MAX_DEPTH. A loop, not recursion: any depth is safe."""
    root = root.resolve()
    paths: list[Path] = []
    skipped: list[Skipped] = []
    folders: list[tuple[Path, int]] = [(root, 0)]
    while folders:
        folder, depth = folders.pop()
        rel = folder.relative_to(root).as_posix()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            reason = f"folder cannot be read ({exc.strerror or exc}); its indexed documents are kept as they are"
            skipped.append(Skipped(rel, reason, unreachable=True))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_folder = entry.is_dir(follow_symlinks=False)  # symlinked folders are listed: scan_corpus decides
            except OSError:
                is_folder = False
            if not is_folder:
                paths.append(path)
            elif depth + 1 > MAX_DEPTH:
                reason = f"folder nested deeper than {MAX_DEPTH} levels; not read (move its files higher up)"
                skipped.append(Skipped(path.relative_to(root).as_posix(), reason, unreachable=True))
            else:
                folders.append((path, depth + 1))
    return paths, skipped


def read_document(file: CorpusFile) -> Document:
    """Parse one corpus file; raises DocumentError with a human-readable reason when it cannot."""
    from policyqa.ingest.readers import read_bytes  # keeps pypdfium2/docx/lxml imports off the search path

    parsed = read_bytes(file.data, file.path.suffix)
    text, moved = clean_text(parsed.text)
    if not text.strip():
        raise DocumentError("no text could be extracted (empty or image-only file)")
    starts = [moved(s) for s, _ in parsed.headings]
    titles = [" ".join(clean_text(t)[0].split()) for _, t in parsed.headings]
    meta_title = clean_text(parsed.title)[0] if parsed.title else None
    title = sane_title(meta_title) or document_title(list(zip(starts, titles, strict=True)), text, file.path)
    levels = parsed.levels or [1] * len(parsed.headings)
    return Document(
        id=file.id,
        path=file.path,
        title=title,
        text=text,
        sha256=file.sha256,
        size=len(file.data),
        page_starts=tuple(moved(s) for s in parsed.page_starts),
        headings=tuple(Heading(s, t, lv) for s, t, lv in zip(starts, titles, levels, strict=True) if t),
        page_labels=tuple(parsed.page_labels),
        footnotes=tuple((moved(a), moved(b)) for a, b in parsed.footnotes),
        ocr_pages=tuple(parsed.ocr_pages),
        notes=tuple(parsed.notes),
        metadata=tuple((str(k), clean_text(str(v))[0]) for k, v in parsed.metadata.items()),
    )
