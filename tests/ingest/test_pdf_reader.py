"""The PDF reader on real PDFs (eval/realdocs/corpus, public domain; tests/data/pdf, CC0): what a person reading
them sees, and nothing of the page furniture they skip."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import pytest

from policyqa.errors import DocumentError
from policyqa.ingest.clean import is_clean
from policyqa.ingest.documents import CorpusFile, read_document
from policyqa.ingest.readers.base import ParsedText
from policyqa.ingest.readers.pdf import read_pdf
from tests.filemakers import make_scanned_pdf, make_word_by_word_pdf

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "eval" / "realdocs" / "corpus"
DATA = ROOT / "tests" / "data" / "pdf"
CSF = "nist_cybersecurity_framework_1.1.pdf"  # 55 pages: bookmarks, running header, DOI footer, roman front matter
MEMO = "omb_m-24-15_modernizing_fedramp.pdf"  # OMB memo: footnotes on most pages, bookmarks, page-number footer
INCIDENT = "fedramp_incident_communications_procedures.pdf"  # header + "fedramp.gov page N"; title property a file name
SENATE = "senate_report_113-310_youth_sports_concussion_act.pdf"  # GPO typesetting: hyphenation, print-run slugs
PRIVACY = "nist_privacy_framework_1.0.pdf"
ENCRYPTED = "fedramp_vulnerability_scanning_requirements_ENCRYPTED_AES256_empty_password.pdf"
TEXT_PDFS = sorted(p.name for p in CORPUS.glob("*.pdf") if "SCAN" not in p.name)


@functools.cache
def read(name: str) -> ParsedText:
    return read_pdf((CORPUS / name).read_bytes())


def folded(text: str) -> str:
    return " ".join(text.split()).casefold()


# --- furniture --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "furniture", "most"),
    [
        (CSF, "April 16, 2018 Cybersecurity Framework Version 1.1", 0),  # running header on 54 pages
        (CSF, "This publication is available free of charge from: https://doi.org/10.6028/NIST.CSWP.04162018", 0),
        (INCIDENT, "fedramp.gov page", 0),  # footer "fedramp.gov page 3"
        (INCIDENT, "FedRAMP Incident Communication Procedure", 1),  # running header (the title page says it once)
        (SENATE, "VerDate", 0),  # the print run's slug in the bottom margin
        (SENATE, "smartinez on DSK4TPTVN1PROD", 0),  # and up the side margin
        ("us_national_cybersecurity_strategy_2023.pdf", "NATIONAL CYBERSECURITY STRATEGY", 0),  # odd/even headers
    ],
)
def test_running_headers_footers_and_page_numbers_are_left_out(name: str, furniture: str, most: int) -> None:
    assert read(name).text.count(furniture) <= most


@pytest.mark.parametrize("name", TEXT_PDFS)
def test_no_page_number_is_left_on_its_page(name: str) -> None:
    parsed = read(name)
    ends = [*parsed.page_starts[1:], len(parsed.text)]
    for label, start, end in zip(parsed.page_labels, parsed.page_starts, ends, strict=True):
        paragraphs = {p.strip() for p in parsed.text[start:end].split("\n\n")}
        assert not paragraphs & {label, f"Page {label}", f"- {label} -"}, (label, parsed.text[start : start + 80])


# --- headings and titles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [CSF, MEMO, "nist_sp800-30r1_risk_assessments.pdf"])
def test_headings_come_from_the_bookmarks_and_point_at_their_text(name: str) -> None:
    import pypdfium2 as pdfium

    outline = [folded(m.get_title()) for m in pdfium.PdfDocument(CORPUS / name).get_toc()]
    parsed = read(name)
    found = {folded(title) for _, title in parsed.headings}  # the heading as printed; the outline may differ in case
    assert len([t for t in outline if t in found]) >= 0.9 * len(outline), sorted(set(outline) - found)[:10]
    for (start, title), level in zip(parsed.headings, parsed.levels, strict=True):
        assert parsed.text[start : start + len(title)] == title and level >= 1
        assert parsed.text[start + len(title) : start + len(title) + 2] in ("\n\n", "")  # its own paragraph


def test_heading_levels_follow_the_outline() -> None:
    levels = dict((title, level) for (_, title), level in zip(read(CSF).headings, read(CSF).levels, strict=True))
    assert levels["1.0 Framework Introduction"] < levels["1.1 Overview of the Framework"]


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (SENATE, "YOUTH SPORTS CONCUSSION ACT"),  # no title property; "Calendar No. 618" is set larger
        (INCIDENT, "FedRAMP® Incident Communications Procedures"),  # property: "…Procedures_JH Reviewed_070224"
        (MEMO, "M-24-15 Modernizing the Federal Risk and Authorization Management Program"),  # a sane property
        (CSF, "Framework for Critical Infrastructure Cybersecurity, Version 1.1"),
    ],
)
def test_titles(name: str, title: str) -> None:
    assert read(name).title == title


def test_a_file_name_title_property_gives_way_to_the_first_heading() -> None:
    title = read("37signals_data_processing_addendum_2022.pdf").title or ""
    assert title.startswith("37SIGNALS DATA PROCESSING ADDENDUM") and "FINAL" not in title


# --- page labels ------------------------------------------------------------------------------------------------


def test_page_labels_are_the_printed_numbers() -> None:
    labels = read(CSF).page_labels
    assert len(labels) == len(read(CSF).page_starts) == 55
    assert labels[1:7] == ["ii", "iii", "iv", "v", "vi", "vii"] and labels[7:10] == ["1", "2", "3"]
    assert read("fedramp_penetration_test_guidance.pdf").page_labels[:8] == ["1", "1", "2", "3", "4", "5", "1", "2"]
    assert read(SENATE).page_labels == ["1", "ii", "1", "2", "3", "4"]


def test_the_files_own_page_labels_win() -> None:
    labels = read("nist_fips203_ml-kem_standard.pdf").page_labels  # /PageLabels: "A", none, none, i…vi, 1…
    assert labels[:12] == ["A", "2", "3", "i", "ii", "iii", "iv", "v", "vi", "1", "2", "3"]


def test_page_starts_are_one_per_page_and_in_order() -> None:
    parsed = read(CSF)
    assert parsed.page_starts[0] == 0 and parsed.page_starts == sorted(parsed.page_starts)
    intro = parsed.text.index("The United States depends on the reliable functioning of critical infrastructure")
    assert parsed.page_labels[sum(1 for s in parsed.page_starts if s <= intro) - 1] == "v"


# --- paragraphs, hyphens, footnotes -----------------------------------------------------------------------------


def test_words_hyphenated_at_line_ends_are_joined_and_compounds_keep_their_hyphen() -> None:
    senate = read(SENATE).text
    assert "concussions" in senate and not re.search(r"con-\s?cussions", senate)
    assert "streamline" in senate
    assert "self-assessment" in read(CSF).text  # "self-" at a line end, "assessment" on the next: a compound


def test_a_sentence_running_over_a_page_break_is_joined_with_a_space() -> None:
    parsed = read(CSF)
    joined = "because it references globally recognized standards for cybersecurity, the Framework can serve"
    at = parsed.text.index(joined)
    assert any(at < start < at + len(joined) for start in parsed.page_starts)  # the page break is inside it


def test_footnotes_are_kept_out_of_sentences_and_recorded() -> None:
    parsed = read(MEMO)
    assert len(parsed.footnotes) >= 30
    for start, end in parsed.footnotes:
        note = parsed.text[start:end]
        assert re.match(r"\d{1,2} \S", note), note[:40]
        assert start == 0 or parsed.text[start - 2 : start] == "\n\n"
        assert parsed.text[end : end + 2] in ("\n\n", "")
    notes = [parsed.text[a:b] for a, b in parsed.footnotes]
    assert any(n.startswith("3 The FedRAMP Marketplace shows cloud computing products") for n in notes)
    body = "infrastructure that they directly manage."
    assert body in parsed.text and "manage.3" not in parsed.text


@pytest.mark.parametrize(
    ("name", "glued", "clean"),
    [
        (MEMO, "manage.3", "that they directly manage."),
        (PRIVACY, "stakeholders.2", "stakeholders."),
        (PRIVACY, "harm.6", "harm."),
        ("nist_sp800-61r2_incident_handling_guide.pdf", "website.9", "website."),
    ],
)
def test_footnote_markers_are_not_glued_to_words(name: str, glued: str, clean: str) -> None:
    text = read(name).text
    assert glued not in text and clean in text


def test_table_rows_stay_rows_and_carry_their_column_headers() -> None:
    text = read(CSF).text
    assert "Update | Description of Update\n" in text
    assert "\nA new section on self-assessment | Description of Update: Added Section 4.0 Self-Assessing" in text


def test_a_word_processor_pdf_drawn_word_by_word_reads_as_lines(tmp_path: Path) -> None:
    path = make_word_by_word_pdf(tmp_path / "memo.pdf", ["Retention periods for footage are", "set by the officer."])
    assert read_pdf(path.read_bytes()).text == "Retention periods for footage are set by the officer."


# --- characters, encryption, damage ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEXT_PDFS)
def test_no_ligature_control_or_private_use_character_reaches_the_document(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    doc = read_document(CorpusFile(name, CORPUS / name, data, hashlib.sha256(data).hexdigest()))
    assert is_clean(doc.text)
    assert not re.search("[\ue000-\uf8ff\ufffe\ufb00-\ufb06]", doc.text)


def test_an_encrypted_pdf_with_an_empty_password_opens() -> None:
    parsed = read(ENCRYPTED)
    assert "vulnerability scanning" in parsed.text.casefold() and len(parsed.page_starts) == 10


def test_a_password_protected_pdf_says_so() -> None:
    with pytest.raises(DocumentError, match=r"^encrypted PDF \(needs a password\)$"):
        read_pdf((DATA / "password_locked.pdf").read_bytes())


@pytest.mark.parametrize("cut", [0, 1000, 60_000], ids=["empty", "header-only", "truncated"])
def test_a_damaged_pdf_is_a_document_error(cut: int) -> None:
    data = (CORPUS / MEMO).read_bytes()[:cut]
    with pytest.raises(DocumentError, match="PDF"):
        read_pdf(data)


def test_a_scanned_page_is_read_by_ocr(tmp_path: Path) -> None:
    try:
        from policyqa.ingest.readers.ocr import ocr_available
    except ImportError:
        pytest.skip("policyqa.ingest.readers.ocr is not there yet")
    if reason := ocr_available():
        pytest.skip(f"OCR is not available here: {reason}")
    scan = make_scanned_pdf(CORPUS / MEMO, 1, tmp_path / "scan.pdf")
    parsed = read_pdf(scan.read_bytes())
    assert parsed.ocr_pages == [1] and parsed.notes == ["page 1 read by OCR"]
    assert "Since its establishment in 2011, FedRAMP has operated by partnering with agencies" in parsed.text
    assert parsed.headings == [] or parsed.headings[0][1] == "I. Background"


def test_letters_of_one_glyph_and_characters_beyond_the_bmp_stay_in_place() -> None:
    text = read("nist_fips203_ml-kem_standard.pdf").text  # a "ti" glyph gives both letters one box; math italics
    assert "Multiplication in the NTT Domain" in text and "Mult iplicat" not in text
    assert "𝑓" in text and not re.search("[\ud800-\udfff]", text)
