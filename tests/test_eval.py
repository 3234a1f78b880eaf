"""The evaluation harness: its metric functions on small hand-made cases, and
whole runs (gold set, baseline, CMRC) on the deterministic fakes."""

import json
import shutil
from pathlib import Path

import pytest

from eval import metrics as m
from eval.__main__ import main
from eval.harness import load_gold, run_gold, summarize
from rag import Pipeline, Settings

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- retrieval


def test_recall_at_k_ignores_whitespace():
    quotes = ["地区生产总值增长7%左右", "城镇新增就业12.65万人"]
    texts = ["无关内容", "预期目标是:地区生产总值\n增长 7%左右,固定资产投资", "城镇新增就业12.65万人"]
    assert m.evidence_recall(quotes, texts, 1) == 0.0
    assert m.evidence_recall(quotes, texts, 2) == 0.5
    assert m.evidence_recall(quotes, texts, 10) == 1.0
    assert m.evidence_recall([], texts, 5) == 0.0


def test_first_rank_and_mrr():
    texts = ["甲", "乙丙", "丁"]
    assert m.first_rank(["丙", "丁"], texts) == 2
    assert m.reciprocal_rank(["丙", "丁"], texts) == 0.5
    assert m.reciprocal_rank(["戊"], texts) == 0.0
    assert m.mean([1.0, 0.5, None]) == 0.75


# ---------------------------------------------------------------- answers


def test_must_include_and_correct():
    answer = "2024年目标城镇新增就业12.65万人[1],失业率 5.5%左右[2]。"
    assert m.must_include_recall(["12.65万人", "5.5%左右"], answer) == 1.0
    assert m.must_include_recall(["12.65万人", "6%"], answer) == 0.5
    assert m.fully_correct(["12.65万人"], answer, refused=False)
    assert not m.fully_correct(["12.65万人"], answer, refused=True)


def test_char_f1():
    assert m.char_f1("增长7%左右[1]。", "增长7%左右") == 1.0
    # tokens 增 长 7% vs 增 长 8%: two of three shared
    assert m.char_f1("增长8%", "增长7%") == pytest.approx(2 / 3)
    assert m.char_f1("", "增长") == 0.0
    assert m.tokens("iPhone 6s售价, 5888元") == ["iphone", "6s", "售", "价", "5888", "元"]


# ---------------------------------------------------------------- CMRC


def test_cmrc_em_removes_punctuation_and_case():
    assert m.cmrc_em("《战国无双3》。", ["战国无双3"]) == 1.0
    assert m.cmrc_em("“Nexon”", ["nexon"]) == 1.0
    assert m.cmrc_em("战国无双", ["战国无双3", "无双"]) == 0.0
    assert m.cmrc_em("无双", ["战国无双3", "无双"]) == 1.0


def test_cmrc_f1_mixed_scripts_longest_run():
    # prediction 韩 国 nexon 公 司 vs reference nexon 公 司: run of 3, p=3/5, r=1
    assert m.cmrc_f1("韩国Nexon公司", ["Nexon公司"]) == pytest.approx(2 * 0.6 / 1.6)
    # the overlap must be contiguous: 公 … 司 apart share runs of 1 only
    assert m.cmrc_f1("公X司", ["公司"]) == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))
    # maximum over references; punctuation ignored
    assert m.cmrc_f1("4分钟。", ["四分钟", "4分钟"]) == 1.0
    assert m.cmrc_f1("", ["4分钟"]) == 0.0
    assert m.contains_reference("若中离,则4分钟内不得配对[1]", ["4分钟"])
    assert not m.contains_reference("不得配对", ["4分钟"])


# ---------------------------------------------------------------- citations, faithfulness


