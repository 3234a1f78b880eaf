"""The chat page's handlers, called directly on a pipeline of fakes (hashing
embedder, scripted LLM): no browser, no model; runs in seconds."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import pytest

import app
import chat_view
from rag import REFUSAL, Pipeline, Settings
from rag.llms import ScriptedLLM, first_choices

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
GDP_DOC = "004_7c7b9bfef2df6a5e.txt"
EVIL_DOC = "zz_evil.txt"
Q = "2024年郑州市地区生产总值预期增长多少?"
XSS = "<img src=x onerror=alert(1)>郑州地铁"
# A document whose title and text carry markup: the page must show it as text.
EVIL_TEXT = (
    "关于<script>alert('doc')</script>测试标记的通知\n"
    "一、总体要求\n"
    "2024年全区<b>绿化</b>面积增长<img src=x onerror=alert(2)>百分之五。其余内容照常。\n"
)


@pytest.fixture(scope="module")
def docs_and_index(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("app")
    docs = base / "docs"
    docs.mkdir()
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, docs / f.name)
    (docs / EVIL_DOC).write_text(EVIL_TEXT, encoding="utf-8")
    settings = Settings(embedder="hash", llm="scripted", docs_dir=docs, index_dir=base / "index", refuse_below=0.3)
    Pipeline(settings).index  # noqa: B018 - builds the index once for the module
    return docs, base / "index"


class RecordingPipeline(Pipeline):
    """A fake pipeline that remembers what the page asked it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[dict] = []

    def ask_stream(self, question, top_k=None, history=None, doc=None):
        self.calls.append({"question": question, "top_k": top_k, "history": list(history or []), "doc": doc})
        return super().ask_stream(question, top_k, history, doc)


@pytest.fixture
def make_pipe(docs_and_index):
    docs, index_dir = docs_and_index

    def make(script=None, **llm_kwargs) -> RecordingPipeline:
        # A test that scripts the model is about what the model says: it is asked.
        compose = "model" if script or llm_kwargs else "extract"
        settings = Settings(
            embedder="hash", llm="scripted", docs_dir=docs, index_dir=index_dir, refuse_below=0.3, compose=compose
        )
        return RecordingPipeline(settings, llm=ScriptedLLM(script or first_choices(1), **llm_kwargs))

    return make


def run(pipe, message, history=None, doc=app.ALL_DOCS, top_k=5):
    """Every (chat, textbox) update of one question, and the last one."""
    updates = list(app.respond(pipe, message, history or [], doc, top_k))
    return updates, updates[-1]


def bot(chat) -> str:
    assert chat[-1]["role"] == "assistant"
    return chat[-1]["content"]


def test_answer_streams_then_shows_sources_with_the_quote_highlighted(make_pipe):
    pipe = make_pipe()
    updates, (chat, box) = run(pipe, Q)
    assert box == ""
    assert updates[0][0][-1]["content"].count("正在检索资料") == 1  # progress before the first sentence
    assert any("pending" in u[0][-1]["content"] and "[1]" in u[0][-1]["content"] for u in updates[:-1])
    assert chat[0] == {"role": "user", "content": Q}
    html = bot(chat)
    assert 'class="govrag answered"' in html and "pending" not in html
    assert '<a class="cite" href="#src-1-1">[1]</a>' in html
    assert 'id="src-1-1"' in html
    answer = pipe.ask(Q)
    citation = answer.citations[0]
    # What the answer shows of the sentence is marked in the paragraph (the short answer first).
    assert answer.short and f'<div class="short">{answer.short.replace("[1]", "")}' in html
    assert [f"<mark>{p}</mark>" in html for p in chat_view.cited_pieces(answer.text, 1)] == [True]
    for piece in (citation.title, citation.agency, citation.date, f"第{citation.paragraph}段"):
        assert piece in html
    assert citation.section.replace(">", "&gt;") in html


