"""OCR engines compared on real PDF pages: Debian's Tesseract against RapidOCR (rapidocr-onnxruntime, models inside
its wheel). Run under the benchmark lock, with both engines installed:

    .venv/bin/python benchmarks/ocr_compare.py a.pdf b.pdf … [--pages 3] [--dpi 300] \
        [--scan image-only.pdf=original.pdf]   # a scan made from a PDF, scored against the original's text layer

Pages that have a text layer are rendered with pypdfium2; the text layer is the reference. Each engine reads every
image in a child process of its own (so its peak memory is its own): Tesseract through policyqa's `ocr_image` (the
shipped code: TSV from the `tesseract` CLI), RapidOCR through its Python API with its default settings. Scores after
normalising both texts the same way (line-end hyphenation joined, NFKC, typographic quotes and dashes folded,
bullets, rules and dot leaders dropped, each run of whitespace one space): CER and WER are edit distances over the
reference's characters and words (they also count reading-order differences); word recall is the share of the
reference's words found anywhere on the page (order-free: what search needs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ENGINES = ("tesseract", "rapidocr")  # also: tesseract-omp (the CLI with its default threads)
_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-", "‐": "-",
                       "‑": "-", "−": "-"})
_BULLETS = re.compile(r"[•●▪◦■□►▶✓✔·\ue000-\uf8ff]|_{3,}|\.{4,}|(?:\. ){3,}")  # and rules, dot leaders


_LINE_END_HYPHEN = re.compile(r"(?<=\w)[\ufffe\u00ad]\s*|(?<=[a-z])-\n(?=[a-z])")  # PDFium marks one as U+FFFE


def normalise(text: str) -> str:
    text = _LINE_END_HYPHEN.sub("", text.replace("\r\n", "\n"))
    text = " ".join(unicodedata.normalize("NFKC", text).translate(_FOLD).split())
    return " ".join(_BULLETS.sub(" ", text).split())


def edit_distance(ref: list, hyp: list) -> int:
    """Levenshtein distance; one numpy pass per reference item (insertions via a running minimum)."""
    if not ref or not hyp:
        return max(len(ref), len(hyp))
    ids: dict = {}
    r = np.array([ids.setdefault(x, len(ids)) for x in ref])
    h = np.array([ids.setdefault(x, len(ids)) for x in hyp])
    cols = np.arange(len(h) + 1)
    prev = cols.copy()
    for i, item in enumerate(r, start=1):
        best = np.empty_like(prev)
        best[0] = i
        best[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (h != item))
        prev = np.minimum.accumulate(best - cols) + cols
    return int(prev[-1])


def word_recall(ref: list[str], hyp: list[str]) -> float:
    have = Counter(hyp)
    return sum(min(n, have[w]) for w, n in Counter(ref).items()) / max(1, len(ref))


def pick_pages(pdf_path: Path, per_doc: int, min_chars: int) -> list[tuple[int, str]]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    texts = [normalise(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
    good = [i for i, t in enumerate(texts) if len(t) >= min_chars]
    if len(good) > per_doc:  # spread over the document: front matter, body and annexes look different
        good = [good[round(k * (len(good) - 1) / max(1, per_doc - 1))] for k in range(per_doc)]
    return [(i, texts[i]) for i in good]


def render(pdf_path: Path, index: int, dpi: int, out: Path) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    pdf[index].render(scale=dpi / 72, grayscale=True).to_pil().save(out)


def run_worker(engine: str, images: list[Path]) -> dict:
    """In a child process: OCR each image (decoded before the clock starts), report texts, times and memory."""
    from PIL import Image

    start = time.perf_counter()
    if engine == "tesseract":
        sys.path.insert(0, str(REPO / "src"))
        from policyqa.ingest.readers.ocr import ocr_image

        def read(image):
            return ocr_image(image).text
    elif engine == "tesseract-omp":  # the CLI as it comes: OpenMP on every core (ocr_image limits it to one thread)
        import io

        def read(image):
            buffer = io.BytesIO()
            image.save(buffer, format="PPM")
            done = subprocess.run(["tesseract", "-", "-", "-l", "eng", "tsv"], input=buffer.getvalue(),
                                  capture_output=True, check=True, env={k: v for k, v in os.environ.items()
                                                                        if k != "OMP_THREAD_LIMIT"})
            rows = [r.split("\t") for r in done.stdout.decode().splitlines()[1:]]
            return " ".join(r[11] for r in rows if len(r) > 11 and r[0] == "5")
    else:
        from rapidocr_onnxruntime import RapidOCR

        reader = RapidOCR()

        def read(image):
            lines, _ = reader(np.asarray(image.convert("RGB"))[:, :, ::-1])
            return "\n".join(line[1] for line in lines or [])
    load_s = time.perf_counter() - start
    texts, seconds = [], []
    for path in images:
        with Image.open(path) as image:
            image.load()
            t0 = time.perf_counter()
            texts.append(read(image))
            seconds.append(time.perf_counter() - t0)
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"texts": texts, "seconds": seconds, "load_s": load_s, "own_mb": own_mb,
            "engine_mb": tesseract_peak_mb(images) if engine.startswith("tesseract") else own_mb}


def tesseract_peak_mb(images: list[Path]) -> float:
    """Peak RSS of the `tesseract` process itself, from GNU time (a child's own rusage here would also count this
    Python, whose memory the spawned child shares until it execs)."""
    if not Path("/usr/bin/time").exists():
        return float("nan")
    peaks = []
    for path in images:
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "tesseract", str(path), "-", "-l", "eng", "tsv"],
                              capture_output=True, text=True, env=dict(os.environ, OMP_THREAD_LIMIT="1"))
        peaks.append(int(done.stderr.strip().splitlines()[-1]) / 1024)
    return max(peaks)


def cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    found = re.search(r"^Model name:\s*(.+)$", out, re.M)
    return found.group(1).strip() if found else "unknown"


def engine_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    except OSError:
        tess = "tesseract not installed"
    try:
        rapid = f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')}, onnxruntime {version('onnxruntime')}"
    except PackageNotFoundError:
        rapid = "rapidocr-onnxruntime not installed"
    return {"tesseract": tess, "rapidocr": rapid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdfs", nargs="*", type=Path)
    parser.add_argument("--pages", type=int, default=3, help="pages per document (spread over it)")
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--min-chars", type=int, default=800, help="only pages whose text layer has this many")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--scan", action="append", default=[], metavar="SCAN.pdf=ORIGINAL.pdf",
                        help="also every page of an image-only PDF, scored against the PDF it was made from")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        images = [Path(p) for p in sorted(Path(args.pdfs[0]).glob("*.png"))]
        print(json.dumps(run_worker(args.worker, images)))
        return
    engines = args.engines.split(",")
    args.load_before = os.getloadavg()[0]  # other work on the machine slows both engines
    with tempfile.TemporaryDirectory() as tmp:
        pages: list[tuple[str, int, str]] = []  # (document, 1-based page, reference text)
        for pdf_path in args.pdfs:
            for index, text in pick_pages(pdf_path, args.pages, args.min_chars):
                render(pdf_path, index, args.dpi, Path(tmp) / f"{len(pages):04d}.png")
                pages.append((pdf_path.name, index + 1, text))
        for pair in args.scan:  # an image-only PDF scored against the text layer of the PDF it was made from
            scan, original = (Path(p) for p in pair.split("=", 1))
            for index, text in pick_pages(original, 10**6, args.min_chars):
                render(scan, index, args.dpi, Path(tmp) / f"{len(pages):04d}.png")
                pages.append((f"{scan.name} (image only; reference {original.name})", index + 1, text))
        results = {}
        for engine in engines:
            cmd = [sys.executable, __file__, "--worker", engine, tmp]
            done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
            if done.returncode:
                sys.exit(f"{engine} worker failed:\n{done.stderr[-3000:]}")
            results[engine] = json.loads(done.stdout.strip().splitlines()[-1])
    report(pages, results, engines, args)


def score(ref: str, hyp: str) -> tuple[int, int, int, int, float]:
    hyp = normalise(hyp)
    ref_words, hyp_words = ref.split(), hyp.split()
    return (edit_distance(list(ref), list(hyp)), len(ref), edit_distance(ref_words, hyp_words), len(ref_words),
            word_recall(ref_words, hyp_words))


def report(pages: list[tuple[str, int, str]], results: dict, engines: list[str], args: argparse.Namespace) -> None:
    scores = {e: [score(p[2], hyp) for p, hyp in zip(pages, results[e]["texts"], strict=True)] for e in engines}
    docs = sorted({doc for doc, _, _ in pages}, key=[d for d, _, _ in pages].index)
    versions = engine_versions()
    print(f"# OCR engines on real PDF pages\n\nCPU: {cpu_model()} ({os.cpu_count()} cores); {len(pages)} pages from "
          f"{len(docs)} documents rendered at {args.dpi} dpi (grayscale) with pypdfium2; reference: each page's own "
          "text layer (for an image-only PDF: the text layer of the PDF it was made from).\n")
    for e in engines:
        print(f"- {e}: {versions[e.split('-')[0]]}")
    print("\n## Per document (CER / WER / word recall)\n")
    print("| document | pages | " + " | ".join(engines) + " |")
    print("|---|---|" + "---|" * len(engines))
    for doc in docs:
        rows = [i for i, (d, _, _) in enumerate(pages) if d == doc]
        cells = []
        for e in engines:
            s = [scores[e][i] for i in rows]
            cells.append(f"{_rate(s, 0):.3f} / {_rate(s, 2):.3f} / {np.mean([x[4] for x in s]):.3f}")
        print(f"| {doc} | {', '.join(str(pages[i][1]) for i in rows)} | " + " | ".join(cells) + " |")
    print("\n## Overall\n")
    print("| engine | CER | WER | word recall | s/page (mean) | s/page (max) | load s | peak MB (engine) |")
    print("|---|---|---|---|---|---|---|---|")
    summary = {}
    for e in engines:
        r, s = results[e], scores[e]
        peak = r["engine_mb"]
        summary[e] = (_rate(s, 0), _rate(s, 2), float(np.mean([x[4] for x in s])), float(np.mean(r["seconds"])), peak)
        print(f"| {e} | {summary[e][0]:.3f} | {summary[e][1]:.3f} | {summary[e][2]:.3f} | {summary[e][3]:.2f} | "
              f"{max(r['seconds']):.2f} | {r['load_s']:.2f} | {peak:.0f} |")
    if len(engines) == 2:
        a, b = engines
        ratios = [summary[b][k] / summary[a][k] if summary[a][k] else float("inf") for k in range(5)]
        print(f"| ratio {b}/{a} | {ratios[0]:.2f} | {ratios[1]:.2f} | {ratios[2]:.2f} | {ratios[3]:.2f} | | | "
              f"{ratios[4]:.2f} |")
    print("\nCER/WER: edit distance summed over all pages / reference length (characters, words). s/page: OCR of a "
          "decoded page image (for Tesseract: writing it to the CLI, running it, reading its TSV). Peak MB: the "
          "`tesseract` process's peak RSS (GNU time); for RapidOCR the peak RSS of the Python process holding it and "
          "one page image (the Tesseract worker's own Python peaked at "
          f"{results.get('tesseract', {}).get('own_mb', 0):.0f} MB). Load average (1 min) before/after: "
          f"{args.load_before:.2f} / {os.getloadavg()[0]:.2f}.")


def _rate(rows: list[tuple], k: int) -> float:
    return sum(x[k] for x in rows) / max(1, sum(x[k + 1] for x in rows))


if __name__ == "__main__":
    main()
