"""Which parts of a parsed page are its content, as blocks in reading order (one pass over the lxml tree).

The content is the page's <main> (or role="main", or its only <article>) when it has one, else the <body>. Left out:
elements that are never read (scripts, styles, forms' controls, embedded objects), the site's furniture by tag or
ARIA role (nav, aside, banner, contentinfo, …; header and footer outside the content element), and elements whose
class or id names furniture (cookie banners, menus, share bars, breadcrumbs), unless they hold the page's <h1>.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policyqa.ingest.readers.table_rows import Row, table_lines

_NEVER_READ = {
    "head", "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas", "video",
    "audio", "map", "button", "select", "input", "textarea", "option", "datalist", "dialog", "title", "meta", "link",
}  # fmt: skip
_FURNITURE_ROLES = {
    "navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu", "menubar",
    "toolbar", "form",
}  # fmt: skip
# Words of a class or id (split at spaces, "-" and "_") that always name furniture
_FURNITURE_WORDS = {
    "cookie", "cookies", "consent", "gdpr", "onetrust", "breadcrumb", "breadcrumbs", "skip", "skipnav", "invisible",
    "visually", "sr", "screenreader", "offscreen", "headerlink", "permalink", "anchorjs",
}  # fmt: skip
# … and words that usually do, but also turn up in layout classes ("elementor-widget", "has-sidebar"): these drop an
# element only when it reads like furniture (short, or mostly links)
_LIKELY_WORDS = {
    "share", "sharing", "social", "subscribe", "newsletter", "popup", "modal", "overlay", "offcanvas", "toolbar",
    "pager", "pagination", "print", "feedback", "related", "recommended", "comments", "comment", "respond", "widget",
    "widgets", "advert", "advertisement", "ads", "promo", "sidebar", "tagcloud",
}  # fmt: skip
# … and, outside the content element, the site's frame
_FRAME_WORDS = {
    "nav", "navbar", "navigation", "menu", "menubar", "megamenu", "header", "footer", "masthead", "banner", "search",
    "login", "signin", "utility", "topbar",
}  # fmt: skip
MAIN_SHARE = 0.3  # of the body's words that <main> must hold to be taken as the content
FURNITURE_TEXT_CHARS = 1000  # an element named like furniture with more text than this, mostly not links, is content
FURNITURE_SAMPLE_NODES = 2000
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_INLINE = {
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i", "img",
    "ins", "kbd", "label", "mark", "nobr", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
    "time", "tt", "u", "var", "wbr",
}  # fmt: skip
_WORD_SPLIT = re.compile(r"[\s_-]+|(?<=[a-z])(?=[A-Z])")  # "wrapperFooter": wrapper, Footer
_SPACES = re.compile(r"[ \t\n\r\f]+")
MAX_COLSPAN = 64  # a hostile colspan="1000000" must not make a row of a million cells


@dataclass(frozen=True)
class Block:
    text: str
    level: int = 0  # 1-6 for a heading, 0 for a paragraph, list item or table


def page_blocks(root: Any) -> list[Block]:
    content = _content_element(root)
    blocks: list[Block] = []
    if content.find(".//h1") is None and (lead := _lead_heading(root, content)) is not None:
        blocks.append(Block(lead, 1))  # the page's title heading sits above <main> on many sites
    _Walker(blocks, inside_content=content.tag != "body").walk(content)
    return blocks


def _content_element(root: Any) -> Any:
    """<main> (or role="main", or the only <article>) when it holds a fair share of the page's words, else <body>:
    some sites wrap only a teaser or the page's title in <main>."""
    body = root.find("body")
    if body is None:
        body = root
    found = next((e for e in body.iter("main", "div", "section") if e.tag == "main" or e.get("role") == "main"), None)
    if found is None:
        articles = body.findall(".//article")
        found = articles[0] if len(articles) == 1 else None
    if found is None or _words(found) < MAIN_SHARE * _words(body):
        return body
    return found


