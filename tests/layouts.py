"""Test documents of each official layout, with the heading paths and metadata
they must give in every format (used by test_headings, test_metadata, test_pdf)."""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

import pytest

from eval.printed import chromium

from .test_browser import _apt_install

# A 办法: chapters, sections, articles; items inside an article. 第四条 is long
# enough to run the text onto a second printed page.
LONG = "各级行政机关应当按照公共数据共享目录提供数据，保证数据真实、准确、完整，并及时更新。" * 30
REGULATION = f"""郑州市公共数据管理办法
第一章 总则
第一条 为了规范公共数据管理，促进公共数据共享开放，根据有关法律法规，结合本市实际，制定本办法。
第二条 本办法适用于本市行政区域内公共数据的收集、共享、开放及其相关管理活动。
第二章 数据共享
第一节 共享目录
第三条 市大数据管理局负责编制全市公共数据共享目录，并实行动态更新。
公共数据共享目录应当包括下列内容：
（一）数据名称、提供单位和更新频率；
（二）共享方式和使用条件。
第二节 共享方式
第四条 {LONG}
第三章 附则
第五条 本办法由市大数据管理局负责解释，自2024年5月1日起施行。
"""
REGULATION_TITLE = "郑州市公共数据管理办法"
REGULATION_PATHS = {
    "第一章 总则": (("第一章 总则",), True),
    "第一条 为了规范": (("第一章 总则", "第一条"), False),
    "第三条 市大数据": (("第二章 数据共享", "第一节 共享目录", "第三条"), False),
    "公共数据共享目录应当": (("第二章 数据共享", "第一节 共享目录", "第三条"), False),
    "（一）数据名称": (("第二章 数据共享", "第一节 共享目录", "第三条", "（一）数据名称、提供单位和更新频率"), True),
    "第四条 各级": (("第二章 数据共享", "第二节 共享方式", "第四条"), False),
    "第五条 本办法": (("第三章 附则", "第五条"), False),
}

# A notice: 发文字号, addressee, 附件 list, signature (成文日期).
NOTICE = """郑州市人民政府关于印发郑州市数字政府建设实施方案的通知
郑政〔2024〕5号
各开发区管委会，各区县（市）人民政府，市人民政府各部门：
现将《郑州市数字政府建设实施方案》印发给你们，请认真贯彻执行。
附件：1.郑州市数字政府建设重点任务清单
2.郑州市数字政府建设项目表
郑州市人民政府
2024年1月15日
"""
# ... with its first attachment printed after the signature, as notices are.
NOTICE_ATTACHED = (
    NOTICE
    + """附件1
郑州市数字政府建设重点任务清单
一、夯实数字基础设施
建设全市统一的政务云平台。
"""
)
NOTICE_ATTACHED_PATHS = {
    "附件1": (("附件1",), True),
    "郑州市数字政府建设重点任务清单": (("附件1 郑州市数字政府建设重点任务清单",), True),
    "一、夯实": (("附件1 郑州市数字政府建设重点任务清单", "一、夯实数字基础设施"), True),
    "建设全市": (("附件1 郑州市数字政府建设重点任务清单", "一、夯实数字基础设施"), False),
}
NOTICE_META = {
    "title": "郑州市人民政府关于印发郑州市数字政府建设实施方案的通知",
    "doc_no": "郑政〔2024〕5号",
    "agency": "郑州市人民政府",
    "addressee": "各开发区管委会，各区县（市）人民政府，市人民政府各部门",
    "written": "2024-01-15",
    "date": "2024-01-15",
    "attachments": ("郑州市数字政府建设重点任务清单", "郑州市数字政府建设项目表"),
}

# A reply without a header, as seed 001, but signed: agency and date from the signature.
REPLY = """尊敬的王明委员：
您提出的“关于加快发展托育服务的提案”收悉。经研究，现答复如下：
一、工作开展情况
近年来，我市持续推进托育服务体系建设，全市托位数达到3.2万个。
二、下一步打算
我们将继续扩大普惠托育服务供给。
感谢您对卫生健康工作的关心和支持。
郑州市卫生健康委员会
2023年6月20日
（联系人：张三，联系电话：0371-12345678）
"""
REPLY_META = {
    "title": "关于加快发展托育服务的提案的答复",
    "addressee": "王明委员",
    "agency": "郑州市卫生健康委员会",
    "date": "2023-06-20",
    "written": "2023-06-20",
}
REPLY_PATHS = {"近年来": (("一、工作开展情况",), False), "我们将继续": (("二、下一步打算",), False)}


def require_printing() -> None:
    """Chromium and a Chinese font, installed with apt-get when missing; skip,
    saying why, only if that fails."""
    if chromium() is None and not _apt_install("chromium"):
        pytest.skip("chromium is missing and `apt-get install chromium` failed (needs root and the Debian mirror)")
    has_font = lambda: bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True).stdout)  # noqa: E731
    if shutil.which("fc-list") and not has_font() and not (_apt_install("fonts-wqy-zenhei") and has_font()):
        pytest.skip("no Chinese font and `apt-get install fonts-wqy-zenhei` failed: printed PDFs would have no text")


def lines(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.strip()]


def write_docx(text: str, path: Path) -> Path:
    """Every line a paragraph in the Normal style, as offices type them."""
    import docx

    d = docx.Document()
    for ln in lines(text):
        d.add_paragraph(ln)
    d.save(path)
    return path


def write_html(text: str, path: Path) -> Path:
    body = "".join(f"<p>{html.escape(ln)}</p>" for ln in lines(text))
    path.write_text(f"<html><body><div>{body}</div></body></html>", encoding="utf-8")
    return path


def check_paths(doc, expected: dict) -> None:
    for start, (path, only_heading) in expected.items():
        p = next(p for p in doc.paragraphs if p.text.startswith(start))
        assert (p.path, p.is_heading) == (path, only_heading), (doc.id, start, p.path)
