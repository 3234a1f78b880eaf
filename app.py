"""The chat page: ask the documents in Chinese, see each answer with its sources.

`python app.py [--host 127.0.0.1] [--port 7860]` serves a Gradio page where a
citizen asks a question and gets a streamed answer: its short answer first,
then its sentences with [n] linked to their sources (title, agency, date,
section path, 第N页 for a PDF, 第N段, the original paragraph with the cited sentences
highlighted, and the whole document at that paragraph, /document/FILE). A
refusal shows the closest passages and whom to ask. The page also has example
questions and, on the empty chat, the list of documents covered; 停止 (ends an
answer, keeping what it showed), 新对话, follow-up questions (the earlier
questions go to the pipeline as history), 👍/👎 on each answer (appended to
feedback.jsonl in the index folder, rag/feedback.py), and under 高级设置 a
document filter and the top-k setting. Text typed while an answer is being
made stays in the box. The index and the models load in the background at
start; the page shows a loading note from its first paint, then their status.

What the page shows is built in chat_view.py, from escaped text.

The chat endpoint is `/chat` for `gradio_client`:
`Client(url).predict(question, history, doc, top_k, api_name="/chat")` returns
(chat messages, textbox value); each message's content is a list of text parts
holding the HTML shown on the page; pass the messages back as history to ask a
follow-up; doc is "" for all documents or a file name.

Deliberately not done here: retrieving, answering or checking citations (all in
`rag/`); accounts, saving conversations, share links or analytics (the page never
contacts the internet; votes stay on this machine).
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry or version calls

import argparse
import html
import logging
import threading
import weakref
from collections.abc import Iterator, Sequence

import gradio as gr
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.middleware import Middleware

import admin
from chat_view import (
    CSS,
    HEAD,
    LOADING_HTML,
    render_answer,
    render_document,
    render_error,
    render_hint,
    render_intro,
    render_partial,
    render_stopped,
)
from rag import Answer, Pipeline, Settings, feedback

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
    """On page load: the loading status, then the document filter's choices and
    the empty chat's list of documents."""
    try:
        for line in warm_up(pipe):
            yield line, gr.update(), gr.update()
    except Exception as e:  # shown on the page; the chat then reports it per question too
        log.exception("warm-up failed")
        yield f"状态：载入失败：{html.escape(str(e))}", gr.update(), gr.update()
        return
    yield (
        gr.update(),
        gr.update(choices=doc_choices(pipe)),
        gr.update(placeholder=render_intro(list(pipe.index.documents.values()), EXAMPLES)),
    )


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


def _without_trailing_hints(history: list[dict]) -> list[dict]:
    """The chat less hint bubbles at its end: a new hint replaces the last, not stacks on it."""
    while (
        history
        and history[-1].get("role") == "assistant"
        and 'class="govrag hint"' in _content_text(history[-1].get("content"))
    ):
        history = history[:-1]
    return history


def converse(
    pipe: Pipeline, message: str, history: Sequence[dict] | None, doc: str | None = ALL_DOCS, top_k: float | None = None
) -> Iterator[tuple[list[dict], str, Answer | None]]:
    """Stream one question's answer into the chat; yields (chat messages,
    textbox value, the finished Answer on the last update of an answer else None)."""
    history = [m for m in (history or []) if isinstance(m, dict)]
    message = message if isinstance(message, str) else ""
    turn = sum(m.get("role") == "assistant" for m in history) + 1
    limit = pipe.settings.max_question_chars
    if not message.strip():
        yield [*_without_trailing_hints(history), {"role": "assistant", "content": render_hint(EMPTY_HINT)}], "", None
        return
    if len(message.strip()) > limit:
        # Keep the text in the box so it can be shortened rather than retyped.
        hint = f"问题过长（{len(message.strip())} 字），请控制在 {limit} 字以内。"
        yield [*_without_trailing_hints(history), {"role": "assistant", "content": render_hint(hint)}], message, None
        return

    chat = [*history, {"role": "user", "content": html.escape(message)}]
    shown = ""
    try:
        yield [*chat, {"role": "assistant", "content": render_partial(turn, "")}], "", None
        for _ in warm_up(pipe):
            pass
        if doc and doc not in pipe.index.documents:
            raise ValueError("所选文件不存在，请在“高级设置”中重新选择")
        k = int(top_k) if top_k else None
        scope = pipe.index.documents[doc].title if doc else ""
        for item in pipe.ask_stream(message, top_k=k, history=earlier_questions(history), doc=doc or None):
            if isinstance(item, Answer):
                yield [*chat, {"role": "assistant", "content": render_answer(turn, item, scope)}], "", item
                return
            shown += item
            yield [*chat, {"role": "assistant", "content": render_partial(turn, shown)}], "", None
    except ValueError as e:  # the pipeline's readable message about the question
        yield [*_without_trailing_hints(history), {"role": "assistant", "content": render_hint(str(e))}], message, None
    except Exception as e:
        log.exception("answering failed")
        yield [*chat, {"role": "assistant", "content": render_error(str(e))}], "", None