def test_citation_recall_and_precision():
    quotes = ["地区生产总值增长7%左右"]
    cited = ["目标是:地区生产总值增长 7%左右,投资增长8%以上", "与问题无关的段落", "城镇新增就业12.65万人"]
    assert m.citation_recall(quotes, cited) == 1.0
    assert m.citation_recall(quotes, cited[1:]) == 0.0
    # first holds the quote, third a must_include string, second neither
    assert m.citation_precision(quotes, ["12.65万人"], cited) == pytest.approx(2 / 3)
    assert m.citation_precision(quotes, [], []) is None


def test_unsupported_numbers_ignore_markers_and_match_whole_numbers():
    answer = "地区生产总值增长7%左右[1],研发投入强度2.8%[2],新增就业13万人[12]。"
    assert m.numbers(answer) == ["7%", "2.8%", "13"]  # [12] is a marker, not a number
    cited = ["地区生产总值增长17%;研发投入强度达到2.8%", "新增就业13万人"]
    assert m.unsupported_numbers(answer, cited) == ["7%"]  # 7% is not 17%
    assert m.unsupported_numbers(answer, [*cited, "增长7%左右"]) == []


def test_percentile():
    assert m.percentile([], 50) is None
    assert m.percentile([3.0], 95) == 3.0
    assert m.percentile([1, 2, 3, 4], 50) == 2.5
    assert m.percentile([4, 1, 3, 2, 5], 95) == pytest.approx(4.8)


def test_suggest_threshold_refuses_most_unanswerable_within_one_in_twenty():
    answerable = [0.3] + [0.8] * 19
    unanswerable = [0.2, 0.4, 0.5]
    s = m.suggest_threshold(answerable, unanswerable)
    # refusing below 0.65 costs one answerable item (0.3) and catches all three
    assert 0.5 < s["threshold"] < 0.8
    assert s["answerable_refused"] == 1 and s["unanswerable_refused"] == 3
    assert s["accuracy"] == pytest.approx(22 / 23)
    # 0.35 catches 0.2 only; 0.8 also catches 0.7, at the cost of the answerable
    # 0.5 (1 in 20 is allowed): catching more unanswerable items wins
    more = m.suggest_threshold([0.5] + [0.9] * 19, [0.2, 0.7])
    assert more["threshold"] == pytest.approx(0.8) and more["unanswerable_refused"] == 2
    assert more["answerable_refused"] == 1 and more["correct"] == 21
    # as many caught either way (0.35 or 0.7): the one refusing no answerable item wins
    tie = m.suggest_threshold([0.5] + [0.9] * 19, [0.2])
    assert tie["threshold"] == pytest.approx(0.35) and tie["answerable_refused"] == 0
    strict = m.suggest_threshold(answerable, unanswerable, max_false_refusals=0.0)
    assert strict["threshold"] < 0.3 and strict["answerable_refused"] == 0


# ---------------------------------------------------------------- whole runs on the fakes


@pytest.fixture
def fake_settings(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "seeds", docs)
    for p in docs.iterdir():
        p.chmod(0o644)
    return Settings(
        embedder="hash", llm="scripted", docs_dir=docs, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache"
    )


@pytest.fixture
def tiny_gold(tmp_path):
    items = load_gold(ROOT / "eval" / "gold.jsonl")
    chosen = [it for it in items if it["type"] != "unanswerable"][:3] + [
        it for it in items if it["type"] == "unanswerable"
    ][:2]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in chosen), encoding="utf-8")
    return path


def _in_unit(value):
    return value is None or 0.0 <= value <= 1.0