def test_markers_link_to_sources_of_their_own_turn(make_pipe):
    pipe = make_pipe()
    _, (chat, _) = run(pipe, Q)
    _, (chat, _) = run(pipe, "新乡高新区的四大主导产业是哪些?", chat)
    assert 'href="#src-2-1"' in bot(chat) and 'id="src-2-1"' in bot(chat)
    assert 'id="src-1-1"' in chat[1]["content"]  # the first turn keeps its own anchors


def test_html_in_a_document_is_shown_as_text(make_pipe):
    _, (chat, _) = run(make_pipe(), "2024年全区绿化面积增长多少?", doc=EVIL_DOC)
    html = bot(chat)
    assert "&lt;script&gt;alert(&#x27;doc&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html and "&lt;b&gt;绿化&lt;/b&gt;" in html
    assert "<script" not in html and "<img" not in html and "<b>" not in html


def test_html_in_a_question_is_shown_as_text(make_pipe):
    pipe = make_pipe()
    updates, (chat, _) = run(pipe, XSS)
    assert chat[0]["content"] == "&lt;img src=x onerror=alert(1)&gt;郑州地铁"
    assert all("<img" not in m["content"] for chat, _ in updates for m in chat)
    assert pipe.calls[0]["question"] == XSS  # the pipeline gets what was typed


def test_an_english_question_shows_the_chinese_question_it_was_answered_as(make_pipe):
    pipe = make_pipe(lambda _prompt, choices: "".join(choices[:1]) if choices else "<b>郑州</b>2024年GDP预期增长多少?")
    _, (chat, _) = run(pipe, "What is the GDP growth target of Zhengzhou for 2024?")
    html = bot(chat)
    assert 'class="govrag answered"' in html and "7%左右" in html
    assert '<div class="note">按中文问题回答：郑州 2024年GDP预期增长多少?</div>' in html


def test_a_misspelt_word_shows_how_it_was_read(make_pipe):
    _, (chat, _) = run(make_pipe(), "2024年郑州城镇新增就叶多少人?")
    html = bot(chat)
    assert "12.65万人" in html and '<div class="note">按「就业」理解「就叶」</div>' in html
    _, (chat, _) = run(make_pipe(), "2024年郑州城镇新增就业多少人?")
    assert "理解" not in bot(chat)


def test_refused_answer_looks_different(make_pipe):
    _, (chat, _) = run(make_pipe(), "洛阳市2024年GDP预期增长多少?")
    html = bot(chat)
    assert 'class="govrag refused"' in html and "未找到依据" in html and REFUSAL in html
    # No sources and no [n]: only the closest passages, labelled as related text with who issued them.
    assert 'id="src-' not in html and "来源" not in html and "[1]" not in html
    assert "资料中相关的原文（仅供参考，并非答案）" in html and html.count('class="rel"') >= 1


def test_empty_message_gets_a_hint_and_asks_nothing(make_pipe):
    pipe = make_pipe()
    for empty in ("", "   \n ", None):
        updates, (chat, box) = run(pipe, empty)
        assert len(updates) == 1 and box == ""
        assert chat == [{"role": "assistant", "content": chat_view.render_hint(app.EMPTY_HINT)}]
    assert pipe.calls == []


def test_too_long_message_is_explained_and_kept_for_editing(make_pipe):
    pipe = make_pipe()
    long = "问" * (pipe.settings.max_question_chars + 1)
    _, (chat, box) = run(pipe, long)
    assert "问题过长" in bot(chat) and str(pipe.settings.max_question_chars) in bot(chat)
    assert box == long and pipe.calls == []
    assert all(m["role"] == "assistant" for m in chat)  # the long text isn't echoed into the chat


def test_pipeline_rejection_is_shown_as_a_hint(make_pipe):
    pipe = make_pipe()
    _, (chat, _) = run(pipe, "\x00\x01")  # not blank to the page, empty once cleaned by the pipeline
    assert "问题为空" in bot(chat) and 'class="govrag hint"' in bot(chat)
    assert all(m["role"] == "assistant" for m in chat)


