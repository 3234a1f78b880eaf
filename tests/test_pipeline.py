"""The `ask()` contract end to end, and the command line."""

import re
import subprocess
import sys

import pytest

from rag import Answer, Settings, ask, retrieve

from .conftest import GDP, ROOT

Q = "2024年郑州市地区生产总值预期增长多少?"


@pytest.mark.models
def test_ask_with_the_bundled_models():
    answer = ask(Q, top_k=5)
    assert isinstance(answer, Answer) and not answer.refused
    assert "7%左右" in answer.text and "[1]" in answer.text
    assert any(c.doc == GDP and c.paragraph == 10 for c in answer.citations)
    for c in answer.citations:
        assert c.text in (ROOT / "seeds" / c.doc).read_text(encoding="utf-8")
    assert next(h.doc for h in retrieve(Q, top_k=3)) == GDP


@pytest.mark.models
def test_off_topic_question_is_refused(real_pipeline):
    for q in ["今天郑州天气怎么样?", "洛阳市2024年地区生产总值是多少?"]:
        answer = real_pipeline.ask(q)
        assert answer.refused, (q, answer.text)
        assert "没有相关信息" in answer.text and not answer.citations


@pytest.mark.models
def test_follow_up_with_real_models(real_pipeline):
    first = real_pipeline.ask("2024年郑州市固定资产投资预期增长多少?")
    assert "8%以上" in first.text
    follow = real_pipeline.ask("那地区生产总值呢?", history=["2024年郑州市固定资产投资预期增长多少?"])
    assert "2024" in follow.resolved_question and "7%左右" in follow.text


def ask_with_the_model(pipe, monkeypatch, question: str) -> Answer:
    """`pipe.ask` (with compose="model"), checking that the model was asked:
    it is offered every evidence sentence after the lead."""
    calls = []
    stream = pipe.llm.stream
    monkeypatch.setattr(pipe.llm, "stream", lambda *a, **kw: calls.append(a) or stream(*a, **kw))
    answer = pipe.ask(question)
    assert calls, "the model was not asked"
    return answer


def assert_numbers_cited(answer: Answer):
    for sentence in answer.text.split("]"):
        for number in re.findall(r"\d+(?:\.\d+)?%?", re.sub(r"\[\d+$", "", sentence)):
            assert any(number in c.text for c in answer.citations), (number, answer.text)


@pytest.mark.models
def test_bundled_model_adds_only_checked_sentences(real_pipeline, monkeypatch, all_offered):
    from rag import Pipeline

    r = real_pipeline
    pipe = Pipeline(Settings(compose="model"), embedder=r.embedder, llm=r.llm, index=r.index)
    answer = ask_with_the_model(pipe, monkeypatch, "郑州今年旅游人数和收入目标是多少?")
    assert not answer.refused and "1.7亿人次" in answer.text
    assert_numbers_cited(answer)


@pytest.mark.models
def test_transformers_backend_answers_faithfully(tmp_path, monkeypatch, all_offered):
    """The GGUF through transformers (dequantised once, cached): same guarantees."""
    from rag import Pipeline

    pipe = Pipeline(Settings(llm_backend="transformers", cache_dir=tmp_path / "cache", compose="model"))
    answer = ask_with_the_model(pipe, monkeypatch, Q)
    assert "7%左右" in answer.text and answer.citations[0].paragraph == 10
    assert_numbers_cited(answer)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_rejects_blank_question():
    result = run_cli("ask", "   ")
    assert result.returncode == 2 and "问题为空" in result.stderr


def test_cli_rejects_huge_question():
    result = run_cli("ask", "问" * 2001)
    assert result.returncode == 2 and "过长" in result.stderr


@pytest.mark.models
def test_cli_answers_with_citation():
    result = run_cli("ask", Q)
    assert result.returncode == 0, result.stderr
    assert "7%左右" in result.stdout and GDP in result.stdout and "第10段" in result.stdout