def test_gold_run_with_fakes_writes_report(fake_settings, tiny_gold, tmp_path):
    out = tmp_path / "reports"
    _, folder = run_gold(Pipeline(fake_settings), tiny_gold, top_k=5, baseline=True, out=out, progress=False)
    for name in ("report.json", "report.md", "chart.png"):
        assert (folder / name).stat().st_size > 0
    assert (out / "LATEST").read_text().strip() == folder.name
    assert (out / "latest" / "report.md").exists()
    saved = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert set(saved["systems"]) == {"ours", "baseline"}
    for fig in saved["systems"].values():
        assert fig["items"] == 5 and fig["answerable"] == 3
        for section in ("retrieval", "answers", "citations"):
            assert all(_in_unit(v) for v in fig[section].values()), fig[section]
        assert _in_unit(fig["refusals"]["unanswerable_refused"])
        assert 0 <= fig["refusals"]["answerable_refused"] <= 3
        assert 0 <= fig["faithfulness"]["unsupported_numbers"] <= fig["faithfulness"]["numbers"]
        assert fig["latency_s"]["answer"]["p50"] <= fig["latency_s"]["answer"]["p95"]
    assert len(saved["systems"]["ours"]["support"]["answerable"]) == 3
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "| figure | ours | baseline |" in md and "evidence recall@5" in md


def test_retrieval_only_via_command_line(fake_settings, tiny_gold, tmp_path, capsys):
    out = tmp_path / "reports"
    assert (
        main(["--gold", str(tiny_gold), "--retrieval-only", "--sample", "4", "--out", str(out)], settings=fake_settings)
        == 0
    )
    assert "evidence recall@10" in capsys.readouterr().out
    saved = json.loads((out / "latest" / "report.json").read_text(encoding="utf-8"))
    fig = saved["systems"]["ours"]
    assert fig["items"] == 4 and "answers" not in fig
    assert all(_in_unit(v) for v in fig["retrieval"].values())


def test_summarize_counts_refusals():
    records = [
        {
            "type": "fact",
            "recall@1": 1.0,
            "recall@5": 1.0,
            "recall@10": 1.0,
            "rr": 1.0,
            "retrieval_s": 0.1,
            "answer": "x",
            "refused": True,
            "numbers": [],
            "unsupported_numbers": [],
            "must_include_recall": 0.0,
            "correct": False,
            "char_f1": 0.0,
            "citation_recall": 0.0,
            "citation_precision": None,
            "support": 0.2,
            "first_text_s": 0.1,
            "answer_s": 0.2,
        },
        {
            "type": "unanswerable",
            "retrieval_s": 0.3,
            "answer": "y",
            "refused": True,
            "numbers": ["3"],
            "unsupported_numbers": ["3"],
            "support": 0.1,
            "first_text_s": 0.1,
            "answer_s": 0.4,
        },
    ]
    fig = summarize(records)
    assert fig["refusals"] == {"unanswerable_refused": 1.0, "answerable_refused": 1}
    assert fig["faithfulness"]["unsupported_numbers"] == 1
    assert fig["citations"]["precision"] is None


def test_cmrc_run_with_fakes(fake_settings, tmp_path, capsys):
    def article(pid, title, context, question, answer):
        qa = {"id": f"{pid}_Q0", "question": question, "answers": [{"text": answer, "answer_start": 0}]}
        return {"id": pid, "title": title, "paragraphs": [{"id": pid, "context": context, "qas": [qa]}]}

    data = {
        "version": "v1.0",
        "data": [
            article(
                "T_1", "泡泡战士", "泡泡战士由韩国Nexon开发。生命数耗完即算为踢爆。", "生命数耗完即算为什么？", "踢爆"
            ),
            article("T_2", "锣鼓经", "锣鼓经是戏曲锣鼓演奏的记谱方法。", "锣鼓经是什么？", "记谱方法"),
        ],
    }
    path = tmp_path / "cmrc_tiny.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "reports"
    assert main(["cmrc", str(path), "--sample", "2", "--out", str(out)], settings=fake_settings) == 0
    assert "CC BY-SA 4.0" in capsys.readouterr().out
    saved = json.loads((out / "latest" / "report.json").read_text(encoding="utf-8"))
    f = saved["figures"]
    assert f["passages"] == 2 and f["questions"] == 2 and f["sample"] == 2
    assert all(_in_unit(f[k]) for k in ("recall@1", "recall@5", "contains_reference", "em", "f1"))
    assert f["recall@5"] == 1.0  # two documents: the passage is always in the top 5
    assert "CC BY-SA 4.0" in (out / "latest" / "report.md").read_text(encoding="utf-8")
    assert list((tmp_path / "cache" / "cmrc").glob("*/docs/T_1_泡泡战士.txt"))