def respond(
    pipe: Pipeline, message: str, history: Sequence[dict] | None, doc: str | None = ALL_DOCS, top_k: float | None = None
) -> Iterator[tuple[list[dict], str]]:
    """Stream one question's answer into the chat; yields (chat messages, textbox value)."""
    for chat, box, _ in converse(pipe, message, history, doc, top_k):
        yield chat, box


def stop_answer(history: Sequence[dict] | None) -> list[dict]:
    """The chat with a streaming answer marked stopped, keeping what it showed."""
    history = [m for m in (history or []) if isinstance(m, dict)]
    if history and history[-1].get("role") == "assistant":
        last = {**history[-1], "content": render_stopped(_content_text(history[-1].get("content")))}
        history = [*history[:-1], last]
    return history


def vote(pipe: Pipeline, answers: dict, like: gr.LikeData) -> None:
    """A 👍/👎 on an answer, appended to the feedback file in the index folder."""
    index = like.index[0] if isinstance(like.index, (list, tuple)) else like.index
    if index not in answers or like.liked not in (True, False):
        return  # a hint, an error or a stopped answer: nothing was answered; an undone vote stays recorded
    question, answer = answers[index]
    choice = "up" if like.liked else "down"
    path = feedback.record(pipe.settings.index_dir, question, answer.text, answer.citations, choice, answer.short)
    log.info("feedback %s recorded in %s", choice, path)


def new_conversation() -> tuple[list, str, dict]:
    return [], "", {}


# ---------------------------------------------------------------- page


