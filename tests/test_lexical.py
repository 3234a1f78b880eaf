from rag.lexical import coverage, question_weights, tokenize
from rag.synonyms import Synonyms


def words(question: str) -> list[str]:
    return [alts[0] for alts, _ in question_weights(question)]


def test_the_asked_action_loses_its_modal():
    # jieba keeps 能放 / 会涨 whole; no document says 能放, many say 发放.
    assert "放" in words("想创业的话,郑州今年能放多少创业贷款?")
    assert "涨" in words("郑州地铁票价今年会涨吗?")
    assert not {"能放", "会涨", "的话", "想"} & set(words("想创业的话,郑州今年能放多少创业贷款?会涨吗?"))


def test_a_placeholder_for_the_answer_is_no_word_to_cover():
    # no sentence says XX: the answer names 钻石之城 in its place
    assert words("郑州要打造哪些“XX之城”?") == ["郑州", "打造", "之城"]
    assert "某某" not in words("某某工程有哪些?")


def test_dictionary_words_keep_their_first_character():
    assert {"能源", "要求"} <= set(words("郑州能源消费有什么要求?"))


def test_everyday_words_are_covered_by_official_terms():
    weights = question_weights("郑州地铁通车里程多少", Synonyms("轨道交通 通车里程"))
    assert ("地铁", "轨道交通") in [alts for alts, _ in weights]
    assert coverage(weights, "新增轨道交通通车里程106.9公里") > coverage(weights, "新增通车里程106.9公里")
    assert coverage(weights, "无关的句子") == 0.0


def test_an_everyday_word_in_capitals_is_one_word_its_official_term_covers():
    weights = question_weights("2023年郑州GDP总量是多少?", Synonyms("地区生产总值"))
    assert [alts for alts, _ in weights if "gdp" in alts] == [("gdp", "地区生产总值")]
    assert coverage(weights, "2023年郑州市地区生产总值13617.8亿元,总量") == 1.0


def test_numbers_are_tokens_of_their_own():
    assert {"2024", "7%"} <= set(tokenize("2024年地区生产总值增长7%左右"))


LEXICAL_FILES = """
import sys, hashlib, tempfile, pathlib
from rag.lexical import LexicalIndex
folder = pathlib.Path(tempfile.mkdtemp())
texts = ["郑州地铁建设加快推进", "新乡高新区主导产业", "郑州都市圈一体化发展", "2024年增长7%左右"]
LexicalIndex.build(texts).save(folder)
print(sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in folder.iterdir()))
"""


def test_the_same_texts_give_the_same_lexical_files_whatever_the_hash_seed():
    """A fresh clone's build equals any other's, byte for byte: the vocabulary
    is numbered in the order words first occur, not in a set's hash order."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    files = [
        subprocess.run(
            [sys.executable, "-c", LEXICAL_FILES],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=os.environ | {"PYTHONHASHSEED": seed},
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    ]
    assert files[0] and files[0] == files[1] == files[2]