@pytest.mark.models
def test_retrieval_only_on_the_real_models(tiny_gold, tmp_path):
    report, folder = run_gold(Pipeline(Settings()), tiny_gold, retrieval_only=True, out=tmp_path, progress=False)
    fig = report["systems"]["ours"]
    assert (folder / "report.md").exists()
    assert all(_in_unit(v) for v in fig["retrieval"].values())


# ---------------------------------------------------------------- scale, ablation


def test_scale_figures_on_a_small_corpus(fake_pipeline):
    from eval.scale import run_scale

    lines = []
    f = run_scale(
        fake_pipeline(), 2000, 30, ["郑州市地区生产总值增长多少?", "托儿所"], show=lambda a, b: lines.append(a)
    )
    assert f["flat"]["build_s"] >= 0 and f["hnsw"]["latency_ms"]["p50"] <= f["hnsw"]["latency_ms"]["p95"]
    assert 0.3 <= f["hnsw"]["recall@10"] <= 1.0  # random vectors: HNSW is approximate, but not blind
    assert f["retrieval"]["questions"] == 2 and f["retrieval"]["latency_ms"]["p50"] > 0
    assert len(lines) == 3 and "flat" in lines[-1]  # 2,000 < ann_threshold: the retriever searches flat


def test_scale_measures_a_faiss_ivf_index_against_flat():
    from eval.scale import dense_scale

    figures, indexes = dense_scale(2000, 20, dim=32, faiss_kinds=("ivf",))
    assert set(indexes) == {"flat", "ivf"} and indexes["ivf"].ntotal == 2000
    assert 0.3 <= figures["ivf"]["recall@10"] <= 1.0  # probes 32 of 179 lists: approximate, not blind


def test_scale_command_prints_faiss_and_milvus_lite_side_by_side(fake_pipeline, tiny_gold, capsys):
    settings = fake_pipeline().settings
    assert main(["--gold", str(tiny_gold), "scale", "--chunks", "2000", "--queries", "20"], settings=settings) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [r[0] for r in rows[1:]] == [
        "| FAISS flat (exact)",
        "| FAISS HNSW (M 32, efSearch 128)",
        "| Milvus Lite FLAT",
        "| Milvus Lite IVF_FLAT (nlist 179, nprobe 32)",
    ]
    assert rows[3][-1] == "1.000 |"  # Milvus's exact search finds FAISS's exact top 10
    assert 0.3 <= float(rows[4][-1].rstrip(" |")) < 1.0  # IVF probes 32 of 179 lists: approximate
    assert main(["scale", "--chunks", "2000", "--milvus", "HNSW"], settings=settings) == 2
    assert "not one of FLAT, IVF_FLAT" in capsys.readouterr().err


def test_ablation_steps_with_fakes(tiny_gold, tmp_path, capsys):
    from eval.ablation import STEPS, step_settings

    from .conftest import fake_settings

    defaults = Settings()
    assert defaults.rerank == "local" and defaults.lexical_weight == 2 * defaults.dense_weight  # the last step's label
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "seeds", docs)
    s = fake_settings(docs, tmp_path / "index", cache_dir=tmp_path / "cache")
    assert step_settings(s, STEPS[0][1]).index_dir != s.index_dir  # no structure: its own index
    out = tmp_path / "reports"
    assert main(["--gold", str(tiny_gold), "ablation", "--out", str(out)], settings=s) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name, _ in STEPS)
    saved = json.loads((out / "latest" / "report.json").read_text(encoding="utf-8"))
    assert [step["step"] for step in saved["steps"]] == [name for name, _ in STEPS]
    assert all(_in_unit(v) for step in saved["steps"] for v in step["retrieval"].values())
    assert "| step | R@1 | R@5 | R@10 | MRR |" in (out / "latest" / "report.md").read_text(encoding="utf-8")
    assert len(list((tmp_path / "cache" / "ablation").glob("*/build-*"))) == 1