def _words(element: Any) -> int:
    from lxml import etree

    return len(etree.tostring(element, method="text", encoding="unicode").split())


def _lead_heading(root: Any, content: Any) -> str | None:
    """The last <h1> before the content element that is not furniture."""
    lead = None
    for heading in title_headings(root, stop=content):
        lead = inline_text(heading)
    return lead or None


def _is_furniture(element: Any, inside_content: bool) -> bool:
    """Site furniture by tag or ARIA role, or by its class/id words (then only when it reads like furniture)."""
    tag = element.tag
    if not isinstance(tag, str) or tag in _HEADINGS or tag in ("body", "html", "main"):
        return False  # a heading's or the page's own classes are style, not furniture
    role = (element.get("role") or "").strip().lower()
    if tag in ("nav", "menu") or role in _FURNITURE_ROLES or (not inside_content and tag in ("header", "footer")):
        return True
    words = _name_words(element)
    if words & _FURNITURE_WORDS:
        return True
    likely = tag in ("aside", "form") or element.get("aria-hidden") == "true" or words & _LIKELY_WORDS
    if not likely and not (not inside_content and words & _FRAME_WORDS):
        return False
    return _reads_like_furniture(element)


def _reads_like_furniture(element: Any) -> bool:
    """Short, or mostly link text. Judged on the element's first FURNITURE_SAMPLE_NODES nodes at most, so nested
    elements named like furniture cost a bounded look each, not their whole subtree (250 nested share bars around
    5 MB of text took 29 s when each was measured whole)."""
    from lxml import etree

    chars = link_chars = links_open = 0
    cut = False  # the look stopped before the element's end: then it is not known to be short
    walker = etree.iterwalk(element, events=("start", "end"))
    for visited, (event, node) in enumerate(walker):
        if visited > FURNITURE_SAMPLE_NODES:
            cut = True
            break
        is_link = node.tag == "a"
        if event == "start":
            links_open += is_link
            piece = node.text
        else:
            links_open -= is_link
            piece = node.tail if node is not element else None
        if piece:
            size = len(piece) - piece.count(" ") - piece.count("\n")
            chars += size
            link_chars += size if links_open else 0
    return (chars <= FURNITURE_TEXT_CHARS and not cut) or link_chars > chars / 2


def _holds_page_heading(element: Any) -> bool:
    return element.find(".//h1") is not None


class _Walker:
    """Appends blocks in reading order: text gathers until a block element starts or ends, then becomes a block."""

    def __init__(self, blocks: list[Block], inside_content: bool) -> None:
        self.blocks = blocks
        self.inside_content = inside_content
        self.pieces: list[str] = []
        self.heading: tuple[Any, int] | None = None  # the heading element being read and its level
        self.pre_depth = 0

    def walk(self, top: Any) -> None:
        from lxml import etree

        walker = etree.iterwalk(top, events=("start", "end"))
        passed_over = None  # an element whose subtree was skipped: its "end" event comes next
        for event, element in walker:
            tag = element.tag if isinstance(element.tag, str) else ""
            if event == "start":
                if self._skipped(element, tag):
                    walker.skip_subtree()
                    passed_over = element
                    continue
                self._start(element, tag)
                if tag == "table" and _is_data_table(element):
                    self._flush()
                    if lines := _table_lines(element):
                        self.blocks.append(Block("\n".join(lines)))
                    walker.skip_subtree()
                elif element.text:
                    self._add(element.text)
            else:
                if element is not passed_over:
                    self._end(element, tag)
                passed_over = None
                if element is not top and element.tail:
                    self._add(element.tail)
        self._flush()

    def _skipped(self, element: Any, tag: str) -> bool:
        if not tag or tag in _NEVER_READ:
            return True
        if not _is_furniture(element, self.inside_content):
            return False
        if tag in ("nav", "menu") or (element.get("role") or "").strip().lower() in ("navigation", "menu", "menubar"):
            return True  # a menu is a menu, <h1> or not
        return not _holds_page_heading(element)  # a "page-header" <div> or a <header> holding the <h1> stays

    def _start(self, element: Any, tag: str) -> None:
        if tag == "br":
            self.pieces.append("\n")
        elif tag == "pre":
            self.pre_depth += 1
        if tag in _INLINE or self.heading is not None:
            return
        self._flush()
        if tag in _HEADINGS:
            self.heading = (element, _HEADINGS[tag])

    def _end(self, element: Any, tag: str) -> None:
        if tag == "pre":
            self.pre_depth -= 1
        if self.heading is not None and self.heading[0] is element:
            text = " ".join("".join(self.pieces).split())
            self.pieces = []
            if text:
                self.blocks.append(Block(text, self.heading[1]))
            self.heading = None
        elif tag not in _INLINE and self.heading is None:
            self._flush()

    def _add(self, text: str) -> None:
        self.pieces.append(text if self.pre_depth else _SPACES.sub(" ", text))

    def _flush(self) -> None:
        if not self.pieces:
            return
        raw = "".join(self.pieces)
        self.pieces = []
        lines = [line.strip(" ") if self.pre_depth else " ".join(line.split(" ")).strip() for line in raw.split("\n")]
        text = "\n".join(line for line in lines if line.strip())
        if text:
            self.blocks.append(Block(text))


