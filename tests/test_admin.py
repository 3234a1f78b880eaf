"""admin.py's 文件管理 tab, through its functions (no browser)."""

import admin
import app
from rag import Pipeline
from rag.llms import ScriptedLLM, first_choices

from .conftest import fake_settings

NEW = "一、口袋公园\n郑州市今年新增口袋公园37个，分布在金水区和二七区。"


def make_pipe(seeds_copy, tmp_path, token="tok"):
    s = fake_settings(seeds_copy, tmp_path / "idx", admin_token=token)
    return Pipeline(s, llm=ScriptedLLM(first_choices(1)))


def test_upload_list_remove_with_the_token_only(seeds_copy, tmp_path):
    pipe = make_pipe(seeds_copy, tmp_path)
    upload = tmp_path / "gradio-tmp" / "口袋公园.txt"  # Gradio keeps the original name
    upload.parent.mkdir()
    upload.write_text(NEW, encoding="utf-8")
    assert admin.upload(pipe, "wrong", [str(upload)]) == ("管理员令牌不正确。", [], [])
    assert admin.listing(pipe, "") == ("管理员令牌不正确。", [], [])
    assert not (seeds_copy / "口袋公园.txt").exists()

    calls = []
    message, rows, names = admin.upload(pipe, "tok", [str(upload)], lambda *a, **k: calls.append(a))
    assert message == "已添加：口袋公园.txt。" and calls
    assert "口袋公园.txt" in names and next(r for r in rows if r[0] == "口袋公园.txt")[4] >= 1
    answer = pipe.ask("郑州市今年新增口袋公园多少个?")  # the page's pipeline sees it at once
    assert answer.citations[0].doc == "口袋公园.txt"

    assert admin.upload(pipe, "tok", [str(tmp_path / "gone.txt")])[0].startswith("未添加：")
    message, rows, names = admin.remove(pipe, "tok", ["口袋公园.txt"])
    assert message == "已删除：口袋公园.txt。" and "口袋公园.txt" not in names
    assert admin.remove(pipe, "tok", ["nope.txt"])[0].startswith("未删除：没有名为 nope.txt")
    assert admin.listing(pipe, "tok")[1] == rows


def test_the_tab_is_on_the_page_only_with_a_token(seeds_copy, tmp_path):
    def labels(pipe):
        return {c.get("props", {}).get("label") for c in app.build_app(pipe).config["components"]}

    assert "文件管理" in labels(make_pipe(seeds_copy, tmp_path))
    assert "文件管理" not in labels(make_pipe(seeds_copy, tmp_path, token=""))
