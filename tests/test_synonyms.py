from rag.synonyms import Synonyms, contrasted

CORPUS = "托育服务 托位 地区生产总值 一般公共预算收入"


def test_everyday_words_expand_to_the_corpus_terms_only():
    s = Synonyms(CORPUS, year=2024)
    assert s.terms("郑州托儿所多少钱")["托儿所"] == ("托育", "托位")
    assert s.expand("去年GDP多少") == "去年GDP多少 地区生产总值 2023年"
    assert "早教" not in Synonyms("没有相关词").table  # 托育 is not in that corpus


def test_relative_years_are_dated_by_the_documents_year():
    s = Synonyms(CORPUS, year=2024)
    assert s.dated("去年多少?今年目标多少?明年呢") == "2023年多少?2024年目标多少?2025年呢"
    assert Synonyms(CORPUS).dated("去年多少") == "去年多少"  # no year known: left alone


def test_contrasts_name_the_side_not_asked():
    assert ("支出", "收入") in contrasted("一般公共预算支出多少")
    assert contrasted("收入和支出各多少") == []
    assert ("国家级", "省级") in contrasted("要新增几个国家级工业互联网平台?")
    assert contrasted("进口多少") == [("进口", "出口")]