def _is_data_table(table: Any) -> bool:
    """A table of data, not one that lays out a page (nested tables, headings or role="presentation" inside)."""
    if (table.get("role") or "").lower() in ("presentation", "none"):
        return False
    return next(table.iterdescendants("table", "h1", "h2", "h3", "h4", "h5", "h6"), None) is None


def _table_lines(table: Any) -> list[str]:
    rows: list[Row] = []
    marked = 0  # leading rows marked as headers (in <thead>, or of <th> cells only)
    for row in table.iter("tr"):
        cells = [cell for cell in row if cell.tag in ("td", "th")]
        values: Row = []
        for cell in cells:
            span = min(max(_int(cell.get("colspan"), 1), 1), MAX_COLSPAN)
            values += [inline_text(cell)] + [None] * (span - 1)
        in_head = row.getparent() is not None and row.getparent().tag == "thead"
        if marked == len(rows) and cells and (in_head or all(cell.tag == "th" for cell in cells)):
            marked += 1
        rows.append(values)
    if marked >= len(rows):  # <th> cells only: that says nothing of which row names the columns
        marked = 0
    return table_lines(rows, marked or None)


def inline_text(element: Any) -> str:
    """The element's words on one line, without what is never read or always furniture (a heading's "¶" link)."""
    from lxml import etree

    pieces: list[str] = []
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        if event == "start":
            if not isinstance(node.tag, str) or node.tag in _NEVER_READ or _always_furniture(node):
                walker.skip_subtree()
            elif node.text:
                pieces.append(node.text)
        elif node is not element and node.tail:
            pieces.append(node.tail)
    return " ".join(" ".join(pieces).split())


def _always_furniture(element: Any) -> bool:
    return not _name_words(element).isdisjoint(_FURNITURE_WORDS)


def _name_words(element: Any) -> set[str]:
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return {word.lower() for word in _WORD_SPLIT.split(names) if word} if names.strip() else set()


def _int(value: str | None, default: int) -> int:
    try:
        return int((value or "").strip() or default)
    except ValueError:
        return default


def title_headings(root: Any, stop: Any = None) -> Iterator[Any]:
    """The page's <h1> elements outside the site's furniture, in order (up to `stop`, when given); one in a
    <header> counts (page titles sit there). Each ancestor is judged once: thousands of <h1> in a menu cost one pass."""
    verdicts: dict[Any, bool] = {}
    for heading in root.iter() if stop is not None else root.iter("h1"):
        if heading is stop:
            return
        if heading.tag != "h1":
            continue
        furniture = False
        for element in heading.iterancestors():
            if element not in verdicts:
                verdicts[element] = _is_furniture(element, inside_content=element.tag == "header")
            if verdicts[element]:
                furniture = True
                break
        if not furniture:
            yield heading
