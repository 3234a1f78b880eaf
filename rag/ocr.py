"""Text from images of pages: scanned PDF pages and .png/.jpg files.

`Recognizer` is the engine protocol: a page image in, its text lines with
their boxes out (rag/layout.py rebuilds the paragraphs). `RapidRecognizer` runs
rapidocr on onnxruntime with the Chinese PP-OCR detection and recognition
models inside its wheel (nothing is downloaded); it loads them on the first
page it reads, once. `ScriptedRecognizer` is the deterministic fake: it
returns the lines it was given, so the code around OCR is tested without the
model.

Deliberately not done here: deciding which pages need OCR (rag/pdf.py) and
whether OCR is on (`Settings.ocr`).
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Protocol

from .layout import Line

# Boxes whose vertical centres are within this share of a line's height are
# one visual line (the detector splits a line at wide gaps).
_SAME_LINE = 0.5


class Recognizer(Protocol):
    def read(self, image, page: int) -> list[Line]:
        """The text lines of one page image (a PIL image), top to bottom."""
        ...


def visual_lines(boxes: list[tuple[str, float, float, float, float]], page: int) -> list[Line]:
    """Detected boxes (text, x0, x1, top, bottom) as lines in reading order:
    boxes side by side on one line are joined left to right."""
    lines: list[list[tuple[str, float, float, float, float]]] = []
    for box in sorted(boxes, key=lambda b: (b[3] + b[4]) / 2):
        mid, height = (box[3] + box[4]) / 2, box[4] - box[3]
        if lines:
            last = lines[-1][-1]
            if abs(mid - (last[3] + last[4]) / 2) <= _SAME_LINE * max(height, last[4] - last[3]):
                lines[-1].append(box)
                continue
        lines.append([box])
    out = []
    for parts in lines:
        parts.sort(key=lambda b: b[1])
        out.append(
            Line(
                "".join(p[0] for p in parts),
                parts[0][1],
                parts[-1][2],
                min(p[3] for p in parts),
                max(p[4] for p in parts),
                page,
            )
        )
    return out


class RapidRecognizer:
    """rapidocr with its bundled PP-OCR models; thread-safe, loaded once."""

    def __init__(self) -> None:
        self._engine = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._engine is None:
                from rapidocr import RapidOCR

                logging.getLogger("RapidOCR").setLevel(logging.WARNING)  # it logs every model path at INFO
                self._engine = RapidOCR()
        return self._engine

    def read(self, image, page: int) -> list[Line]:
        import dataclasses

        import numpy as np

        engine = self._load()
        # Pages are upright: the angle classifier would only cost time.
        result = engine(np.asarray(image.convert("RGB")), use_cls=False)
        if result.boxes is None:
            return []
        boxes = []
        for quad, text in zip(result.boxes, result.txts):
            xs, ys = [float(x) for x, _ in quad], [float(y) for _, y in quad]
            boxes.append((text, min(xs), max(xs), min(ys), max(ys)))
        return [dataclasses.replace(ln, width=float(image.width)) for ln in visual_lines(boxes, page)]


class ScriptedRecognizer:
    """The fake: page n reads as the n-th list of lines given, whatever the image."""

    def __init__(self, pages: list[list[Line]]) -> None:
        self.pages = pages
        self.calls = 0

    def read(self, image, page: int) -> list[Line]:
        self.calls += 1
        return [Line(ln.text, ln.x0, ln.x1, ln.top, ln.bottom, page) for ln in self.pages[page - 1]]


@functools.cache
def default_recognizer() -> RapidRecognizer:
    """The one rapidocr engine of this process (its models take a second to load)."""
    return RapidRecognizer()