def build_app(pipe: Pipeline) -> gr.Blocks:
    """The page for one pipeline; nothing is loaded until the page asks for it."""
    settings = pipe.settings

    def chat(message, history, doc, top_k):
        yield from respond(pipe, message, history, doc, top_k)

    def take(message):
        """The question leaves the box at once: what is typed next stays there."""
        return "", message

    def answer(question, history, doc, top_k, answers):
        for chat, box, done in converse(pipe, question, history, doc, top_k):
            if done is not None:
                answers = {**answers, len(chat) - 1: (question, done)}
            # The box is only written back to return a question to be edited (a hint).
            yield chat, box if box else gr.update(), answers

    def liked(answers, like: gr.LikeData):  # Gradio passes the vote by this annotation
        vote(pipe, answers, like)

    def status():
        yield from page_status(pipe)

    with gr.Blocks(title="政府文件问答", analytics_enabled=False) as demo:
        gr.Markdown(
            "## 政府文件问答\n根据已收录的政府文件回答问题，每句回答都注明出处；资料中没有的内容不作回答。",
            elem_id="title",
        )
        status_line = gr.Markdown("状态：正在启动…", elem_id="status")
        chatbot = gr.Chatbot(
            label="对话",
            elem_id="chat",
            height=560,
            render_markdown=False,  # messages are HTML built (and escaped) in chat_view.py
            sanitize_html=True,
            feedback_options=("Like", "Dislike"),  # 👍/👎, kept in the index folder (rag/feedback.py)
            autoscroll=False,  # the page's script keeps the answer's start in view instead
            group_consecutive_messages=False,  # a hint must not merge into the previous answer
            buttons=[],  # "share" posts to Hugging Face; "copy" would copy our HTML markup (each answer has its own)
            placeholder="正在载入文件列表…",
        )
        with gr.Row(elem_id="ask-row"):
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
            stop = gr.Button("停止", variant="stop", scale=1, elem_id="stop")
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
        question = gr.State("")
        answers = gr.State({})  # chat message index -> (question, Answer), for 👍/👎
        if settings.admin_token:  # the 文件管理 tab, only for a page started with a token
            admin.document_tab(pipe)

        inputs = [question, chatbot, doc, top_k, answers]
        outputs = [chatbot, msg, answers]
        quiet = {"show_progress": "hidden", "api_visibility": "private"}  # the answer shows its own progress
        asked = gr.on([msg.submit, send.click], take, msg, [msg, question], concurrency_limit=None, **quiet)
        # "multiple": a stopped answer left its event marked running in the browser, and "once" then
        # dropped every later question (measured: the next question never reached the server).
        answering = asked.then(answer, inputs, outputs, trigger_mode="multiple", **quiet)
        clicked = examples.load_input_event.then(take, msg, [msg, question], concurrency_limit=None, **quiet)
        answering_example = clicked.then(answer, inputs, outputs, trigger_mode="multiple", **quiet)
        running = [answering, answering_example]
        # Stop ends the answer at once and keeps what it showed; 新对话 and the trash icon end it too.
        stop.click(stop_answer, chatbot, chatbot, cancels=running, queue=False, **quiet)
        new.click(new_conversation, None, [chatbot, msg, answers], cancels=running, queue=False, **quiet)
        chatbot.clear(lambda: {}, None, answers, cancels=running, queue=False, **quiet)
        chatbot.like(liked, answers, None, queue=False, **quiet)
        # The API endpoint keeps its plain form: (question, history, doc, top_k) -> (chat, box).
        api = gr.Button(visible=False)
        api.click(chat, [msg, chatbot, doc, top_k], [chatbot, msg], api_name="chat")
        demo.load(status, None, [status_line, doc, chatbot], concurrency_limit=None, **quiet)
    # Two answers at once: the model takes turns, but retrieval and streaming of
    # the other run alongside; more would only queue inside the model's lock.
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo


def document_route(pipe: Pipeline) -> APIRoute:
    """GET /document/{file}: the whole document, each paragraph anchored (#p-N)."""

    def document(name: str) -> HTMLResponse:
        d = pipe.index.documents.get(name)
        if d is None:
            return HTMLResponse("没有这份文件 (no such document)", status_code=404)
        return HTMLResponse(render_document(d))

    return APIRoute("/document/{name}", document, methods=["GET"], response_class=HTMLResponse)


class LoadingNote:
    """ASGI middleware putting `LOADING_HTML` into the page's own HTML: Gradio
    adds `head` only once its scripts run, and the page was blank until then."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/":
            return await self.app(scope, receive, send)
        start: dict = {}
        body: list[bytes] = []

        async def send_with_note(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            data = b"".join(body)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            if any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                data = data.replace(b"</head>", LOADING_HTML.encode() + b"</head>", 1)
            await send({**start, "headers": [*headers, (b"content-length", str(len(data)).encode())]})
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, send_with_note)


def serve(pipe: Pipeline, host: str = "127.0.0.1", port: int = 7860, **launch_kwargs) -> gr.Blocks:
    """Build and launch the page; extra arguments go to `Blocks.launch`."""
    demo = build_app(pipe)
    # The page takes no files, but Gradio's upload endpoint exists regardless
    # (and accepted 50 MB): keep what it can be sent tiny.
    limit = admin.upload_limit(pipe) if pipe.settings.admin_token else MAX_UPLOAD
    app_kwargs = {"routes": [document_route(pipe)], "middleware": [Middleware(LoadingNote)]}
    launch_kwargs = {"max_file_size": limit, "app_kwargs": app_kwargs} | launch_kwargs
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
