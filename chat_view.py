"""What the chat page shows, as HTML built from escaped text, with its CSS and script.

An answer shows its short answer first (Answer.short), then its sentences with
linked [n], a copy button, and its sources, collapsed on a phone; each source
card names title, agency, date, section and 第N段, marks every sentence the
answer cites from it, links back to the answer and opens the whole document at
that paragraph (`render_document`, served by app.py). A refusal shows the
closest passages and whom to ask. The empty chat shows which documents are
covered (`render_intro`).

Everything shown is escaped here, so a question or a document containing HTML
or script shows as text; Gradio's sanitiser stays on as a second guard. The
script (`HEAD`) only moves the view and guards the input: it sends nothing
anywhere but to this page's own server.

Deliberately not done here: answering, or wiring the page's events (app.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import quote

from rag import REFUSAL, Answer, Citation, Document

_MARKER = re.compile(r"\[(\d{1,2})\]")
_CITED = re.compile(r"([^\[\]]+?)((?:\[\d{1,2}\])+)")  # a sentence and the markers after it


def _text(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def link_markers(escaped: str, turn: int, count: int | None) -> str:
    """[n] → a link to source n of this turn (only to sources that exist, once known)."""

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if count is not None and not 1 <= n <= count:
            return m.group(0)
        return f'<a class="cite" href="#src-{turn}-{n}">[{n}]</a>'

    return _MARKER.sub(link, escaped)


def highlight(paragraph: str, quotes: str | Sequence[str]) -> str:
    """The paragraph, escaped, with each quoted piece found in it in <mark>; a
    piece overlapping an earlier one is left out (the earlier ones win)."""
    quotes = [quotes] if isinstance(quotes, str) else quotes
    spans: list[tuple[int, int]] = []
    for q in dict.fromkeys(q for q in quotes if q):
        i = paragraph.find(q)
        if i >= 0 and not any(i < e and s < i + len(q) for s, e in spans):
            spans.append((i, i + len(q)))
    out, last = [], 0
    for s, e in sorted(spans):
        out += [html.escape(paragraph[last:s]), f"<mark>{html.escape(paragraph[s:e])}</mark>"]
        last = e
    return "".join(out) + html.escape(paragraph[last:])


def cited_pieces(text: str, n: int) -> list[str]:
    """The verbatim pieces of the answer text cited to [n]: each sentence
    followed by that marker, split where a part was left out (……)."""
    pieces = []
    for m in _CITED.finditer(text):
        if n in {int(x) for x in _MARKER.findall(m.group(2))}:
            pieces += [p.strip("。") for p in m.group(1).split("……") if len(p.strip("。")) > 1]
    return pieces


def document_url(doc: str, paragraph: int) -> str:
    return f"document/{quote(doc)}#p-{paragraph}"


def render_source(turn: int, n: int, c: Citation, kind: str = "src", quotes: Sequence[str] = ()) -> str:
    meta = [x for x in (c.agency, c.date) if x]
    if c.section:
        meta.append(c.section)
    meta.append(c.place)  # 第N页 · 第N段 for a PDF
    label = f"[{n}]" if kind == "src" else "相关原文"
    back = f'<a class="back" href="#ans-{turn}">↩ 回到回答</a>' if kind == "src" else ""
    return (
        f'<div class="{kind}" id="{kind}-{turn}-{n}">'
        f'<div class="src-title"><span class="src-n">{label}</span> {html.escape(c.title)}</div>'
        f'<div class="src-meta">{" · ".join(html.escape(m) for m in meta)}</div>'
        f'<blockquote class="src-text">{highlight(c.text, [*quotes, c.quote])}</blockquote>'
        f'<div class="src-links"><a class="fulltext" href="{html.escape(document_url(c.doc, c.paragraph))}">'
        f"查看全文</a>{back}</div>"
        f"</div>"
    )


def render_answer(turn: int, answer: Answer, scope: str = "") -> str:
    """A finished answer: its short answer, its text with linked [n], then its
    sources; a refusal looks different. `scope` names the one document
    searched, if the filter is on."""
    scope_note = (
        f'<div class="note">仅在《{html.escape(scope)}》中查找；可在“高级设置”中改为全部文件。</div>' if scope else ""
    )
    # An English question is answered as its Chinese translation: say which.
    asked = f'<div class="note">按中文问题回答：{html.escape(answer.translated)}</div>' if answer.translated else ""
    # A misspelt word was read as the documents' word: say how, so a wrong guess shows.
    asked += f'<div class="note">{html.escape(answer.read_as)}</div>' if answer.read_as else ""
    if answer.refused:
        # What the documents do say, closest first: labelled as related text, not as an answer.
        related = "".join(render_source(turn, n, c, "rel") for n, c in enumerate(answer.related, start=1))
        title = '<div class="sources-title">资料中相关的原文（仅供参考，并非答案）</div>'
        related = f'<div class="related">{title}{related}</div>' if related else ""
        contact = (
            f'<div class="contact">如需了解，可咨询：<b>{html.escape(answer.contact)}</b>（最相关文件的发布机关）</div>'
            if answer.contact
            else ""
        )
        return (
            f'<div class="govrag refused" id="ans-{turn}"><div class="refused-label">未找到依据</div>{asked}'
            f'<div class="answer-text">{_text(answer.text)}</div>{contact}{scope_note}{related}</div>'
        )
    count = len(answer.citations)
    parts = [f'<div class="govrag answered" id="ans-{turn}">', asked]
    if answer.short:
        parts.append(f'<div class="short">{link_markers(_text(answer.short), turn, count)}</div>')
    parts.append(f'<div class="answer-text">{link_markers(_text(answer.text), turn, count)}</div>')
    if answer.dropped:
        # Only a count: the removed sentences themselves are never shown.
        parts.append(f'<div class="note">另有 {len(answer.dropped)} 句生成内容未能在资料中核实，已略去。</div>')
    parts.append(scope_note)
    parts.append('<div class="actions"><button type="button" class="copy">复制回答</button></div>')
    if answer.citations:
        parts.append(f'<details class="sources" open><summary class="sources-title">来源（{count}）</summary>')
        parts += [
            render_source(turn, n, c, quotes=cited_pieces(answer.text, n))
            for n, c in enumerate(answer.citations, start=1)
        ]
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def render_partial(turn: int, text: str) -> str:
    """An answer still streaming: the checked sentences so far."""
    kind = "refused" if text.strip() == REFUSAL else "answered"
    body = link_markers(_text(text), turn, None) if text else ""
    waiting = "" if text else "正在检索资料并生成回答…"
    return (
        f'<div class="govrag {kind} pending" id="ans-{turn}"><div class="answer-text">{body}</div>'
        f'<div class="progress">{waiting or "生成中…"}</div></div>'
    )


STOPPED = '<div class="note stopped">已停止生成；以上内容均已核对出处。</div>'
_PROGRESS = re.compile(r'<div class="progress">[^<]*</div>')


def render_stopped(partial: str) -> str:
    """A streaming answer stopped by the reader: what was shown, marked stopped."""
    if " pending" not in partial:
        return partial
    return _PROGRESS.sub(STOPPED, partial.replace(" pending", " stopped-answer", 1))


def render_hint(text: str) -> str:
    return f'<div class="govrag hint">{_text(text)}</div>'


def render_error(text: str) -> str:
    return f'<div class="govrag error">抱歉，出现错误：{_text(text)}</div>'


def render_intro(documents: Sequence[Document], examples: Sequence[str]) -> str:
    """The empty chat: which documents are covered, newest first, and what to ask (Markdown)."""
    lines = ["**可以问这些文件里的内容：**", ""]
    for d in sorted(documents, key=lambda d: d.date, reverse=True):
        meta = " · ".join(x for x in (d.agency, d.date) if x)
        lines.append(f"- 《{_md(d.title)}》" + (f"（{_md(meta)}）" if meta else ""))
    lines += [
        "",
        "**例如：** " + " · ".join(_md(q) for q in examples),
        "",
        "每句回答都注明出处；文件里没有的内容不作回答。",
    ]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text for Markdown: escaped as HTML, Markdown's own marks backslashed."""
    return re.sub(r"([\\`*_\[\]#|<>~])", r"\\\1", html.escape(text, quote=False))


