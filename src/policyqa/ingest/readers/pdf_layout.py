"""From a PDF's lines to the text a person reads: furniture left out, headings and paragraphs apart, sentences
joined across page breaks, and each page's footnotes placed after the paragraph where its body ends."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from policyqa.ingest.readers.pdf_blocks import (
    Block,
    PageLayout,
    Vocabulary,
    body_size,
    find_footnotes,
    footnote_text,
    line_gap,
    paragraphs,
)
from policyqa.ingest.readers.pdf_headings import Bookmark, HeadingLines, headings_from_bookmarks, headings_from_fonts
from policyqa.ingest.readers.pdf_lines import PageLines

_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*$")
_LIST_START = re.compile(r"^(?:[•●▪■◦○✓➢►]|[-–—*]\s|\(?[a-z0-9]{1,3}\)\s)", re.IGNORECASE)


@dataclass
class LaidOut:
    text: str = ""
    page_starts: list[int] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    levels: list[int] = field(default_factory=list)
    footnotes: list[tuple[int, int]] = field(default_factory=list)


def lay_out(pages: list[PageLines], furniture: list[set[int]], bookmarks: list[Bookmark]) -> LaidOut:
    skip = [set(dropped) for dropped in furniture]
    size = body_size(pages, skip)
    layout = PageLayout(size, line_gap(pages, skip, size))
    vocabulary = Vocabulary.of(pages)
    notes: list[list[str]] = []
    for number, page in enumerate(pages):
        found = find_footnotes(page, skip[number], size)
        notes.append([footnote_text(page, indexes, vocabulary) for indexes in found])
        skip[number].update(i for indexes in found for i in indexes)
    headings = _headings(pages, skip, bookmarks, size)
    blocks = [_page_blocks(page, n, skip[n], headings, layout, vocabulary) for n, page in enumerate(pages)]
    return _assemble(blocks, notes, vocabulary)


def _headings(
    pages: list[PageLines], skip: list[set[int]], bookmarks: list[Bookmark], size: float
) -> list[HeadingLines]:
    """Bookmarks when they match the text (lines set like headings but not in the outline stay paragraphs of their
    own, level 0, out of the breadcrumb: on cover pages they are names and dates); else headings by font."""
    found = headings_from_bookmarks(pages, skip, bookmarks) if bookmarks else []
    if len(found) < max(1, len(bookmarks) // 2):
        return headings_from_fonts(pages, skip, size)
    taken = [set(s) for s in skip]
    for heading in found:
        taken[heading.page].update(heading.lines)
    extra = headings_from_fonts(pages, taken, size)
    for heading in extra:
        heading.level = 0
    return found + extra


def _page_blocks(
    page: PageLines,
    number: int,
    skip: set[int],
    headings: list[HeadingLines],
    layout: PageLayout,
    vocabulary: Vocabulary,
) -> list[Block]:
    starts = {h.lines[0]: h for h in headings if h.page == number}
    inside = {i for h in starts.values() for i in h.lines}
    blocks: list[Block] = []
    run: list[int] = []
    for i in range(len(page.lines)):
        if i in skip:
            continue
        heading = starts.get(i)
        if heading is None and i in inside:
            continue
        if heading is None:
            run.append(i)
            continue
        blocks.extend(paragraphs(page, run, layout, vocabulary))
        run = []
        title = " ".join(" ".join(page.lines[k].text for k in heading.lines).split())
        blocks.append(Block("heading", title.rstrip(" ¶"), level=heading.level))  # ¶: a web page's anchor mark
    blocks.extend(paragraphs(page, run, layout, vocabulary))
    return blocks


class _Writer:
    """The text being built, with the offsets the reader reports."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str) -> int:
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start

    def extend_last(self, joined: str) -> None:
        """Replace the last part (a paragraph) with `joined`, which starts with it."""
        self.length += len(joined) - len(self.parts[-1])
        self.parts[-1] = joined


def _assemble(pages: list[list[Block]], notes: list[list[str]], vocabulary: Vocabulary) -> LaidOut:
    out = LaidOut()
    writer = _Writer()
    starts: list[int | None] = [None] * len(pages)
    pending: list[str] = []  # footnotes waiting for the paragraph they interrupt to end
    last: Block | None = None
    for number, blocks in enumerate(pages):
        for k, block in enumerate(blocks):
            if k == 0 and last is not None and _continues(last, block):
                joined = vocabulary.join(writer.parts[-1], block.text)
                writer.extend_last(joined)
                starts[number] = writer.length - len(block.text)
                last = Block("paragraph", joined, open_end=block.open_end, lines=last.lines + block.lines)
                continue
            for note in pending:
                start = writer.add(note)
                out.footnotes.append((start, start + len(note)))
            pending = []
            start = writer.add(block.text)
            if starts[number] is None:
                starts[number] = start
            if block.kind == "heading" and block.level:
                out.headings.append((start, block.text))
                out.levels.append(block.level)
            last = block
        pending.extend(notes[number])
    for note in pending:
        start = writer.add(note)
        out.footnotes.append((start, start + len(note)))
    out.text = "".join(writer.parts)
    following = len(out.text)
    for number in range(len(pages) - 1, -1, -1):  # a page without text starts where the next text does
        page_start = starts[number]
        if page_start is None:
            page_start = starts[number] = following
        following = page_start
    out.page_starts = [s for s in starts if s is not None]
    return out


def _continues(last: Block, block: Block) -> bool:
    """A paragraph running over a page break: it ends mid-sentence and the next page's first block goes on."""
    if last.kind != "paragraph" or block.kind != "paragraph" or _SENTENCE_END.search(last.text):
        return False
    if _LIST_START.match(block.text):
        return False
    return block.text[:1].islower() or last.open_end
