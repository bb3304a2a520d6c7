"""Adding and removing corpus files from the web UI, confined to the corpus folder."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

from policyqa import SUPPORTED_SUFFIXES
from policyqa.errors import PolicyQAError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_FILES_PER_UPLOAD = 20
MAX_BYTES_PER_UPLOAD = 100 * 1024 * 1024
MAX_NAME_CHARS = 120
# File systems count a name's bytes (255 on ext4, APFS, NTFS in UTF-16 units): a saved name stays within 250 bytes of
# UTF-8, leaving room for the "-N" a clash adds (at most "-1000").
MAX_NAME_BYTES = 250
MAX_ID_CHARS = 4096  # PATH_MAX: a longer document id cannot name a file


class CorpusFileError(PolicyQAError):
    """An upload or delete request that was refused; the message says why."""


class NoSuchDocumentError(CorpusFileError):
    """A delete request for a file that is not in the corpus folder."""


def safe_name(original: str) -> str:
    """A plain file name for an uploaded file: no folders, no '..', no odd characters, a supported type."""
    if not original or not original.strip():
        raise CorpusFileError("the uploaded file has no name")
    # NFC: macOS writes names decomposed ("Zu" + U+0308 for "Zü"); composed, the accent is a letter, not a mark
    text = unicodedata.normalize("NFC", original.strip().replace("\x00", ""))
    if text.startswith(("/", "\\")) or PureWindowsPath(text).drive:
        raise CorpusFileError(f"refused '{original}': absolute paths are not accepted, upload a plain file name")
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if ".." in parts:
        raise CorpusFileError(f"refused '{original}': '..' is not allowed in a file name")
    base = parts[-1] if parts else ""
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusFileError(
            f"refused '{original}': unsupported file type '{suffix or '(none)'}' "
            f"(supported: {' '.join(SUPPORTED_SUFFIXES)})"
        )
    stem = _plain(stem).strip(" ._-")  # no hidden files (the scanner skips dot-files)
    stem = re.sub(r"_+", "_", stem)[: MAX_NAME_CHARS - len(suffix)]
    stem = _cut_to_bytes(stem, MAX_NAME_BYTES - len(suffix)).rstrip(" ._-") or "document"
    return stem + suffix


def _plain(stem: str) -> str:
    """Letters and digits of any script with their combining marks (Devanagari vowel signs, accents that have no
    composed form), "_", ".", " " and "-" stay; any other run of characters becomes one "_"."""
    kept = [c if c.isalnum() or c in "_. -" or unicodedata.category(c).startswith("M") else "\x00" for c in stem]
    return re.sub("\x00+", "_", "".join(kept))


def _cut_to_bytes(text: str, limit: int) -> str:
    """The longest start of `text` whose UTF-8 is at most `limit` bytes, never half a character."""
    return text.encode("utf-8", "ignore")[:limit].decode("utf-8", "ignore")


def add_upload(source: str | Path, original_name: str, corpus_dir: Path) -> tuple[str, str]:
    """Copy an uploaded file into the corpus root. Returns (saved doc id, note); never overwrites a file."""
    name = safe_name(original_name)
    source = Path(source)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise CorpusFileError(f"cannot read the uploaded file '{original_name}': {exc.strerror or exc}") from exc
    if size > MAX_UPLOAD_BYTES:
        raise CorpusFileError(
            f"refused '{original_name}': {size / 1e6:.1f} MB is over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit"
        )
    if size == 0:
        raise CorpusFileError(f"refused '{original_name}': the file is empty")
    root = corpus_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
    for n in range(1000):
        candidate = name if n == 0 else f"{stem}-{n + 1}{suffix}"
        target = root / candidate
        if not target.resolve().is_relative_to(root) or target.resolve().parent != root:
            raise CorpusFileError(f"refused '{original_name}': the target would be outside the corpus folder")
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # never replaces an existing file
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
        note = "" if n == 0 else f" ('{name}' already exists, so it was saved under a new name)"
        return candidate, note
    raise CorpusFileError(f"refused '{original_name}': too many files named like '{name}' already")


def delete_document(doc_id: str, corpus_dir: Path) -> Path:
    """Remove one corpus file named by its document id (path relative to the corpus); refuses anything outside."""
    if not doc_id or not isinstance(doc_id, str):
        raise CorpusFileError("choose a document to delete")
    shown = doc_id if len(doc_id) <= 200 else doc_id[:200] + "…"
    if any(c in doc_id for c in "\x00\n\r") or _has_lone_surrogate(doc_id):
        raise CorpusFileError(f"refused to delete '{shown!r}': a document id has no NUL, line break or broken UTF-8")
    if len(doc_id) > MAX_ID_CHARS or any(len(part.encode()) > 255 for part in doc_id.split("/")):
        raise NoSuchDocumentError(f"'{shown}' is not a document: the name is longer than any file name can be")
    root = corpus_dir.resolve()
    rel = PurePosixPath(doc_id)
    if rel.is_absolute() or ".." in rel.parts or PureWindowsPath(doc_id).drive or "\\" in doc_id:
        raise CorpusFileError(f"refused to delete '{doc_id}': not a path inside the corpus folder")
    if any(part.startswith(".") for part in rel.parts) or rel.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise CorpusFileError(
            f"refused to delete '{doc_id}': not a document (hidden files and types other than "
            f"{' '.join(SUPPORTED_SUFFIXES)} are not the corpus's to delete)"
        )
    target = root.joinpath(*rel.parts)
    if not target.parent.resolve().is_relative_to(root) or not target.resolve().is_relative_to(root):
        raise CorpusFileError(f"refused to delete '{doc_id}': it resolves outside the corpus folder")
    if not target.is_file() or target == root:
        raise NoSuchDocumentError(f"'{doc_id}' is not a file in the corpus folder (already deleted?)")
    target.unlink()
    return target


def _has_lone_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def add_uploads(sources: list[str], corpus_dir: Path) -> list[tuple[bool, str]]:
    """Add one request's uploads: at most MAX_FILES_PER_UPLOAD files and MAX_BYTES_PER_UPLOAD bytes, each content
    once (a file whose bytes are already in the corpus folder is not copied again). Returns (saved, message) per
    file; the rest are refused with the reason."""
    results: list[tuple[bool, str]] = []
    seen: dict[str, str] = {}  # sha256 -> where those bytes already are
    total = 0
    for number, source in enumerate(sources):
        original = Path(source).name
        if number >= MAX_FILES_PER_UPLOAD:
            results.append(
                (False, f"refused {len(sources) - number} more file(s): at most {MAX_FILES_PER_UPLOAD} per upload")
            )
            break
        try:
            safe_name(original)  # an unsupported or unsafe name is refused as such, whatever its content
            size = Path(source).stat().st_size
            if total + size > MAX_BYTES_PER_UPLOAD:
                raise CorpusFileError(
                    f"refused '{original}': this upload would exceed {MAX_BYTES_PER_UPLOAD // 2**20} MB in total"
                )
            digest = sha256_of(Path(source))
            where = seen.get(digest) or same_content_in(corpus_dir, Path(source), size, digest)
            if where:
                results.append((False, f"'{original}' not added: the same content is already in the corpus as {where}"))
                continue
            saved, note = add_upload(source, original, corpus_dir)
            if saved != original and not note:
                note = f" (renamed from '{original}': only letters, digits, spaces, '.', '_' and '-' are kept)"
            total += size
            seen[digest] = saved
            results.append((True, f"Added {saved}{note}."))
        except OSError as exc:
            results.append((False, f"cannot read the uploaded file '{original}': {exc.strerror or exc}"))
        except CorpusFileError as exc:
            results.append((False, str(exc)))
    return results


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def same_content_in(corpus_dir: Path, source: Path, size: int, digest: str) -> str | None:
    """A file in the corpus root with these bytes (only same-size files are hashed)."""
    root = corpus_dir.resolve()
    if not root.is_dir():
        return None
    for entry in os.scandir(root):
        try:
            if (
                entry.is_file(follow_symlinks=False)
                and entry.stat().st_size == size
                and sha256_of(Path(entry.path)) == digest
            ):
                return entry.name
        except OSError:
            continue
    return None


def remove_uploaded(paths: list[str]) -> None:
    """Delete Gradio's temporary copies of uploaded files once handled (saved, refused or failed), so that they
    cannot be downloaded from the server's file route afterwards. Only files inside Gradio's upload folder."""
    from gradio.utils import get_upload_folder

    cache = Path(get_upload_folder()).resolve()
    for path in paths:
        try:
            resolved = Path(path).resolve()
            if resolved.is_relative_to(cache) and resolved != cache:
                resolved.unlink(missing_ok=True)
                if resolved.parent != cache:
                    resolved.parent.rmdir()  # Gradio's per-upload folder; fails harmlessly when not empty
        except OSError:
            continue