def render_document(doc: Document, paragraph: int | None = None) -> str:
    """A whole document as its own small page, each paragraph anchored (#p-N)."""
    meta = " · ".join(html.escape(x) for x in (doc.agency, doc.date, doc.doc_no) if x)
    body = "".join(
        f'<p id="p-{p.number}" class="{"h" if p.is_heading else ""}"><span class="pn">{p.number}</span>'
        f"{html.escape(p.text)}</p>"
        for p in doc.paragraphs
    )
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(doc.title)}</title><style>{DOC_CSS}</style></head>"
        f"<body><h1>{html.escape(doc.title)}</h1><div class=meta>{meta}</div>{body}</body></html>"
    )


DOC_CSS = """
body { font-family: sans-serif; max-width: 46em; margin: 0 auto; padding: 12px 16px; line-height: 1.75; }
h1 { font-size: 1.3em; } .meta { color: #475569; margin-bottom: 12px; }
p { margin: 6px 0; padding: 4px 6px; border-radius: 4px; scroll-margin-top: 30vh; }
p.h { font-weight: 700; } .pn { color: #94a3b8; font-size: 0.8em; margin-right: 6px; }
p:target { background: #fde68a; }
"""

CSS = """
.govrag .answer-text { line-height: 1.7; }
.govrag .short { font-weight: 700; font-size: 1.08em; margin-bottom: 6px; padding: 6px 10px;
  background: #eff6ff; border-left: 4px solid #2563eb; border-radius: 4px; }
.govrag a.cite { font-weight: 600; text-decoration: none; color: #1d4ed8; padding: 0 1px; }
.govrag a.cite:hover { text-decoration: underline; }
.govrag.refused { border-left: 4px solid #d97706; background: #fff7ed; color: #7c2d12; padding: 8px 12px;
  border-radius: 6px; }
.govrag .refused-label { font-weight: 700; color: #b45309; margin-bottom: 4px; }
.govrag .contact { margin-top: 6px; }
.govrag.hint { color: #475569; font-style: italic; }
.govrag.error { color: #b91c1c; }
.govrag .progress { color: #64748b; font-size: 0.9em; margin-top: 4px; }
.govrag .note { color: #64748b; font-size: 0.85em; margin-top: 6px; }
.govrag .actions { margin-top: 6px; }
.govrag button.copy { font-size: 0.85em; padding: 2px 10px; border: 1px solid #cbd5e1; border-radius: 4px;
  background: #fff; cursor: pointer; }
.govrag .sources { margin-top: 10px; border-top: 1px solid #e2e8f0; padding-top: 6px; }
.govrag .sources-title { font-weight: 700; margin-bottom: 4px; cursor: pointer; }
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
.govrag .src-links { font-size: 0.85em; margin-top: 4px; display: flex; gap: 16px; }
.govrag .src-links a { color: #1d4ed8; text-decoration: none; }
#status { min-height: 1.5em; }
#chat .placeholder-content { padding-top: 28px; }  /* below the chat's label */
#chat .scroll-down-button-container { display: none !important; }  /* it covered highlighted text */
#busy-note { color: #b45309; font-size: 0.9em; }
body.busy #send { opacity: 0.5; }
body:not(.busy) #stop { opacity: 0.6; }
@media (max-width: 640px) {
  .gradio-container div.main.fillable.app { padding-left: 8px !important; padding-right: 8px !important; }
  #chat .message-row { margin: 4px 2px !important; max-width: 100% !important; width: auto !important; }
  #chat .message { padding: 6px !important; }
  #chat { height: 52vh !important; min-height: 0 !important; }
  #ask-row { flex-wrap: wrap !important; gap: 6px !important; }
  #ask-row > div:has(#question), #question { flex: 1 1 100% !important; min-width: 0 !important; }
  #ask-row button { flex: 1 1 0 !important; min-width: 0 !important; }
  .govrag .src, .govrag .rel { padding: 6px; margin: 4px 0; }
  .govrag .src-text { padding-left: 4px; border-left-width: 2px; }
  #chat .message { max-width: 100% !important; }
  #title h2 { font-size: 1.1em; margin: 0; }
  #title p { display: none; }
}
"""

