import pytest

from rag.llms import ScriptedLLM
from rag.pipeline import ONLY_CHINESE
from rag.translation import to_chinese

EN = "What is Zhengzhou's GDP growth target for 2024?"
ZH = "2024年郑州市地区生产总值预期增长多少?"


def test_the_first_line_the_model_writes_is_the_question():
    llm = ScriptedLLM(f" {ZH}\nEnglish: How many…\n中文: 多少?")
    assert to_chinese(EN, llm, limit=200) == ZH
    assert EN in llm.prompts[0] and llm.prompts[0].endswith("中文:")


@pytest.mark.parametrize("written", ["", "GDP growth target?", "GDP?\n2024年郑州GDP", "郑" * 201])
def test_no_chinese_question_on_the_first_line_is_no_translation(written):
    assert to_chinese(EN, ScriptedLLM(written), limit=200) is None


def test_a_failing_model_is_no_translation():
    assert to_chinese(EN, ScriptedLLM(ZH, fail_after=0), limit=200) is None


def test_an_english_question_is_answered_as_its_translation(fake_pipeline):
    pipe = fake_pipeline(lambda prompt, choices: "".join(choices[:1]) if choices else ZH)
    chinese = pipe.ask(ZH)
    answer = pipe.ask(EN)
    assert not answer.refused and (answer.text, answer.citations) == (chinese.text, chinese.citations)
    assert answer.question == EN and answer.translated == ZH and not chinese.translated


def test_translation_off_asks_for_chinese_without_calling_the_model(fake_pipeline):
    llm = ScriptedLLM(ZH)
    pipe = fake_pipeline(translate=False)
    pipe._llm = llm
    answer = pipe.ask(EN)
    assert answer.refused and answer.text == ONLY_CHINESE and not llm.prompts


def test_a_translation_asking_nothing_asks_for_chinese(fake_pipeline):
    answer = fake_pipeline("郑州").ask(EN)
    assert answer.refused and answer.text == ONLY_CHINESE and not answer.translated
