"""The chat page: ask the documents in Chinese, see each answer with its sources.

`python app.py [--host 127.0.0.1] [--port 7860]` serves a Gradio page where a
citizen asks a question and gets a streamed answer; under the answer are its
sources (title, agency, date, section path, 第N页 for a PDF, 第N段, and the original paragraph
with the cited sentence highlighted). Each [n] in the answer links to its source.
The page also has example questions, 新对话, follow-up questions (the earlier
questions go to the pipeline as history), and under 高级设置 a document filter and
the top-k setting. The index and the models load in the background at start; the
page shows their status instead of a silent wait.

All HTML is built here from escaped text: a question or a document containing
HTML or script shows as text. Gradio's own sanitiser stays on as a second guard.

The chat endpoint is `/chat` for `gradio_client`:
`Client(url).predict(question, history, doc, top_k, api_name="/chat")` returns
(chat messages, textbox value); each message's content is a list of text parts
holding the HTML shown on the page; pass the messages back as history to ask a
follow-up; doc is "" for all documents or a file name.

Deliberately not done here: retrieving, answering or checking citations (all in
`rag/`); accounts, saving conversations, share links or analytics (the page never
contacts the internet).
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry or version calls

import argparse
import html
import logging
import re
import threading
import weakref
from collections.abc import Iterator, Sequence

import gradio as gr

import admin
from rag import REFUSAL, Answer, Citation, Pipeline, Settings

log = logging.getLogger("app")

EXAMPLES = [
    "2024年郑州市地区生产总值预期增长多少?",
    "郑州今年新能源车产量目标是多少?",
    "新乡高新区的四大主导产业是哪些?",
    "郑州关停了多少家小碳素厂?",
]
ALL_DOCS = ""  # dropdown value for 全部文件
MAX_UPLOAD = "1kb"  # Gradio's upload endpoint; only the 文件管理 tab (admin.py) uploads
EMPTY_HINT = "请输入您的问题，例如：2024年郑州市地区生产总值预期增长多少？"
_MARKER = re.compile(r"\[(\d{1,2})\]")

# ---------------------------------------------------------------- loading

_warm_lock = threading.Lock()
_warm: weakref.WeakSet = weakref.WeakSet()  # pipelines whose index and models are loaded


def warm_up(pipe: Pipeline) -> Iterator[str]:
    """Load the index and both models once, yielding a status line per step.
    Also called before every answer, so a question asked during start-up waits
    here instead of loading a second copy of a model."""
    if pipe not in _warm:
        yield "状态：正在载入文件索引（首次启动需要建立索引，可能需要几分钟）…"
        count = len(pipe.index.documents)  # Pipeline locks this: built or loaded once
        yield f"状态：已载入 {count} 份文件，正在加载语言模型…"
        with _warm_lock:
            if pipe not in _warm:
                pipe.embedder.embed(["预热"], "query")
                try:  # one token loads the model; a model that fails here fails visibly per answer
                    for _ in pipe.llm.stream("你好", max_tokens=1):
                        pass
                except Exception as e:
                    log.warning("language model warm-up failed: %s", e)
                _warm.add(pipe)
    yield f"状态：已就绪，可检索 {len(pipe.index.documents)} 份政府文件。"


def doc_choices(pipe: Pipeline) -> list[tuple[str, str]]:
    choices = [("全部文件", ALL_DOCS)]
    for doc_id, d in sorted(pipe.index.documents.items(), key=lambda kv: kv[1].date, reverse=True):
        choices.append((f"{d.title}（{d.date}）" if d.date else d.title, doc_id))
    return choices


def page_status(pipe: Pipeline):
    """On page load: the loading status, then the document filter's choices."""
    try:
        for line in warm_up(pipe):
            yield line, gr.update()
    except Exception as e:  # shown on the page; the chat then reports it per question too
        log.exception("warm-up failed")
        yield f"状态：载入失败：{html.escape(str(e))}", gr.update()
        return
    yield gr.update(), gr.update(choices=doc_choices(pipe))


# ---------------------------------------------------------------- rendering


