"""HTML pages: the main content as a person reads it, with headings (h1-h6) and tables whose rows carry headers.

Parsed by lxml (libxml2): linear on any input, where Python's html.parser is quadratic on repeated "</ " (130 s for
1.2 MB). libxml2 keeps its default limits (huge_tree off: nesting depth, text node sizes), and a pre-scan refuses
pages over MAX_HTML_BYTES or MAX_HTML_ELEMENTS before a tree is built: lxml holds ~450 bytes per element (1M sibling
<p> took 3 s and 450 MB to parse, and the old BeautifulSoup tree 41 s and 1.2 GB). Which parts are site furniture
(navigation, header, footer, cookie banners) is decided in html_content.py.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from policyqa.errors import DocumentError
from policyqa.ingest.readers.base import ParsedText, decode_text

MAX_HTML_BYTES = 32 * 1024 * 1024
# A 300-page law published as one page has ~50,000 elements; 400,000 bound the tree at ~200 MB and ~2 s.
MAX_HTML_ELEMENTS = 400_000

_START_TAG = re.compile(rb"<[A-Za-z]")
_TAG = re.compile(r"<[^<>]*>")  # [^<>]: an unclosed "<" stops at the next one, so the scan stays linear
_SCRIPT_START = re.compile(r"<(script|style)\b")
_BODY_START = re.compile(r"<body\b[^<>]*>", re.IGNORECASE)

_META_CHARSET = re.compile(rb"<meta\b[^>]{0,512}?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]{1,40})", re.I)
# Labels decode_text already handles by content: it tells UTF-8 from Windows-1252 itself, stray bytes included.
_DECODED_BY_CONTENT = {"utf-8", "ascii", "latin-1", "cp1252"}
# The legacy web encodings (WHATWG); never a codec such as unicode_escape, idna or utf-7 that a page names.
_LEGACY_CODECS = ("iso8859-", "cp", "koi8", "mac-", "shift_jis", "euc_", "iso2022_jp", "gb", "big5", "tis")


def read_html(data: bytes) -> ParsedText:
    from lxml import etree

    from policyqa.ingest.readers.html_content import page_blocks

    check_html_size(data)
    text = decode_html(data)
    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(text.encode("utf-8", "surrogatepass"), parser)
    except (etree.LxmlError, ValueError) as exc:
        raise DocumentError(f"unreadable HTML ({type(exc).__name__}: {exc})") from exc
    fatal = [e for e in parser.error_log if e.level_name == "FATAL"]
    if fatal:  # libxml2 stopped reading (elements nested over 256 deep): the rest of the page would be lost
        if "depth" in fatal[0].message:
            return text_without_markup(text)
        raise DocumentError(f"HTML page cannot be read whole ({fatal[0].message.split(',')[0].strip()}); not read")
    if root is None:  # nothing but whitespace or comments
        return ParsedText(text="")
    blocks = page_blocks(root)
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    levels: list[int] = []
    offset = 0
    for block in blocks:
        if block.level:
            headings.append((offset, block.text))
            levels.append(block.level)
        parts.append(block.text)
        offset += len(block.text) + 2
    return ParsedText(text="\n\n".join(parts), headings=headings, levels=levels, title=page_title(root))


_MARKUP = re.compile(r"<[a-z!/][^>]*>", re.IGNORECASE)
# A "title" made only of these words is a control's label ("Mobile Menu Overlay", "Skip to main content")
_UI_WORDS = {
    "mobile", "menu", "overlay", "main", "navigation", "nav", "skip", "to", "content", "toggle", "close", "open",
    "search", "cookie", "cookies", "consent", "home", "log", "login", "in", "sign", "signin", "the", "site",
    "header", "footer", "banner", "primary", "secondary", "page", "back", "top", "button", "expand", "collapse",
}  # fmt: skip


def page_title(root: Any) -> str | None:
    """The page's first <h1> outside the site's furniture (what a reader sees as its title), else og:title, else
    <title>. Never UI text ("Mobile Menu Overlay") or markup."""
    from policyqa.ingest.readers.html_content import inline_text, title_headings

    h1 = next((inline_text(h) for h in title_headings(root)), None)
    og = root.find(".//meta[@property='og:title']")
    title = root.find("head/title")
    candidates = [h1, og.get("content") if og is not None else None]
    candidates.append("".join(title.itertext()) if title is not None else None)
    return next((t for t in (" ".join((c or "").split()) for c in candidates) if _sane(t)), None)


def _sane(title: str) -> bool:
    if not (3 <= len(title) <= 300) or sum(ch.isalpha() for ch in title) < 3 or _MARKUP.search(title):
        return False
    return not set(re.findall(r"\w+", title.lower())) <= _UI_WORDS


def text_without_markup(text: str) -> ParsedText:
    """A page nested too deep for libxml2 (over 256 levels; no person-made page is) read as its text between tags:
    no headings, no furniture removed, and a note that says so."""
    import html

    body = _BODY_START.split(text, maxsplit=1)[-1]
    body = _drop_scripts(body)
    lines = (" ".join(html.unescape(line).split()) for line in _TAG.sub("\n", body).split("\n"))
    parsed = ParsedText(text="\n\n".join(line for line in lines if line))
    parsed.notes.append("read as plain text: its elements are nested more than 256 levels deep")
    return parsed


def _drop_scripts(text: str) -> str:
    """Text without its <script> and <style> elements; linear: each search goes on from where the last one ended,
    and an unclosed element ends the scan."""
    lower = text.lower()
    parts: list[str] = []
    last = 0
    while found := _SCRIPT_START.search(lower, last):
        end = lower.find(f"</{found.group(1)}", found.end())
        if end < 0:
            break
        parts.append(text[last : found.start()])
        close = lower.find(">", end)
        last = close + 1 if close >= 0 else len(text)
    parts.append(text[last:])
    return " ".join(parts)


def check_html_size(data: bytes) -> None:
    """Refuse a page too large to parse in bounded time and memory; counts start tags without parsing."""
    if len(data) > MAX_HTML_BYTES:
        raise DocumentError(
            f"HTML page too large ({len(data):,} bytes; limit {MAX_HTML_BYTES:,}); not read (save it as text or PDF)"
        )
    if data.count(b"<") <= MAX_HTML_ELEMENTS:  # a quick upper bound; counted exactly only when it may be over
        return
    elements = sum(1 for _ in _START_TAG.finditer(data))
    if elements > MAX_HTML_ELEMENTS:
        raise DocumentError(
            f"HTML page has too many elements ({elements:,} tags; limit {MAX_HTML_ELEMENTS:,}); not read "
            "(a page this size is not one document a person reads; split it or save it as text)"
        )


def decode_html(data: bytes) -> str:
    """The page's text: a byte-order mark or a declared single-/multi-byte charset (Shift_JIS, windows-1251, …)
    decides; UTF-8 and Windows-1252 pages are told apart by their content, as every declared label of theirs lies
    somewhere on the web."""
    if 0 < data.count(b"\x00") <= len(data) // 1000 and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.replace(b"\x00", b"")  # a few stray NULs in a real page (one in 922 pages), not a binary file
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        found = _META_CHARSET.search(data[:4096])
        codec = _codec(found.group(1).decode("ascii")) if found else None
        if codec and codec not in _DECODED_BY_CONTENT:
            if b"\x00" in data[:65536]:
                raise DocumentError("binary file (contains NUL bytes), not HTML")
            return data.decode(codec, "replace").replace("\r\n", "\n").replace("\r", "\n")
    return decode_text(data)


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    name = {"iso8859-1": "latin-1"}.get(name, name)
    return name if name in _DECODED_BY_CONTENT or name.startswith(_LEGACY_CODECS) else None
