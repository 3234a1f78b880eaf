"""Split `Document`s into section-aware `Chunk`s for retrieval.

Rules, in order of priority:
- a chunk never crosses a section: it holds paragraphs of one heading path (a
  heading line joins the paragraph that follows it);
- consecutive short paragraphs of one section are packed up to `chunk_size`;
- a paragraph longer than `chunk_size` is split on Chinese sentence ends
  (。；！？ before ，) with langchain-text-splitters, so every piece still
  belongs to exactly one paragraph.

A chunk keeps two texts: `text`, the original wording shown to people, and
`embed_text`, which prefixes the document title and heading path so that a
question naming a document's subject or section finds it (`structure=False`
leaves them out, only to measure what they are worth).

Deliberately not done here: embedding or any model work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .documents import Document, Paragraph

# Sentence ends first, then clause breaks, then anything: a split falls at the
# strongest boundary that keeps pieces under the size limit.
SEPARATORS = ["\n", "。", "；", "！", "？", "!", "?", ";", "，", ",", "、", ""]


@dataclass(frozen=True)
class Chunk:
    id: str  # "<doc id>#<n>", n counting from 0 within the document
    doc: str  # source file name
    title: str
    section: str  # heading path, "一、… > （二）… > 1.…"
    paragraphs: tuple[int, ...]  # 1-based paragraph numbers covered
    text: str  # original wording (a piece of a paragraph when one was split)
    embed_text: str  # what the embedder and the lexical index see


def _splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        strip_whitespace=True,
    )


def _groups(doc: Document, chunk_size: int) -> Iterable[list[Paragraph]]:
    """Runs of paragraphs of one section, each short enough to be one chunk
    (or a single long paragraph, split later)."""
    group: list[Paragraph] = []
    for p in doc.paragraphs:
        size = sum(len(q.text) for q in group)
        heading_only = bool(group) and all(q.is_heading for q in group)
        same_section = bool(group) and group[-1].path == p.path
        # A heading line always joins what follows it, even a deeper subsection.
        if group and not heading_only and (not same_section or size + len(p.text) > chunk_size):
            yield group
            group = []
        elif heading_only and group[0].path[:1] != p.path[:1]:
            yield group  # a top-level heading with nothing under it stays alone
            group = []
        group.append(p)
    if group:
        yield group


def chunk_document(
    doc: Document, chunk_size: int = 300, chunk_overlap: int = 40, structure: bool = True
) -> list[Chunk]:
    splitter = _splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []

    def add(paragraphs: list[Paragraph], text: str) -> None:
        section = paragraphs[-1].section
        head = doc.title + (f" | {section}" if section else "")
        chunks.append(
            Chunk(
                id=f"{doc.id}#{len(chunks)}",
                doc=doc.id,
                title=doc.title,
                section=section,
                paragraphs=tuple(p.number for p in paragraphs),
                text=text,
                embed_text=f"{head}\n{text}" if structure else text,
            )
        )

    for group in _groups(doc, chunk_size):
        text = "\n".join(p.text for p in group)
        if len(text) <= chunk_size:
            add(group, text)
            continue
        # Too long: split each paragraph on its own so no piece spans two of them;
        # a leading heading line travels with the first piece of the next paragraph.
        pending: list[Paragraph] = []
        for p in group:
            if p.is_heading:
                pending.append(p)
                continue
            for i, piece in enumerate(splitter.split_text(p.text)):
                lead = pending if i == 0 else []
                add([*lead, p], "\n".join([*(q.text for q in lead), piece]))
            pending = []
        if pending:
            add(pending, "\n".join(q.text for q in pending))
    return chunks


def chunk_documents(
    docs: Iterable[Document], chunk_size: int = 300, chunk_overlap: int = 40, structure: bool = True
) -> list[Chunk]:
    return [c for d in docs for c in chunk_document(d, chunk_size, chunk_overlap, structure)]