def test_the_cost_of_one_request_is_bounded(fake_pipeline):
    pipe = fake_pipeline()
    # A history turn too long to have been asked is ignored, not carried into the question.
    answer = pipe.ask("那固定资产投资呢?", history=["郑州GDP" * 20000])
    assert answer.resolved_question == "那固定资产投资呢?"
    with pytest.raises(ValueError, match="具体"):
        pipe.ask("那2023年呢?", history=["郑州GDP" * 20000])  # nothing left to ask about
    answer = pipe.ask("那2023年呢?", history=["\udcff2024年郑州市地区生产总值预期增长多少?\x00"])
    assert answer.resolved_question == "2023年郑州市地区生产总值预期增长多少?"
    # One retrieval per part, at most max_question_parts of them.
    calls = []
    retrieve = pipe._retrieve_parts
    pipe._retrieve_parts = lambda i, q, k, d: calls.append(q) or retrieve(i, q, k, d)
    pipe.ask("郑州GDP?" * 300)
    from rag.question import question_parts

    assert len(question_parts(calls[0], pipe.settings.max_question_parts)) == 4


@pytest.mark.parametrize("top_k", ["5", -1, 0, 51, True, 2.5])
def test_a_bad_top_k_is_a_clear_error(fake_pipeline, top_k):
    with pytest.raises(ValueError, match="top_k"):
        fake_pipeline().ask(Q, top_k=top_k)
    with pytest.raises(ValueError, match="top_k"):
        fake_pipeline().retrieve(Q, top_k=top_k)


def test_a_question_asking_nothing_gets_a_hint(fake_pipeline):
    for question in ["郑", "郑州", "2024", "？？？"]:
        with pytest.raises(ValueError, match="具体"):
            fake_pipeline().ask(question)


def test_an_english_question_the_model_cannot_put_into_chinese_is_told_to_ask_in_chinese(fake_pipeline):
    answer = fake_pipeline().ask("How many new urban jobs does Zhengzhou plan to create in 2024?")
    assert answer.refused and "中文" in answer.text and not answer.citations


def test_traditional_full_width_and_markup_are_answered_as_plain(fake_pipeline):
    pipe = fake_pipeline()
    plain = pipe.ask(Q)
    for typed in ["２０２４年鄭州市地區生產總值預期增長多少?", "<b>2024年郑州市地区生产总值</b>预期增长多少?[1]"]:
        answer = pipe.ask(typed)
        assert (answer.text, answer.citations) == (plain.text, plain.citations), typed
        assert answer.question == typed  # as asked; resolved_question is what was looked up


def test_the_systems_own_messages_state_no_figure():
    # Every number an answer shows must be in a cited paragraph, and these cite none.
    from rag.answering import PART_UNANSWERED, REFUSAL
    from rag.pipeline import HINT, ONLY_CHINESE

    for message in (HINT, ONLY_CHINESE, REFUSAL, PART_UNANSWERED):
        assert not re.search(r"\d", message), message


@pytest.mark.parametrize("doc", ["", "nope.txt"])
def test_an_unknown_document_is_a_clear_error(fake_pipeline, doc):
    with pytest.raises(ValueError, match="可选的文件"):
        fake_pipeline().ask(Q, doc=doc)


def test_a_question_in_flight_finishes_on_the_index_it_began_with(fake_pipeline, tmp_path):
    from rag.embeddings import HashingEmbedder
    from rag.index import build

    from .conftest import fake_settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "park.txt").write_text("一、口袋公园\n郑州市今年新增口袋公园37个。", encoding="utf-8")
    other = build(fake_settings(docs, tmp_path / "idx"), HashingEmbedder(), progress=False)
    pipe = fake_pipeline()
    stream = pipe.ask_stream(Q)
    first = next(stream)  # the answer has begun
    pipe.swap_index(other)
    *_, answer = [first, *stream]
    assert any(c.doc == GDP for c in answer.citations)
    assert {c.doc for c in pipe.ask("郑州市今年新增口袋公园多少个?").citations} == {"park.txt"}
