from rag.chunks import chunk_document
from rag.documents import load_document
from rag.sources import read_text

from .conftest import SEEDS


def all_docs():
    return [load_document(p) for p in sorted(SEEDS.glob("*.txt"))]


def test_no_chunk_crosses_a_top_level_section():
    for d in all_docs():
        for c in chunk_document(d, 300, 40):
            tops = {d.paragraph(n).path[:1] for n in c.paragraphs if not d.paragraph(n).is_heading}
            assert len(tops) <= 1, c.id


def test_every_paragraph_is_covered_and_order_kept():
    for d in all_docs():
        chunks = chunk_document(d, 300, 40)
        covered = [n for c in chunks for n in c.paragraphs]
        assert set(covered) == {p.number for p in d.paragraphs}
        assert covered == sorted(covered)


def test_shown_text_is_verbatim_and_pieces_bounded():
    for path in sorted(SEEDS.glob("*.txt")):
        raw = read_text(path)
        d = load_document(path)
        for c in chunk_document(d, 300, 40):
            for line in c.text.split("\n"):
                assert line in raw
            assert len(c.text) <= 300 + 80  # a heading line may lead a full piece


def test_chunk_carries_title_and_heading_path():
    d = load_document(next(SEEDS.glob("003_*.txt")))
    c = next(c for c in chunk_document(d) if "植树造林" in c.text)
    assert c.doc == d.id and c.title == d.title
    assert c.section.startswith("三、重点工作 > (一)加强生态保护修复")
    assert c.embed_text.startswith(d.title) and c.section in c.embed_text
    assert c.text in c.embed_text


def test_long_paragraph_split_on_sentence_ends():
    d = load_document(next(SEEDS.glob("004_*.txt")))
    longest = max(d.paragraphs, key=lambda p: len(p.text))
    assert len(longest.text) > 600
    pieces = [c for c in chunk_document(d, 300, 40) if c.paragraphs[-1] == longest.number]
    assert len(pieces) >= 2
    assert all(p.text.rstrip()[-1] in "。；！？,，、" or p is pieces[-1] for p in pieces)


def test_structure_off_leaves_title_and_headings_out():
    d = load_document(next(SEEDS.glob("003_*.txt")))
    on, off = chunk_document(d), chunk_document(d, structure=False)
    assert [c.text for c in off] == [c.text for c in on]
    assert all(c.embed_text == c.text for c in off)
    c = next(c for c in off if "植树造林" in c.text)
    assert d.title not in c.embed_text and "重点工作" not in c.embed_text
