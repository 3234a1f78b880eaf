import pytest

from .conftest import GDP

# (question, document, a string the right paragraph holds)
TEN = [
    ("2024年郑州市地区生产总值预期增长多少?", GDP, "地区生产总值增长7%左右"),
    ("郑州碳达峰方案体系“1+11+7”是什么?", "000_d5ab6db1b6f64c5e.txt", "1+11+7"),
    ("郑州市碳达峰碳中和工作领导小组由谁担任组长?", "000_d5ab6db1b6f64c5e.txt", "双组长"),
    ("郑州淘汰了多少家独立铝用碳素企业?", "001_eb7bb886356183f4.txt", "18家企业"),
    ("郑州建成了多少个5G基站?", "001_eb7bb886356183f4.txt", "5G基站超过4.8万个"),
    ("2023年郑州服务业增加值是多少?", "002_ab73ab1b96b1d70f.txt", "服务业增加值8072.2亿元"),
    ("新乡高新区植树造林怎么安排的?", "003_747546d740942ae9.txt", "持续推进植树造林和绿化建设"),
    ("新乡高新区黄河流域工作的基本思路是什么?", "003_747546d740942ae9.txt", "重在保护、要在治理"),
    ("2023年郑州规模以上工业增加值增长多少?", GDP, "规模以上工业增加值增长12.8%"),
    ("郑州2024年粮食播种面积要稳定在多少?", GDP, "粮食播种面积"),
]


@pytest.mark.models
@pytest.mark.parametrize(("question", "doc", "needle"), TEN)
def test_real_embedder_finds_the_paragraph(real_pipeline, question, doc, needle):
    hits = real_pipeline.retrieve(question, top_k=5)
    assert any(
        h.doc == doc and needle in real_pipeline.index.paragraph(h.doc, n).text for h in hits for n in h.paragraphs
    ), [h.text[:40] for h in hits]


def test_hits_are_ranked_and_filtered_by_document(fake_pipeline):
    pipe = fake_pipeline()
    hits = pipe.retrieve("新乡高新区植树造林", top_k=8)
    assert len(hits) == 8
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    only = pipe.retrieve("新乡高新区植树造林", top_k=3, doc=GDP)
    assert only and all(h.doc == GDP for h in only)


def test_lexical_match_on_numbers(fake_pipeline):
    hits = fake_pipeline().retrieve("13617.8亿元", top_k=3)
    assert "13617.8" in hits[0].text


def test_an_items_label_counts_in_reranking(fake_pipeline):
    # 碧水工程 is named only by the label of the item (二是持续推进碧水工程。) whose
    # sentence names the rivers.
    pipe = fake_pipeline()
    hits = pipe.retrieve("新乡高新区碧水工程要管护哪几条河?", top_k=5)
    assert any("赵定河" in h.text for h in hits)


def test_a_dominant_lexical_match_is_kept_where_the_dense_ranking_misses_it(fake_pipeline):
    # 依托千味央厨、三全食品、锅圈食汇等骨干企业,抢占预制菜新赛道: BM25 scores its chunk
    # three times the next, but e5 ranks it 68th, outside the pool fused.
    pipe = fake_pipeline()
    index = pipe.index
    target = len(index.chunks) - 1
    others = [i for i in range(len(index.chunks)) if i != target]
    dense, lexical = index.search.dense, index.search.lexical
    index.search.dense = lambda q, k, doc=None: {i: 0.9 - 0.001 * n for n, i in enumerate(others[:k])}
    index.search.lexical = lambda question, k, doc=None: {target: 30.0} | {i: 10.0 for i in others[:8]}
    try:
        assert target in [index.chunks.index(h.chunk) for h in pipe.retrieve("抢占预制菜新赛道", top_k=5)]
        # one not standing out (under twice the next) is left to the fusion
        index.search.lexical = lambda question, k, doc=None: {target: 12.0} | {i: 11.0 for i in others[:8]}
        assert target not in [index.chunks.index(h.chunk) for h in pipe.retrieve("抢占预制菜新赛道", top_k=5)]
    finally:
        index.search.dense, index.search.lexical = dense, lexical