def test_follow_up_passes_the_earlier_questions(make_pipe):
    pipe = make_pipe()
    _, (chat, _) = run(pipe, XSS)
    _, (chat, _) = run(pipe, Q, chat)
    _, (chat, _) = run(pipe, "那2023年呢?", chat)
    assert pipe.calls[-1]["history"] == [XSS, Q]  # as typed, not as escaped for display
    # Gradio hands the chat back with each content as a list of parts.
    as_parts = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in chat]
    run(pipe, "那2022年呢?", as_parts)
    assert pipe.calls[-1]["history"] == [XSS, Q, "那2023年呢?"]


def test_document_filter_and_top_k_reach_the_pipeline(make_pipe):
    pipe = make_pipe()
    _, (chat, _) = run(pipe, Q, doc=GDP_DOC, top_k=3.0)
    assert pipe.calls[-1]["doc"] == GDP_DOC and pipe.calls[-1]["top_k"] == 3
    assert "仅在《郑州市2024年国民经济和社会发展计划》中查找" in bot(chat)  # the filter is visible
    _, (chat, _) = run(pipe, Q, doc=app.ALL_DOCS)
    assert pipe.calls[-1]["doc"] is None and "仅在" not in bot(chat)
    _, (chat, _) = run(pipe, Q, doc="no-such-file.txt")
    assert "所选文件不存在" in bot(chat) and len(pipe.calls) == 2


def test_dropped_sentences_are_not_shown(make_pipe, all_offered):
    invented = "郑州市2024年地区生产总值增长99%左右。[1]"
    pipe = make_pipe(lambda _prompt, choices: invented + (choices or [""])[0])
    _, (chat, _) = run(pipe, Q)
    html = bot(chat)
    assert "99%" not in html and "未能在资料中核实" in html
    assert pipe.ask(Q).dropped  # the check did remove it


def test_model_failure_mid_answer_keeps_checked_text(make_pipe, all_offered):
    pipe = make_pipe(fail_after=0)
    _, (chat, _) = run(pipe, Q)
    assert "回答生成中断" in bot(chat) and 'id="src-1-1"' in bot(chat)


def test_unexpected_error_is_reported_in_the_chat(make_pipe, monkeypatch):
    pipe = make_pipe()

    def broken(*_args, **_kwargs):
        raise RuntimeError("索引损坏 <b>")

    monkeypatch.setattr(pipe, "ask_stream", broken)
    _, (chat, _) = run(pipe, Q)
    assert 'class="govrag error"' in bot(chat) and "索引损坏 &lt;b&gt;" in bot(chat)
    assert chat[0] == {"role": "user", "content": Q}


def test_highlight_escapes_and_marks_only_the_quotes():
    assert chat_view.highlight("甲<b>乙。丙。", "丙。") == "甲&lt;b&gt;乙。<mark>丙。</mark>"
    assert chat_view.highlight("甲。", "不在段落中") == "甲。"
    # Two sentences cited to one paragraph are both marked; an overlapping one is not marked twice.
    assert chat_view.highlight("甲。乙。丙。", ["丙。", "甲。", "甲。乙"]) == "<mark>甲。</mark>乙。<mark>丙。</mark>"
    text = "甲说了1。[1]乙说了2……丙说了3。[2]丁说了4。[1]"
    assert chat_view.cited_pieces(text, 1) == ["甲说了1", "丁说了4"]
    assert chat_view.cited_pieces(text, 2) == ["乙说了2", "丙说了3"]


def test_warm_up_reports_progress_and_fills_the_document_filter(make_pipe):
    pipe = make_pipe()
    lines = list(app.warm_up(pipe))
    assert "正在载入" in lines[0] and "已就绪" in lines[-1]
    assert list(app.warm_up(pipe)) == [lines[-1]]  # once loaded, straight to ready
    *_, (_, dropdown, chat) = app.page_status(pipe)
    choices = dropdown["choices"]
    assert choices[0] == ("全部文件", app.ALL_DOCS)
    assert {value for _, value in choices[1:]} == set(pipe.index.documents)
    # The empty chat lists every document covered, with its agency and date, and the examples.
    gdp = pipe.index.documents[GDP_DOC]
    assert all(d.title in chat["placeholder"] for d in pipe.index.documents.values() if d.id != EVIL_DOC)
    assert "&lt;script&gt;" in chat["placeholder"] and "<script" not in chat["placeholder"]
    assert f"《{gdp.title}》（{gdp.agency} · {gdp.date}）" in chat["placeholder"]
    assert all(q.replace("?", "") in chat["placeholder"] for q in app.EXAMPLES)