# ---------------------------------------------------------------- bench


def test_bench_prints_every_figure_with_fakes(fake_settings, tiny_gold, capsys):
    from eval.bench import run_bench

    f = run_bench(fake_settings, questions=3, cmrc_path=None, gold=tiny_gold, scale=0)
    printed = capsys.readouterr().out
    for label in ("index build, ours / naive", "cold start to first answer", "model step, first token", "peak memory"):
        assert label in printed
    build = f["build_seeds"]
    assert build["repeats"] == 3 and build["wall_ratio"] == build["wall_ours_s"] / build["wall_naive_s"] > 0
    # the cold-start process ran with these settings (the fakes), not the defaults
    assert 0 < f["cold_start_s"] <= f["cold_start_model_s"] < 60
    assert len(f["answer"]) == 3 and f["tokens_per_s"] >= 0 and f["peak_rss_mib"] > 0


def test_build_command_prints_the_paired_ratio(fake_settings, capsys):
    from eval.__main__ import main

    assert main(["build", "--repeats", "2"], fake_settings) == 0
    printed = capsys.readouterr().out
    assert "(median of 2)" in printed and "index build, ours / naive" in printed


def test_bench_backend_settings_keep_others_unchanged():
    from eval.bench import backend_settings

    with backend_settings(Settings(), None) as s:
        assert s == Settings()
    with backend_settings(Settings(), "openai", "http://10.0.0.1:8080/v1") as s:
        assert (s.llm_backend, s.openai_base_url) == ("openai", "http://10.0.0.1:8080/v1")
    with backend_settings(Settings(llm_threads=1), "transformers") as s:
        assert s == Settings(llm_threads=1, llm_backend="transformers")


def test_calibrate_pools_sets_and_prints_both_distributions(fake_settings, tiny_gold, capsys):
    from eval.calibrate import calibration_lines, supports

    answerable, unanswerable = supports(Pipeline(fake_settings), [tiny_gold, tiny_gold])
    assert len(answerable) == 6 and len(unanswerable) == 4
    assert all(0.0 <= s <= 1.0 for s in answerable + unanswerable)
    assert main(["calibrate", str(tiny_gold)], settings=fake_settings) == 0
    out = capsys.readouterr().out
    assert "| p50 |" in out and "current refuse_below" in out and "1 in 10" in out
    lines = calibration_lines([0.9, 0.8, 0.7, 0.6] * 5, [0.1, 0.2, 0.65], 0.5)
    assert any("1 in 20" in line and "refuses 0 answerable, 2 unanswerable" in line for line in lines)


def test_embed_api_compare_figures_with_two_fakes():
    from eval.embed_api import compare, lines
    from rag.embeddings import HashingEmbedder

    passages = ["泡泡战士由韩国Nexon开发", "锣鼓经是戏曲锣鼓演奏的记谱方法", "郑州市地区生产总值增长7%"]
    questions = ["锣鼓经是什么", "泡泡战士是谁开发的", "郑州生产总值增长多少"]
    same = compare(HashingEmbedder(64), HashingEmbedder(64), passages, questions, [1, 0, 2])
    assert same["top1_agreement"] == 1.0 and same["max_score_difference"] == 0.0
    assert same["row_cosine_min"] == pytest.approx(1.0)
    assert same["recall@1"] == {"in-process": 1.0, "server": 1.0}
    apart = compare(HashingEmbedder(64), HashingEmbedder(64), passages, questions, [0, 1, 2])
    assert apart["recall@1"]["server"] == pytest.approx(1 / 3)
    printed = "\n".join(lines(same, 3, 3, "fake"))
    assert "top-1 agreement 1.000" in printed and "recall@1 1.000" in printed
