"""Check eval/realdocs/questions.jsonl against the corpus it was written from.

Every answerable question's answer must occur verbatim in its document's plain text (pypdfium2 for PDFs, python-docx
paragraphs and table cells for DOCX, BeautifulSoup for HTML, the raw file for Markdown), after folding ligatures
(NFKC), dropping pdfium's line-end hyphen marker and collapsing whitespace. The image-only scan has no text layer:
its answers are checked against the original GPO PDF's text (govinfo CRPT-118hrpt728.pdf, given as the argument;
without it they are skipped), which OCR should reproduce. Every unanswerable question lists, in ABSENT_TERMS, the
documents that could answer it and patterns any answer would contain; none may occur there (patterns read by hand
first: a number that answers another question does not count).
Run: .venv/bin/python eval/realdocs/verify_questions.py [path/to/CRPT-118hrpt728.pdf]
"""

import json
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
SCAN = "house_report_118-728_fostering_the_use_of_technology_act_SCAN.pdf"

# question (prefix) -> (documents that could answer it, or "*" for all; patterns any answer would have to contain).
# None of the patterns may occur in those documents.
FEDRAMP = ("omb_m-24-15_modernizing_fedramp.pdf", "fedramp_authorization_act_44usc3608-3609.md", "fedramp_")
ABSENT_TERMS = {
    "What civil penalty amount": ("*", [r"civil penalt[^.]{0,80}\$", r"\$[\d,]+ (for each|per) violation"]),
    "Within how many hours must 37signals": (("37signals_",), [r"\bhours?\b"]),
    "How much does the Keeping Children": (("house_conference_report_108-150",), ["2009"]),
    "What budget does the National Cybersecurity": (("us_national_cybersecurity_strategy",), [r"\$(?!65 billion)"]),
    "For how many days must firewall logs": (("nist_sp800-61r2",), [r"logs?[^.]{0,80}\b\d+ days",
                                                                     r"\b\d+ days[^.]{0,40}logs?\b"]),
    "What fee does a cloud service provider": ("*", [r"\bfees?\b[^.]{0,60}(FedRAMP|authorization)",
                                                  r"(FedRAMP|authorization)[^.]{0,60}\bfees?\b"]),
    "What is the name of GitHub's Data Protection": (("github_",),
                                                     [r"Data Protection Officer,? (?-i:[A-Z][a-z]+ [A-Z])"]),
    "What dollar penalty does FedRAMP": (FEDRAMP, [r"\$"]),
    "When was NIST Cybersecurity Framework Version 2.0": ("*", [r"Cybersecurity Framework (Version |v)?2\.0",
                                                                 r"CSF 2\.0"]),
    "How many college athletes": ("*", ["college athletes", "collegiate athletes"]),
    "What minimum TLS version": (("fedramp_vulnerability_scanning",), [r"\bTLS\b"]),
    "How many days does GitHub keep": (("github_",), [r"\d+ days[^.]{0,80}(delet|account)",
                                                      r"(delet|account)[^.]{0,80}\d+ days"]),
    "Who chairs the FedRAMP Board": (FEDRAMP, [r"\bchair"]),
    "By what date must federal agencies stop using RSA": ("*", [r"\bRSA\b"]),
}


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\ufffe", "").replace("\u00ad", "")
    return re.sub(r"\s+", " ", text).strip()


def plain_text(path: Path) -> str:
    if path.suffix == ".pdf":
        import pypdfium2

        document = pypdfium2.PdfDocument(str(path))
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    if path.suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)
    if path.suffix == ".html":
        from bs4 import BeautifulSoup

        return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" ")
    return path.read_text(encoding="utf-8")


def main() -> int:
    scan_original = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    texts = {p.name: normalise(plain_text(p)) for p in sorted(CORPUS.iterdir()) if p.name != SCAN}
    if scan_original is not None:
        texts[SCAN] = normalise(plain_text(scan_original))
    questions = [json.loads(line) for line in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    problems = []
    for q in questions:
        if q["answerable"]:
            if q["doc_id"] not in texts:
                if q["doc_id"] != SCAN:
                    problems.append(f"no such document: {q['doc_id']}")
                continue
            if normalise(q["answer"]) not in texts[q["doc_id"]]:
                problems.append(f"answer not in {q['doc_id']}: {q['answer']!r}")
            continue
        entry = next((e for prefix, e in ABSENT_TERMS.items() if q["question"].startswith(prefix)), None)
        if entry is None:
            problems.append(f"no absence terms for: {q['question']}")
            continue
        scope, terms = entry
        for name, text in texts.items():
            if scope != "*" and not name.startswith(scope):
                continue
            for term in terms:
                if re.search(term, text, flags=re.IGNORECASE):
                    problems.append(f"{q['question']!r}: {term!r} occurs in {name}")
    answerable = sum(q["answerable"] for q in questions)
    print(f"{len(questions)} questions, {answerable} answerable, {len(questions) - answerable} absent")
    print("\n".join(problems) or "all answers found verbatim; no absent question's answer occurs in the set")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
