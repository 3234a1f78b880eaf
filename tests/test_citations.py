import pytest

from rag.citations import claims, markers, split_sentences, strip_markers, supports, unsupported_claims

PARA = "2024年的经济社会发展主要预期目标是:地区生产总值增长7%左右,固定资产投资增长8%以上,全社会研发投入强度达到2.8%。"


def test_split_sentences_keeps_punctuation():
    assert split_sentences("第一句。第二句；第三句!\n第四句") == ["第一句。", "第二句；", "第三句!", "第四句"]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("地区生产总值增长7%左右[1]", ["7%"]),
        ("研发投入强度达到2.8%。", ["2.8%"]),
        ("制定了《郑州市碳达峰实施方案》", ["《郑州市碳达峰实施方案》"]),
        ("由市发展改革委牵头", ["市发展改革委"]),
        ("2023年7月20日答复", ["2023", "7", "20"]),
        ("按照新开〔2020〕26号,2021年完成", ["〔2020〕26号", "2021"]),
    ],
)
def test_claims(sentence, expected):
    assert claims(sentence) == expected


def test_numbers_match_whole_numbers_only():
    assert supports("地区生产总值增长7%左右。", PARA)
    assert not supports("地区生产总值增长17%左右。", PARA)
    assert not supports("研发投入强度达到2.9%。", PARA)
    assert unsupported_claims("增长7%和10%", PARA) == ["10%"]
    assert not supports("研发投入强度达到2%。", PARA)  # 2 only occurs inside 2.8 and 2024


def test_document_number_is_one_claim():
    paragraph = "按照《方案》(新开〔2020〕26号)要求,全面落实河长制。"
    assert supports("按照新开〔2020〕26号要求落实。", paragraph)
    assert not supports("2020年全面落实河长制。", paragraph)  # its year is not a date
    assert not supports("落实26项任务。", paragraph)


def test_sentence_without_claims_needs_shared_wording():
    assert supports("固定资产投资增长。", PARA)
    assert not supports("郑州将建设世界一流大学。", PARA)


def test_markers():
    assert markers("句子[1][3]。") == [1, 3]
    assert strip_markers("句子[12]。") == "句子。"