def test_new_conversation_clears_chat_and_box():
    assert app.new_conversation() == ([], "", {})


def test_page_has_the_chat_endpoint_and_controls(make_pipe):
    demo = app.build_app(make_pipe())
    assert isinstance(demo, gr.Blocks)
    assert [fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"] == ["chat"]
    labels = {getattr(block, "label", None) for block in demo.blocks.values()}
    assert {"高级设置", "只在此文件中查找", "检索段落数 (top-k)"} <= labels


def test_the_upload_endpoint_takes_no_real_file(fake_pipeline):
    """The page has no upload, but Gradio's endpoint exists: it must refuse
    anything bigger than MAX_UPLOAD (it accepted 50 MB)."""
    import urllib.error
    import urllib.request

    from .conftest import free_port

    demo = app.serve(fake_pipeline(), "127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True)
    try:

        def upload(size: int) -> int:
            boundary = "govragtest"
            body = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="x.txt"\r\n'
                f"Content-Type: text/plain\r\n\r\n".encode()
                + b"x" * size
                + f"\r\n--{boundary}--\r\n".encode()
            )
            req = urllib.request.Request(
                demo.local_url.rstrip("/") + "/gradio_api/upload",
                data=body,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        assert upload(100_000) == 413
        assert upload(100) == 200  # the limit, not a broken endpoint
    finally:
        demo.close()


def test_a_refusal_names_whom_to_ask(make_pipe):
    pipe = make_pipe()
    answer = pipe.ask("洛阳市2024年GDP预期增长多少?")
    _, (chat, _) = run(pipe, "洛阳市2024年GDP预期增长多少?")
    assert answer.refused and answer.contact in {c.agency for c in answer.related}
    assert f"可咨询：<b>{answer.contact}</b>" in bot(chat)


def test_hints_replace_each_other_instead_of_stacking(make_pipe):
    pipe = make_pipe()
    _, (chat, _) = run(pipe, Q)
    for _ in range(3):
        _, (chat, _) = run(pipe, "", chat)
    assert len(chat) == 3 and chat[-1]["content"] == chat_view.render_hint(app.EMPTY_HINT)


def test_stop_keeps_what_was_shown_and_marks_it(make_pipe):
    updates, _ = run(make_pipe(), Q)
    partial = next(c for c, _ in updates if "pending" in c[-1]["content"] and "[1]" in c[-1]["content"])
    as_parts = [*partial[:-1], {"role": "assistant", "content": [{"type": "text", "text": partial[-1]["content"]}]}]
    stopped = app.stop_answer(as_parts)
    assert "pending" not in stopped[-1]["content"] and "已停止生成" in stopped[-1]["content"]
    assert "7%左右" in stopped[-1]["content"] and stopped[:-1] == partial[:-1]
    assert app.stop_answer([*partial[:-1], {"role": "assistant", "content": "完"}])[-1]["content"] == "完"


def test_a_vote_lands_in_the_index_folder(make_pipe, tmp_path):
    pipe = make_pipe()
    pipe.settings = pipe.settings.with_(index_dir=tmp_path)  # votes only: the index is loaded already
    answer = pipe.ask(Q)
    app.vote(pipe, {1: (Q, answer)}, gr.LikeData(None, {"index": 1, "value": "", "liked": False}))
    app.vote(pipe, {1: (Q, answer)}, gr.LikeData(None, {"index": 0, "value": "", "liked": True}))  # a question
    (line,) = (tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert '"vote": "down"' in line and Q in line and GDP_DOC in line
