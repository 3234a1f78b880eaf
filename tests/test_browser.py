"""The chat page in a real browser: `python app.py` with the real index and the
bundled models, driven by Debian's chromium through playwright.

Screenshots of the answered pages and the measured time to the first streamed
sentence go to test-output/browser/ (git-ignored). Chromium is installed with
apt-get when missing; the tests skip, saying why, only if that fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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
