"""Web pages: main content only, headings with levels at exact offsets, tables whose rows carry their headers, a
sane title, and bounded time and memory on hostile pages (issue 22 item 5; issue 24 items 5-7)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from policyqa.errors import DocumentError
from policyqa.ingest.documents import CorpusFile, read_document
from policyqa.ingest.readers.html import MAX_HTML_ELEMENTS, read_html

REPO = Path(__file__).resolve().parents[2]
FEMA_PAGE = Path(__file__).parent / "data" / "html" / "fema_hurricane_maria_2017.html"
FEDRAMP_PAGE = REPO / "eval" / "realdocs" / "corpus" / "fedramp_20x_significant_change_notifications.html"


def read_file(path: Path):
    data = path.read_bytes()
    return read_document(CorpusFile(path.name, path, data, hashlib.sha256(data).hexdigest()))


def assert_headings_exact(parsed) -> None:
    for start, title in parsed.headings:
        assert parsed.text[start : start + len(title)] == title


def test_real_government_page_without_main_keeps_content_drops_menu_and_footer() -> None:
    document = read_file(FEMA_PAGE)
    assert document.title == "Hurricane Maria"  # the <h1>, not "Hurricane Maria | FEMA.gov"
    assert "Service providers will not be charging additional roaming charges" in document.text
    assert "Rumor Control" not in document.text  # the left menu
    assert "Office of the Inspector General" not in document.text  # the footer
    assert "Main Content" not in document.text  # the skip link
    assert "var " not in document.text and "function(" not in document.text  # scripts
    titles = [(h.title, h.level) for h in document.headings]
    assert titles[:3] == [
        ("Hurricane Maria", 1),
        ("Cell Phones: No Cost Roaming Charges", 2),
        ("How to Find or Reunite with Loved Ones", 2),
    ]
    for heading in document.headings:
        assert document.text[heading.start :].startswith(heading.title)


def test_real_docs_site_page_reads_main_only_with_nested_heading_levels() -> None:
    parsed = read_html(FEDRAMP_PAGE.read_bytes())
    assert parsed.title == "Significant Change Notification Requirements"
    assert "Made with Zensical" not in parsed.text  # footer
    assert "Return to fedramp.gov" not in parsed.text  # navigation tabs
    assert "On this page" not in parsed.text  # the table of contents beside the text
    assert "palette" not in parsed.text  # a script in the header
    assert "¶" not in parsed.text  # the headings' permalinks
    assert ("FRR-SCN-01", 3) in list(zip([t for _, t in parsed.headings], parsed.levels, strict=True))
    assert parsed.levels[0] == 1 and 2 in parsed.levels
    assert_headings_exact(parsed)


def test_headings_are_own_paragraphs_and_table_rows_carry_headers() -> None:
    page = b"""<html><head><title>Baseline | Agency</title></head><body>
    <header><nav><a href="/">Home</a> <a href="/a">About</a></nav></header>
    <main><h1>Baseline</h1><p>Intro text.</p><h2>Controls</h2>
    <table><thead><tr><th>Control</th><th>Foundational</th><th>Advanced</th></tr></thead>
    <tbody><tr><td>1.6</td><td>&ndash;</td><td>Y</td></tr><tr><td>1.7</td><td>Y</td><td></td></tr></tbody></table>
    <p>After the table.</p></main>
    <footer>Copyright Agency</footer></body></html>"""
    parsed = read_html(page)
    assert parsed.text == (
        "Baseline\n\nIntro text.\n\nControls\n\n"
        "Control | Foundational | Advanced\n1.6 | Foundational: – | Advanced: Y\n1.7 | Foundational: Y\n\n"
        "After the table."
    )
    assert parsed.headings == [(0, "Baseline"), (23, "Controls")]
    assert parsed.levels == [1, 2]
    assert parsed.title == "Baseline"


def test_cookie_banner_and_menu_overlay_are_dropped_and_never_the_title() -> None:
    page = b"""<html><body>
    <div class="mobile-menu-overlay"><h2>Mobile Menu Overlay</h2><a href="/">Home</a></div>
    <div id="cookie-consent"><p>We use cookies to improve your experience. Accept all?</p></div>
    <div class="content"><p>Records are kept for seven years after the case closes.</p></div>
    </body></html>"""
    parsed = read_html(page)
    assert parsed.text == "Records are kept for seven years after the case closes."
    assert parsed.title is None and parsed.headings == []


def test_title_is_never_markup_or_interface_text() -> None:
    page = b"<html><head><title>&lt;b&gt;Draft&lt;/b&gt;</title></head><body><p>Plain text here.</p></body></html>"
    assert read_html(page).title is None
    menu = b"<html><head><title>Skip to main content</title></head><body><h1>Data Retention Policy</h1></body></html>"
    assert read_html(menu).title == "Data Retention Policy"


def test_a_long_content_block_named_like_a_widget_is_kept() -> None:
    words = "The agency retains audit logs for three years and reviews them every quarter. " * 30
    page = f'<html><body><div class="elementor-widget-text-editor"><p>{words}</p></div></body></html>'.encode()
    assert "retains audit logs" in read_html(page).text


def test_declared_legacy_charset_is_honoured() -> None:
    page = '<html><head><meta charset="windows-1251"></head><body><p>Политика</p></body></html>'
    assert read_html(page.encode("cp1251")).text == "Политика"


# --- issue 24 items 5-7: bounded time and memory (the old html.parser reader took 130 s, 121 s and 41 s here) ---


def test_repeated_end_tags_are_read_in_linear_time() -> None:
    data = b"<html><body><p>x" + b"</ " * 420_000  # 1.2 MB: 130 s with html.parser
    started = time.perf_counter()
    read_html(data)
    assert time.perf_counter() - started < 10


def test_headings_hidden_in_objects_cost_one_pass() -> None:
    hidden = b"".join(b"<h2>Heading %d hidden inside an object element of a long page</h2>" % i for i in range(20_000))
    body = b"<p>A visible paragraph of the page that the reader keeps in its text.</p>" * 20_000
    data = b"<html><body><object>" + hidden + b"</object><h2>Visible</h2>" + body + b"</body></html>"
    started = time.perf_counter()
    parsed = read_html(data)
    assert time.perf_counter() - started < 10  # minutes when each heading was searched for from the start
    assert parsed.headings == [(0, "Visible")] and parsed.text.startswith("Visible\n\nA visible paragraph")


def test_a_page_with_too_many_elements_is_refused_before_parsing() -> None:
    data = b"<html><body>" + b"<p>x</p>\n" * 1_000_000 + b"</body></html>"  # 9 MB: 41 s and 1.2 GB before
    started = time.perf_counter()
    with pytest.raises(DocumentError, match="too many elements"):
        read_html(data)
    assert time.perf_counter() - started < 5


def test_a_page_just_under_the_element_limit_is_read() -> None:
    data = b"<html><body><p>" + b"<i>x</i>" * (MAX_HTML_ELEMENTS - 10) + b"</p></body></html>"
    assert read_html(data).text.count("x") == MAX_HTML_ELEMENTS - 10


def test_nesting_deeper_than_libxml2_reads_is_read_as_text_not_truncated() -> None:
    data = b"<html><body><script>var x = 1;</script>" + b"<div>" * 300 + b"deep</div><p>after &amp; more</p>"
    parsed = read_html(data + b"<SCRIPT>y()</SCRIPT><style>p {}</style></body></html>")
    assert parsed.text == "deep\n\nafter & more"
    assert parsed.notes == ["read as plain text: its elements are nested more than 256 levels deep"]
    started = time.perf_counter()
    read_html(b"<div>" * 300 + b"<script>" * 200_000 + b"<" * 200_000)  # unclosed: linear scans
    assert time.perf_counter() - started < 5


def test_hostile_colspan_does_not_explode_a_row() -> None:
    data = b'<table><tr><th>A</th><th>B</th></tr><tr><td colspan="100000000">wide</td></tr></table>'
    assert len(read_html(data).text) < 200


def test_a_few_stray_nul_bytes_in_a_real_page_are_dropped_and_a_binary_file_is_refused() -> None:
    data = FEMA_PAGE.read_bytes()
    middle = data.index(b"Service providers will not be charging")
    parsed = read_html(data[:middle] + b"\x00" + data[middle:])
    assert "Service providers will not be charging" in parsed.text
    with pytest.raises(DocumentError, match="binary file"):
        read_html(b"<html>" + b"\x00\x01\x02" * 1000)


def test_nested_furniture_names_and_headings_in_menus_cost_one_pass() -> None:
    nested = b'<div class="share">' * 250 + b"<p>" + b"word " * 200_000 + b"</p>" + b"</div>" * 250
    menu = b'<nav><div class="sidebar"><p>' + b"word " * 2_000 + b"</p>" + b"<h1>Menu</h1>" * 20_000 + b"</div></nav>"
    started = time.perf_counter()
    assert read_html(b"<body>" + nested + b"</body>").text.count("word") == 200_000
    assert read_html(b"<body>" + menu + b"<main><p>Body.</p></main></body>").title is None
    assert time.perf_counter() - started < 10  # 29 s and 6.5 s when each was measured whole


def test_page_title_in_the_site_header_above_main_is_kept() -> None:
    page = b"""<body><header class="site-header"><h1>Privacy Policy</h1><nav><a href="/">Home</a></nav></header>
    <main><p>We keep account data for one year.</p></main><footer>Contact</footer></body>"""
    parsed = read_html(page)
    assert parsed.title == "Privacy Policy"
    assert parsed.text == "Privacy Policy\n\nWe keep account data for one year."
    assert parsed.headings == [(0, "Privacy Policy")]
