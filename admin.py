"""The page's 文件管理 tab: upload documents (with progress), list them, remove them.

`document_tab(pipe)` builds the tab inside the caller's `gr.Blocks` context;
app.py calls it only when it is started with an admin token (`--admin-token`
or `Settings.admin_token`). Even then, every action asks for the token, typed
into the tab: a visitor without it sees the tab and can do nothing in it.

Everything goes through rag/library.py, like `python -m rag add` and serve's
/v1/documents: uploads are copied into the documents folder and indexed
incrementally, and the new index is swapped into the page's pipeline, so the
next question sees the change without a restart (answers already streaming
finish on the index they began with). Embedding shows as Gradio progress
(its tqdm bars tracked).

Deliberately not done here: the chat page itself (app.py), HTTP management
(rag/serve_documents.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from rag import Pipeline, library

HEADERS = ["文件", "标题", "发布机关", "日期", "块数", "添加时间"]


def upload_limit(pipe: Pipeline) -> str:
    """Gradio's upload limit with the tab on: one document's largest size (a PDF's)."""
    return f"{max(pipe.settings.max_doc_bytes, pipe.settings.max_file_bytes)}b"


def _allowed(pipe: Pipeline, token: str) -> bool:
    expected = pipe.settings.admin_token
    return bool(expected) and hmac.compare_digest((token or "").encode(), expected.encode())


def rows(pipe: Pipeline) -> list[list]:
    return [[e.file, e.title, e.agency, e.date, e.chunks, e.added] for e in library.entries(pipe.index)]


def _names(pipe: Pipeline) -> list[str]:
    return sorted(pipe.index.documents)


def listing(pipe: Pipeline, token: str) -> tuple[str, list[list], list[str]]:
    """(message, table rows, document names) for the token's holder."""
    if not _allowed(pipe, token):
        return "管理员令牌不正确。", [], []
    return f"共 {len(pipe.index.documents)} 份文件。", rows(pipe), _names(pipe)


def upload(pipe: Pipeline, token: str, files: Sequence[str] | None, progress=None) -> tuple[str, list[list], list[str]]:
    """Add uploaded files (Gradio's temporary paths keep the original names)."""
    if not _allowed(pipe, token):
        return "管理员令牌不正确。", [], []
    if not files:
        return "请先选择要上传的文件。", rows(pipe), _names(pipe)
    if progress is not None:
        progress(0, desc="正在解析并索引…")
    try:
        change = library.applied(pipe, lambda: library.add(pipe.settings, [Path(f) for f in files], pipe.embedder))
    except (ValueError, OSError) as e:
        return f"未添加：{e}", rows(pipe), _names(pipe)
    message = f"已添加：{'、'.join(change.done)}。"
    if change.skipped:
        message += " 未收录：" + "；".join(change.skipped)
    return message, rows(pipe), _names(pipe)


def remove(pipe: Pipeline, token: str, names: Sequence[str] | None) -> tuple[str, list[list], list[str]]:
    if not _allowed(pipe, token):
        return "管理员令牌不正确。", [], []
    if not names:
        return "请先选择要删除的文件。", rows(pipe), _names(pipe)
    try:
        change = library.applied(pipe, lambda: library.remove(pipe.settings, list(names), pipe.embedder))
    except (ValueError, OSError) as e:
        return f"未删除：{e}", rows(pipe), _names(pipe)
    return f"已删除：{'、'.join(change.done)}。", rows(pipe), _names(pipe)


def document_tab(pipe: Pipeline) -> None:
    """The 文件管理 tab, built inside the current gr.Blocks."""

    def show(result):
        message, table, names = result
        return message, table, gr.update(choices=names, value=[])

    def on_list(token):
        return show(listing(pipe, token))

    def on_upload(token, files, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - Gradio's idiom
        return (*show(upload(pipe, token, files, progress)), None)

    def on_remove(token, names):
        return show(remove(pipe, token, names))

    with gr.Tab("文件管理", elem_id="admin-tab"):
        token = gr.Textbox(label="管理员令牌", type="password", elem_id="admin-token")
        refresh = gr.Button("显示文件列表", elem_id="admin-list")
        message = gr.Markdown(elem_id="admin-message")
        table = gr.Dataframe(headers=HEADERS, interactive=False, elem_id="admin-table")
        files = gr.File(label="上传文件", file_count="multiple", type="filepath", elem_id="admin-files")
        add = gr.Button("上传并索引", variant="primary", elem_id="admin-add")
        chosen = gr.Dropdown(choices=[], multiselect=True, label="要删除的文件", elem_id="admin-chosen")
        drop = gr.Button("删除所选文件", variant="stop", elem_id="admin-remove")
        outputs = [message, table, chosen]
        refresh.click(on_list, [token], outputs, api_visibility="private")
        add.click(on_upload, [token, files], [*outputs, files], api_visibility="private")
        drop.click(on_remove, [token, chosen], outputs, api_visibility="private")