# From the first paint until Gradio has drawn the page, a loading note (no
# script needed; app.py puts it into the page's own HTML): the note hides
# itself once the status line exists.
LOADING = "正在载入问答页面，请稍候…"
LOADING_HTML = f"""
<style>
body::before {{ content: "{LOADING}"; display: block; padding: 32px 16px; text-align: center;
  font: 18px sans-serif; color: #334155; }}
body:has(#status)::before {{ content: none; display: none; }}
</style>
"""

# The view follows the reader: a question and its answer stay in view, [n]
# brings its source (opened if collapsed) and ↩ back; a question sent while an
# answer is being made is refused visibly, its text kept; copy copies the
# answer as plain text; on a phone sources start collapsed.
_SCRIPT = """
<script>
(() => {
  const narrow = () => window.matchMedia("(max-width: 640px)").matches;
  const busy = () => !!document.querySelector("#chat .govrag.pending");
  const note = (text) => {
    let n = document.getElementById("busy-note");
    if (!n) {
      const box = document.getElementById("question");
      if (!box) return;
      n = document.createElement("div");
      n.id = "busy-note";
      n.setAttribute("role", "status");
      box.appendChild(n);
    }
    n.textContent = text;
  };
  const refuse = (event) => {
    event.preventDefault();
    event.stopImmediatePropagation();
    note("上一个回答还在生成：请稍候，或点击“停止”。您输入的问题已保留。");
  };
  const plain = (answer) => {
    const take = (sel) => [...answer.querySelectorAll(sel)].map(e => e.innerText.trim()).filter(Boolean);
    const sources = [...answer.querySelectorAll(".src")].map(s =>
      s.querySelector(".src-title").innerText.trim() + "（" + s.querySelector(".src-meta").innerText.trim() + "）");
    return [...take(".short"), ...take(".answer-text"), ...(sources.length ? ["出处：", ...sources] : [])].join("\\n");
  };
  const copy = async (button) => {
    const text = plain(button.closest(".govrag"));
    try { await navigator.clipboard.writeText(text); }
    catch (e) {
      const area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      document.execCommand("copy"); area.remove();
    }
    button.textContent = "已复制";
    setTimeout(() => { button.textContent = "复制回答"; }, 2000);
  };
  document.addEventListener("click", (event) => {
    const t = event.target.closest ? event.target : event.target.parentElement;
    if (!t) return;
    const link = t.closest("a.cite, a.back");
    if (link) {
      const target = document.getElementById((link.getAttribute("href") || "").slice(1));
      if (!target) return;
      event.preventDefault();
      const box = target.closest("details");
      if (box) box.open = true;
      const back = link.classList.contains("back");
      target.scrollIntoView({behavior: "smooth", block: back ? "start" : "center"});
      if (!back) {
        target.classList.add("flash");
        setTimeout(() => target.classList.remove("flash"), 1500);
      }
      return;
    }
    const full = t.closest("a.fulltext");
    if (full) { event.preventDefault(); window.open(full.href, "_blank", "noopener"); return; }
    const button = t.closest("button.copy");
    if (button) { event.preventDefault(); copy(button); return; }
    if (t.closest("#send") && busy()) refuse(event);
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && event.target.closest && event.target.closest("#question")
        && busy()) refuse(event);
  }, true);
  const seen = new Map();  // answer id -> "pending" | "final": the view moves once for each
  const follow = () => {
    const chat = document.getElementById("chat");
    if (!chat) return;
    document.body.classList.toggle("busy", busy());
    if (!busy()) note("");
    const answers = chat.querySelectorAll(".govrag[id^=ans-]");
    if (!answers.length) seen.clear();
    for (const bubble of chat.querySelectorAll("[aria-label^=\\"bot's message\\"]")) {
      const parts = [...bubble.querySelectorAll(".short, .answer-text")].map(e => e.innerText.trim());
      const text = (parts.length ? parts.join(" ") : bubble.innerText.trim()).slice(0, 300);
      if (bubble.getAttribute("aria-label") !== "回答：" + text) bubble.setAttribute("aria-label", "回答：" + text);
    }
    for (const answer of answers) {
      const state = answer.classList.contains("pending") ? "pending" : "final";
      if (seen.get(answer.id) === state || seen.get(answer.id) === "final") continue;
      seen.set(answer.id, state);
      if (state === "final" && narrow()) answer.querySelectorAll("details.sources").forEach(d => { d.open = false; });
      const log = chat.querySelector("[role=log]");
      if (log) {
        // The answer's first line a little below the top of the chat, its question just above.
        const top = answer.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
        log.scrollTo({top: Math.max(0, top - 60)});
      }
      const r = answer.getBoundingClientRect();
      if (r.top < 0 || r.top > window.innerHeight - 80) window.scrollBy({top: r.top - 80});
    }
  };
  new MutationObserver(follow).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
</script>
"""

HEAD = _SCRIPT