def _text(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _link_markers(escaped: str, turn: int, count: int | None) -> str:
    """[n] → a link to source n of this turn (only to sources that exist, once known)."""

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if count is not None and not 1 <= n <= count:
            return m.group(0)
        return f'<a class="cite" href="#src-{turn}-{n}">[{n}]</a>'

    return _MARKER.sub(link, escaped)


def highlight(paragraph: str, quote: str) -> str:
    """The paragraph, escaped, with the quoted sentence in <mark>."""
    i = paragraph.find(quote) if quote else -1
    if i < 0:
        return html.escape(paragraph)
    end = i + len(quote)
    return f"{html.escape(paragraph[:i])}<mark>{html.escape(quote)}</mark>{html.escape(paragraph[end:])}"


def render_source(turn: int, n: int, c: Citation, kind: str = "src") -> str:
    meta = [x for x in (c.agency, c.date) if x]
    if c.section:
        meta.append(c.section)
    meta.append(c.place)
    label = f"[{n}]" if kind == "src" else "相关原文"
    return (
        f'<div class="{kind}" id="{kind}-{turn}-{n}">'
        f'<div class="src-title"><span class="src-n">{label}</span> {html.escape(c.title)}</div>'
        f'<div class="src-meta">{" · ".join(html.escape(m) for m in meta)}</div>'
        f'<blockquote class="src-text">{highlight(c.text, c.quote)}</blockquote>'
        f"</div>"
    )


def render_answer(turn: int, answer: Answer, scope: str = "") -> str:
    """A finished answer: its text with linked [n], then its sources; a refusal looks different.
    `scope` names the one document searched, if the filter is on."""
    scope_note = (
        f'<div class="note">仅在《{html.escape(scope)}》中查找；可在“高级设置”中改为全部文件。</div>' if scope else ""
    )
    if answer.refused:
        # What the documents do say, closest first: labelled as related text, not as an answer.
        related = "".join(render_source(turn, n, c, "rel") for n, c in enumerate(answer.related, start=1))
        title = '<div class="sources-title">资料中相关的原文（仅供参考，并非答案）</div>'
        related = f'<div class="related">{title}{related}</div>' if related else ""
        return (
            f'<div class="govrag refused"><div class="refused-label">未找到依据</div>'
            f'<div class="answer-text">{_text(answer.text)}</div>{scope_note}{related}</div>'
        )
    parts = [
        '<div class="govrag answered">',
        f'<div class="answer-text">{_link_markers(_text(answer.text), turn, len(answer.citations))}</div>',
    ]
    if answer.dropped:
        # Only a count: the removed sentences themselves are never shown.
        parts.append(f'<div class="note">另有 {len(answer.dropped)} 句生成内容未能在资料中核实，已略去。</div>')
    parts.append(scope_note)
    if answer.citations:
        parts.append('<div class="sources"><div class="sources-title">来源</div>')
        parts += [render_source(turn, n, c) for n, c in enumerate(answer.citations, start=1)]
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def render_partial(turn: int, text: str) -> str:
    """An answer still streaming: the checked sentences so far."""
    kind = "refused" if text.strip() == REFUSAL else "answered"
    body = _link_markers(_text(text), turn, None) if text else ""
    waiting = "" if text else "正在检索资料并生成回答…"
    return (
        f'<div class="govrag {kind} pending"><div class="answer-text">{body}</div>'
        f'<div class="progress">{waiting or "生成中…"}</div></div>'
    )


def render_hint(text: str) -> str:
    return f'<div class="govrag hint">{_text(text)}</div>'


def render_error(text: str) -> str:
    return f'<div class="govrag error">抱歉，出现错误：{_text(text)}</div>'


# ---------------------------------------------------------------- chat


def _content_text(content) -> str:
    """The text of a chat message's content: a string, or Gradio's list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text") or ""
    if isinstance(content, (list, tuple)):
        return "".join(_content_text(c) for c in content)
    return ""


def earlier_questions(history: Sequence[dict]) -> list[str]:
    """The user's earlier questions, as typed (the chat shows them escaped)."""
    return [
        html.unescape(_content_text(m.get("content")))
        for m in history
        if isinstance(m, dict) and m.get("role") == "user"
    ]


def respond(
    pipe: Pipeline, message: str, history: Sequence[dict] | None, doc: str | None = ALL_DOCS, top_k: float | None = None
) -> Iterator[tuple[list[dict], str]]:
    """Stream one question's answer into the chat; yields (chat messages, textbox value)."""
    history = [m for m in (history or []) if isinstance(m, dict)]
    message = message if isinstance(message, str) else ""
    turn = sum(m.get("role") == "assistant" for m in history) + 1
    limit = pipe.settings.max_question_chars
    if not message.strip():
        yield [*history, {"role": "assistant", "content": render_hint(EMPTY_HINT)}], ""
        return
    if len(message.strip()) > limit:
        # Keep the text in the box so it can be shortened rather than retyped.
        hint = f"问题过长（{len(message.strip())} 字），请控制在 {limit} 字以内。"
        yield [*history, {"role": "assistant", "content": render_hint(hint)}], message
        return

    chat = [*history, {"role": "user", "content": html.escape(message)}]
    shown = ""
    try:
        yield [*chat, {"role": "assistant", "content": render_partial(turn, "")}], ""
        for _ in warm_up(pipe):
            pass
        if doc and doc not in pipe.index.documents:
            raise ValueError("所选文件不存在，请在“高级设置”中重新选择")
        k = int(top_k) if top_k else None
        scope = pipe.index.documents[doc].title if doc else ""
        for item in pipe.ask_stream(message, top_k=k, history=earlier_questions(history), doc=doc or None):
            if isinstance(item, Answer):
                yield [*chat, {"role": "assistant", "content": render_answer(turn, item, scope)}], ""
                return
            shown += item
            yield [*chat, {"role": "assistant", "content": render_partial(turn, shown)}], ""
    except ValueError as e:  # the pipeline's readable message about the question
        yield [*history, {"role": "assistant", "content": render_hint(str(e))}], message
    except Exception as e:
        log.exception("answering failed")
        yield [*chat, {"role": "assistant", "content": render_error(str(e))}], ""


def new_conversation() -> tuple[list, str]:
    return [], ""


# ---------------------------------------------------------------- page

CSS = """
.govrag .answer-text { line-height: 1.7; }
.govrag a.cite { font-weight: 600; text-decoration: none; color: #1d4ed8; padding: 0 1px; }
.govrag a.cite:hover { text-decoration: underline; }
.govrag.refused { border-left: 4px solid #d97706; background: #fff7ed; color: #7c2d12; padding: 8px 12px;
  border-radius: 6px; }
.govrag .refused-label { font-weight: 700; color: #b45309; margin-bottom: 4px; }
.govrag.hint { color: #475569; font-style: italic; }
.govrag.error { color: #b91c1c; }
.govrag .progress { color: #64748b; font-size: 0.9em; margin-top: 4px; }
.govrag .note { color: #64748b; font-size: 0.85em; margin-top: 6px; }
.govrag .sources { margin-top: 10px; border-top: 1px solid #e2e8f0; padding-top: 6px; }
.govrag .sources-title { font-weight: 700; margin-bottom: 4px; }
.govrag .src { border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px 10px; margin: 6px 0;
  background: #f8fafc; color: #0f172a; scroll-margin: 40px; transition: box-shadow 0.3s; }
.govrag .related { margin-top: 10px; border-top: 1px dashed #f59e0b; padding-top: 6px; }
.govrag .rel { border: 1px dashed #cbd5e1; border-radius: 6px; padding: 8px 10px; margin: 6px 0;
  background: #fffdf7; color: #0f172a; }
.govrag .src.flash { box-shadow: 0 0 0 3px #60a5fa; }
.govrag .src-title { font-weight: 600; }
.govrag .src-n { color: #1d4ed8; }
.govrag .src-meta { color: #475569; font-size: 0.85em; margin: 2px 0 4px; }
.govrag .src-text { margin: 0; padding-left: 8px; border-left: 3px solid #cbd5e1; font-size: 0.92em;
  line-height: 1.6; }
.govrag .src-text mark { background: #fde68a; color: inherit; padding: 0 1px; }
#status { min-height: 1.5em; }
"""

# Bring a source into view on [n]: in-page anchors alone may be swallowed by the
# chat's own scrolling, so do it explicitly (and flash the card to show which).
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest ? event.target.closest("a.cite") : null;
  if (!link) return;
  const target = document.getElementById((link.getAttribute("href") || "").slice(1));
  if (!target) return;
  event.preventDefault();
  target.scrollIntoView({behavior: "smooth", block: "center"});
  target.classList.add("flash");
  setTimeout(() => target.classList.remove("flash"), 1500);
});
</script>
"""


def build_app(pipe: Pipeline) -> gr.Blocks:
    """The page for one pipeline; nothing is loaded until the page asks for it."""
    settings = pipe.settings

    def chat(message, history, doc, top_k):
        yield from respond(pipe, message, history, doc, top_k)

    def status():
        yield from page_status(pipe)

    with gr.Blocks(title="政府文件问答", analytics_enabled=False) as demo:
        gr.Markdown("## 政府文件问答\n根据已收录的政府文件回答问题，每句回答都注明出处；资料中没有的内容不作回答。")
        status_line = gr.Markdown("状态：正在启动…", elem_id="status")
        chatbot = gr.Chatbot(
            label="对话",
            elem_id="chat",
            height=560,
            render_markdown=False,  # messages are HTML built (and escaped) in this module
            sanitize_html=True,
            feedback_options=None,
            autoscroll=True,
            group_consecutive_messages=False,  # a hint must not merge into the previous answer
            buttons=[],  # "share" posts to Hugging Face; "copy" would copy our HTML markup
        )
        with gr.Row():
            msg = gr.Textbox(
                placeholder="请输入问题，例如：2024年郑州市地区生产总值预期增长多少？",
                label="问题",
                show_label=False,
                lines=1,
                max_lines=6,
                scale=8,
                elem_id="question",
                autofocus=True,
            )
            send = gr.Button("发送", variant="primary", scale=1, elem_id="send")
            new = gr.Button("新对话", scale=1, elem_id="new-chat")
        examples = gr.Examples(EXAMPLES, inputs=[msg], label="示例问题（点击即可提问）")
        with gr.Accordion("高级设置", open=False):
            doc = gr.Dropdown(
                choices=[("全部文件", ALL_DOCS)],
                value=ALL_DOCS,
                label="只在此文件中查找",
                allow_custom_value=True,  # choices arrive after the index loads; respond() checks the value
                elem_id="doc-filter",
            )
            top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label="检索段落数 (top-k)", elem_id="top-k")
        if settings.admin_token:  # the 文件管理 tab, only for a page started with a token
            admin.document_tab(pipe)

        inputs = [msg, chatbot, doc, top_k]
        asked = gr.on([msg.submit, send.click], chat, inputs, [chatbot, msg], api_name="chat")
        clicked = examples.load_input_event.then(chat, inputs, [chatbot, msg], api_visibility="private")
        # A new conversation also stops an answer still streaming into the old one.
        new.click(new_conversation, None, [chatbot, msg], cancels=[asked, clicked], api_visibility="private")
        demo.load(status, None, [status_line, doc], concurrency_limit=None, api_visibility="private")
    # Two answers at once: the model takes turns, but retrieval and streaming of
    # the other run alongside; more would only queue inside the model's lock.
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo


def serve(pipe: Pipeline, host: str = "127.0.0.1", port: int = 7860, **launch_kwargs) -> gr.Blocks:
    """Build and launch the page; extra arguments go to `Blocks.launch`."""
    demo = build_app(pipe)
    # The page takes no files, but Gradio's upload endpoint exists regardless
    # (and accepted 50 MB): keep what it can be sent tiny.
    limit = admin.upload_limit(pipe) if pipe.settings.admin_token else MAX_UPLOAD
    launch_kwargs = {"max_file_size": limit} | launch_kwargs
    demo.launch(server_name=host, server_port=port, share=False, css=CSS, head=HEAD, ssr_mode=False, **launch_kwargs)
    return demo


def _warm_in_background(pipe: Pipeline) -> None:
    try:
        for line in warm_up(pipe):
            log.info(line)
    except Exception:  # the page shows it too, on load and per question
        log.exception("warm-up failed")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="政府文件问答 chat page")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--admin-token", default="", help="shows the 文件管理 tab, whose actions need this token")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    pipe = Pipeline(Settings(admin_token=args.admin_token))
    # Start loading now, so the first visitor finds the page (nearly) ready.
    threading.Thread(target=_warm_in_background, args=(pipe,), daemon=True, name="warm-up").start()
    serve(pipe, args.host, args.port)


if __name__ == "__main__":
    main()
