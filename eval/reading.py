"""How faithfully documents come back from PDF and from OCR, measured on the seeds.

`python -m eval pdf`: each seed printed to PDF (eval/printed.py), its text read
back by pypdf, pdfplumber, pymupdf and pypdfium2 where installed: similarity to
the seed text (1 − normalised edit distance; whitespace removed, then kept),
spurious spaces, heading lines that come out as a line of their own, time; and
for the parser in use (rag/pdf.py), how many paragraphs rag parses from the
PDF exactly as from the .txt (text, heading path).

`python -m eval ocr`: seed pages rendered as images at the OCR resolution, read
by rapidocr; character accuracy 1 − CER against the page's text layer
(whitespace removed), and seconds per page.

Deliberately not a test: it prints figures, and its times depend on the machine.
"""

from __future__ import annotations

import importlib.util
import re
import tempfile
import time
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from rag.documents import load_document
from rag.headings import heading_level

from .printed import HEADER, page_images, print_pdf

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
_FURNITURE = re.compile(rf"^({HEADER}|— \d+ —)$")


def _extractors() -> dict:
    out = {}
    if importlib.util.find_spec("pypdf"):

        def pypdf_text(p: Path) -> str:
            import pypdf

            return "\n".join(pg.extract_text() for pg in pypdf.PdfReader(p).pages)

        out["pypdf"] = pypdf_text
    if importlib.util.find_spec("pdfplumber"):

        def plumber_text(p: Path) -> str:
            import pdfplumber

            with pdfplumber.open(p) as pdf:
                return "\n".join(pg.extract_text() for pg in pdf.pages)

        out["pdfplumber"] = plumber_text
    if importlib.util.find_spec("pymupdf"):

        def mupdf_text(p: Path) -> str:
            import pymupdf

            with pymupdf.open(p) as d:
                return "\n".join(pg.get_text() for pg in d)

        out["pymupdf"] = mupdf_text
    if importlib.util.find_spec("pypdfium2"):

        def pdfium_text(p: Path) -> str:
            import pypdfium2

            d = pypdfium2.PdfDocument(str(p))
            try:
                return "\n".join(pg.get_textpage().get_text_range().replace("\r\n", "\n") for pg in d)
            finally:
                d.close()

        out["pypdfium2"] = pdfium_text
    return out


def _seed_lines(seed: Path) -> list[str]:
    return [ln.strip(" \t\u3000") for ln in seed.read_text(encoding="utf-8").split("\n") if ln.strip(" \t\u3000")]


def printed_seeds(folder: Path) -> list[tuple[Path, Path]]:
    """(seed, its PDF) for every seed, printed into folder."""
    return [
        (s, print_pdf(s.read_text(encoding="utf-8"), folder / f"{s.stem}.pdf", s.stem))
        for s in sorted(SEEDS.glob("*.txt"))
    ]


def pdf_lines_report(pairs: list[tuple[Path, Path]]) -> list[str]:
    out = ["| parser | similarity (no whitespace) | with whitespace | spurious spaces | headings as lines | s |"]
    out.append("|---|---:|---:|---:|---:|---:|")
    for name, extract in _extractors().items():
        bare, kept, spaces, heads, total, seconds = [], [], 0, 0, 0, 0.0
        for seed, pdf in pairs:
            lines = _seed_lines(seed)
            t0 = time.perf_counter()
            text = extract(pdf)
            seconds += time.perf_counter() - t0
            got = [ln.strip() for ln in text.split("\n")]
            got = [ln for ln in got if ln and not _FURNITURE.match(ln)]
            a, b = "".join(lines), "".join(got)
            bare.append(Levenshtein.normalized_similarity(re.sub(r"\s", "", a), re.sub(r"\s", "", b)))
            kept.append(Levenshtein.normalized_similarity(a, b))
            spaces += b.count(" ") - a.count(" ")
            wanted = [ln for ln in lines if heading_level(ln) and len(ln) <= 30]
            heads += sum(ln in set(got) for ln in wanted)
            total += len(wanted)
        out.append(
            f"| {name} | {sum(bare) / len(bare):.4f} (min {min(bare):.4f}) | {sum(kept) / len(kept):.4f} | "
            f"{spaces} | {heads}/{total} | {seconds:.2f} |"
        )
    same = total_paras = 0
    for seed, pdf in pairs:
        a = [(p.text, p.path) for p in load_document(pdf).paragraphs]
        b = [(p.text, p.path) for p in load_document(seed).paragraphs]
        same += sum(x == y for x, y in zip(a, b)) if len(a) == len(b) else 0
        total_paras += len(b)
    out.append(f"rag.pdf (pdfplumber + rag.layout): {same}/{total_paras} paragraphs as parsed from the .txt")
    return out


def ocr_report(pairs: list[tuple[Path, Path]], pages: int) -> list[str]:
    import pdfplumber

    from rag.ocr import RapidRecognizer
    from rag.pdf import OCR_DPI

    ocr = RapidRecognizer()
    out = ["| page | chars | 1 − CER | s |", "|---|---:|---:|---:|"]
    errors = chars = 0
    seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for _, pdf in pairs:
            images = page_images(pdf, Path(tmp), OCR_DPI)[:pages]
            with pdfplumber.open(pdf) as doc:
                truths = [re.sub(r"\s", "", pg.extract_text()) for pg in doc.pages[: len(images)]]
            for number, (image, truth) in enumerate(zip(images, truths), start=1):
                from PIL import Image

                with Image.open(image) as im:
                    t0 = time.perf_counter()
                    lines = ocr.read(im, number)
                    took = time.perf_counter() - t0
                read = re.sub(r"\s", "", "".join(ln.text for ln in lines))
                dist = Levenshtein.distance(truth, read)
                errors, chars, seconds = errors + dist, chars + len(truth), seconds + took
                out.append(f"| {pdf.stem} p{number} | {len(truth)} | {1 - dist / len(truth):.4f} | {took:.1f} |")
    n = len(out) - 2
    out.append(f"all {n} pages: 1 − CER {1 - errors / chars:.4f} over {chars} characters, {seconds / n:.1f} s a page")
    return out


def run(what: str, pages: int = 1) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pairs = printed_seeds(Path(tmp))
        lines = pdf_lines_report(pairs) if what == "pdf" else ocr_report(pairs, pages)
    print("\n".join(lines))
