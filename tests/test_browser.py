"""The chat page in a real browser: `python app.py` with the real index and the
bundled models, driven by Debian's chromium through playwright.

Screenshots of the answered pages and the measured time to the first streamed
sentence go to test-output/browser/ (git-ignored). Chromium is installed with
apt-get when missing; the tests skip, saying why, only if that fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag import Pipeline, Settings, answering
from rag.llms import ScriptedLLM, first_choices

from .conftest import free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-output" / "browser"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
Q = "2024年郑州市地区生产总值预期增长多少?"
GDP_TITLE = "郑州市2024年国民经济和社会发展计划"
XSS = "<img src=x onerror=alert(1)>郑州地铁今年有什么规划?"  # markup around a real question
ANSWER_S = 600  # the bundled model on two busy CPU cores can take minutes
FINAL = "#chat .govrag:not(.pending):not(.hint)"
EXAMPLES_SHOWN = "新乡高新区的四大主导产业是哪些"


# Whether an element shows both in the window and in the chat's scrolling box.
IN_VIEW = """id => {
  const r = document.getElementById(id).getBoundingClientRect();
  const box = document.querySelector('#chat [role=log]').getBoundingClientRect();
  return r.bottom > Math.max(0, box.top) && r.top < Math.min(window.innerHeight, box.bottom);
}"""


def _apt_install(*packages: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    try:
        if subprocess.run(cmd, env=env, capture_output=True, timeout=900).returncode == 0:
            return True
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=300)
        return subprocess.run(cmd, env=env, capture_output=True, timeout=900).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists() and not _apt_install("chromium"):
        pytest.skip(f"{CHROMIUM} is missing and `apt-get install chromium` failed (needs root and the Debian mirror)")
    # Chinese glyphs for readable screenshots; the tests don't depend on them.
    if shutil.which("fc-list") and not subprocess.run(["fc-list", ":lang=zh"], capture_output=True).stdout:
        _apt_install("fonts-wqy-zenhei")
    return CHROMIUM


@pytest.fixture(scope="module")
def server() -> str:
    """`python app.py` on a free port with the default Settings (real index and models)."""
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(OUT / "app.log", "w", encoding="utf-8")  # noqa: SIM115 - open for the server's lifetime
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost"},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(f"app.py did not start:\n{(OUT / 'app.log').read_text(encoding='utf-8')[-3000:]}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(chromium):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        yield b
        b.close()


def open_page(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#question textarea")
    return page


def ask(page, question: str):
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def final_answer(page):
    """The finished bot message (answered or refused) of the first turn."""
    page.wait_for_selector(FINAL, timeout=ANSWER_S * 1000)
    return page.locator(FINAL).last


def test_seed_question_streams_an_answer_with_its_source(browser, server):
    started = time.perf_counter()
    page = open_page(browser, server)
    ask(page, Q)
    # The first checked sentence shows while the answer is still pending.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat .govrag .answer-text')].some(e => e.textContent.trim())",
        timeout=ANSWER_S * 1000,
        polling=100,
    )
    first_token = time.perf_counter() - started
    answer = final_answer(page)
    total = time.perf_counter() - started
    report = f"page load to first streamed sentence: {first_token:.1f} s; to the finished answer: {total:.1f} s"
    print(report)
    (OUT / "timings.txt").write_text(report + "\n", encoding="utf-8")

    assert "answered" in answer.get_attribute("class")
    source = page.locator("#src-1-1")
    assert GDP_TITLE in source.inner_text() and "7%左右" in source.inner_text()
    assert "第" in source.locator(".src-meta").inner_text()
    assert "7%左右" in source.locator("mark").inner_text() or "7%左右" in answer.locator(".answer-text").inner_text()
    page.locator("#status").filter(has_text="已就绪").wait_for()
    # [1] brings its source into view.
    page.locator("a.cite", has_text="[1]").first.click()
    page.wait_for_selector("#src-1-1.flash", timeout=5000)  # the click found its source
    page.wait_for_function(IN_VIEW, arg="src-1-1", timeout=5000)
    page.screenshot(path=str(OUT / "answer.png"), full_page=True)
    page.context.close()


def test_html_in_a_question_is_shown_as_text(browser, server):
    page = open_page(browser, server)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ask(page, XSS)
    final_answer(page)
    page.wait_for_timeout(1000)  # let a broken <img> fire its onerror, if one existed
    assert dialogs == []
    assert page.locator("#chat [data-testid=user]").last.inner_text().strip() == XSS
    assert page.locator("#chat img[src=x]").count() == 0
    page.screenshot(path=str(OUT / "xss.png"), full_page=True)
    page.context.close()


def test_two_browsers_at_once_each_get_their_own_answer(browser, server):
    questions = {"xinxiang": ("新乡高新区的四大主导产业是哪些?", "新乡高新区"), "zhengzhou": (Q, GDP_TITLE)}
    pages = {name: open_page(browser, server) for name in questions}
    for name, (question, _) in questions.items():  # both asked before either is answered
        ask(pages[name], question)
    for name, (question, title) in questions.items():
        page = pages[name]
        answer = final_answer(page)
        users = page.locator("#chat [data-testid=user]").all_inner_texts()
        assert [u.strip() for u in users] == [question]
        assert "answered" in answer.get_attribute("class")
        assert title in answer.locator(".src-title").first.inner_text()
        page.screenshot(path=str(OUT / f"concurrent-{name}.png"), full_page=True)
    assert "7%左右" not in pages["xinxiang"].locator(FINAL).inner_text()
    for page in pages.values():
        page.context.close()


def test_gradio_client_calls_the_chat_endpoint(server):
    from gradio_client import Client

    client = Client(server, verbose=False, download_files=False)
    messages, box = client.predict(Q, [], "", 5, api_name="/chat")
    assert box == ""
    assert [m["role"] for m in messages] == ["user", "assistant"]
    content = messages[-1]["content"]  # Gradio 6: a list of parts
    reply = content if isinstance(content, str) else "".join(part.get("text", "") for part in content)
    assert "7%左右" in reply and GDP_TITLE in reply and 'id="src-1-1"' in reply


# ---------------------------------------------------------------- the page a citizen keeps using
# One in-process app on fakes (hashing embedder, a model that copies slowly),
# shared by the tests below: answers slow enough to type into and to stop.

PIECE_S = 0.1  # the slow model's pace: an answer takes seconds, long enough to act during it
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SLOW_Q = "新乡高新区的四大主导产业是哪些?"


class SlowLLM(ScriptedLLM):
    """Copies the first offered sentence, one piece every PIECE_S seconds."""

    def __init__(self):
        super().__init__(first_choices(1))
        self.pieces = 0  # made so far, over all answers

    def stream(self, prompt, **kwargs):
        for piece in super().stream(prompt, **kwargs):
            time.sleep(PIECE_S)
            self.pieces += 1
            yield piece


@pytest.fixture(scope="module")
def page_app(tmp_path_factory):
    """(url, index folder, model) of the page over the seeds with fakes, the model asked for every answer."""
    import app

    index_dir = tmp_path_factory.mktemp("page") / "index"
    settings = Settings(embedder="hash", llm="scripted", index_dir=index_dir, refuse_below=0.3, compose="model")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(answering, "_MARGIN", 1.0)  # every answer offers the model a sentence: every answer is slow
        llm = SlowLLM()
        demo = app.serve(Pipeline(settings, llm=llm), "127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True)
        yield demo.local_url, index_dir, llm
        demo.close()


def new_page(browser, url, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.locator("#status").filter(has_text="已就绪").wait_for()
    return page


def answered(page, n=1):
    """The finished answer of turn n."""
    page.wait_for_selector(f"#ans-{n}:not(.pending)")
    return page.locator(f"#ans-{n}")


def test_typed_text_survives_an_answer_and_a_question_sent_mid_answer_is_refused_visibly(browser, page_app):
    page = new_page(browser, page_app[0])
    ask(page, SLOW_Q)
    page.wait_for_selector("#ans-1.pending")
    box = page.locator("#question textarea")
    box.fill("那航空航天产业呢")
    box.press("Enter")  # mid-answer: refused with a note, the text kept
    page.wait_for_selector("#busy-note:text('上一个回答还在生成')", timeout=2000)
    page.locator("#send").click()
    answered(page)
    assert box.input_value() == "那航空航天产业呢"
    assert page.locator("#chat [data-testid=user]").count() == 1
    page.context.close()


def test_stop_ends_an_answer_within_a_second_and_keeps_what_was_shown(browser, page_app):
    page = new_page(browser, page_app[0])
    ask(page, SLOW_Q)
    page.wait_for_function("() => document.querySelector('#ans-1.pending .answer-text')?.textContent.trim()")
    shown = page.locator("#ans-1 .answer-text").inner_text()
    started = time.perf_counter()
    page.locator("#stop").click()
    page.wait_for_selector("#ans-1:not(.pending) .stopped", timeout=1000)
    print(f"stop to stopped: {time.perf_counter() - started:.2f} s")
    assert page.locator("#ans-1 .answer-text").inner_text().startswith(shown)
    # The sentence under way when stopped is finished in the background (the
    # answer's generator is inside it), then the answer is not pulled again:
    # however long that sentence is, the pieces stop coming.
    made, deadline = -1, time.monotonic() + 30
    while page_app[2].pieces != made and time.monotonic() < deadline:
        made = page_app[2].pieces
        page.wait_for_timeout(1500)
    assert page_app[2].pieces == made
    assert page.locator("#ans-1 .stopped").count() == 1 and page.locator("#src-1-1").count() == 0
    # The trash icon ends an answer too: nothing comes back after it.
    ask(page, SLOW_Q)
    page.wait_for_selector("#ans-2.pending")
    page.locator("#chat button[aria-label='清空对话']").click()
    page.wait_for_timeout(3000)
    assert page.locator("#chat .govrag").count() == 0
    page.context.close()


def test_the_start_of_a_long_answer_is_in_view_and_n_goes_to_its_source_and_back(browser, page_app):
    page = new_page(browser, page_app[0])
    for n, question in enumerate([Q, SLOW_Q], start=1):
        ask(page, question)
        answered(page, n)
    page.wait_for_timeout(500)  # let the view settle
    page.wait_for_function(IN_VIEW.replace("getElementById(id)", "querySelector('#ans-2 .answer-text')"), arg="")
    page.locator("#ans-2 a.cite").first.click()
    page.wait_for_selector("#src-2-1.flash", timeout=5000)
    page.wait_for_function(IN_VIEW, arg="src-2-1", timeout=5000)
    page.locator("#src-2-1 a.back").click()
    page.wait_for_function(IN_VIEW, arg="ans-2", timeout=5000)
    page.screenshot(path=str(OUT / "desktop.png"))
    page.context.close()


def test_the_phone_layout_keeps_the_input_in_view_and_sources_folded(browser, page_app):
    page = new_page(browser, page_app[0], PHONE)
    for selector in ("#question textarea", "#send"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector
    ask(page, Q)
    answer = answered(page)
    assert answer.locator("details.sources").get_attribute("open") is None  # folded: tap to open
    answer.locator("details.sources summary").click()
    text = page.locator("#src-1-1 .src-text").bounding_box()
    assert text["width"] >= 0.7 * PHONE["width"]  # no narrow column
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert not page.locator("#chat .scroll-down-button-container").is_visible()
    page.screenshot(path=str(OUT / "phone.png"))
    page.context.close()


def test_a_loading_note_shows_before_gradio_and_no_timer_after(browser, page_app):
    with urllib.request.urlopen(page_app[0], timeout=10) as r:
        assert "正在载入问答页面" in r.read().decode("utf-8")  # in the page's own HTML
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.route("**/*.js", lambda route: route.abort())  # Gradio never comes up
    page.goto(page_app[0])
    note = "() => getComputedStyle(document.body, '::before').content"
    assert "正在载入问答页面" in page.evaluate(note)
    context.close()
    page = new_page(browser, page_app[0])
    assert page.evaluate(note) == "none"
    assert not re.search(r"\d\.\ds", page.locator("#status").inner_text())
    page.context.close()


def test_the_short_answer_comes_first_and_its_figures_are_in_the_cited_paragraph(browser, page_app):
    page = new_page(browser, page_app[0])
    ask(page, Q)
    answer = answered(page)
    short = answer.locator(".short").inner_text()
    assert "7%左右" in short
    (n,) = re.findall(r"\[(\d+)\]", short)
    paragraph = page.locator(f"#src-1-{n} .src-text").inner_text()
    assert all(number in paragraph for number in re.findall(r"\d+(?:\.\d+)?%?", re.sub(r"\[\d+\]", "", short)))
    above = answer.locator(".short").bounding_box()["y"] < answer.locator(".answer-text").bounding_box()["y"]
    assert above
    page.context.close()


def test_a_refusal_shows_related_passages_and_whom_to_ask(browser, page_app):
    page = new_page(browser, page_app[0])
    ask(page, "洛阳市2024年GDP预期增长多少?")
    answer = answered(page)
    assert "refused" in answer.get_attribute("class")
    assert answer.locator(".rel").count() >= 1
    agency = answer.locator(".contact b").inner_text()
    assert agency and any(agency in m for m in answer.locator(".rel .src-meta").all_inner_texts())
    page.context.close()


def test_copy_and_votes_stay_local_and_the_intro_and_full_document(browser, page_app):
    url, index_dir, _ = page_app
    page = new_page(browser, url)
    intro = page.locator("#chat").inner_text()
    assert GDP_TITLE in intro and "郑州市人民政府" in intro and "2024-03-14" in intro and EXAMPLES_SHOWN in intro
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ask(page, Q)
    answer = answered(page)
    answer.locator("button.copy").click()
    page.wait_for_selector("#ans-1 button.copy:text('已复制')", timeout=5000)
    assert "7%左右" in page.evaluate("() => navigator.clipboard.readText()")
    page.locator("#chat button[aria-label='赞']").last.click()
    votes = index_dir / "feedback.jsonl"
    deadline = time.monotonic() + 10
    while not votes.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    (line,) = votes.read_text(encoding="utf-8").splitlines()
    vote = json.loads(line)
    assert vote["vote"] == "up" and vote["question"] == Q and "7%左右" in vote["answer"]
    assert vote["citations"][0]["title"] == GDP_TITLE and vote["time"]
    # A source card opens the whole document at the cited paragraph.
    with page.context.expect_page(timeout=10_000) as opened:
        page.locator("#src-1-1 a.fulltext").click()
    doc = opened.value
    doc.wait_for_load_state()
    anchor = doc.url.rsplit("#", 1)[1]
    assert doc.locator("h1").inner_text() == GDP_TITLE
    assert "7%左右" in doc.locator(f"#{anchor}").inner_text()
    page.context.close()
