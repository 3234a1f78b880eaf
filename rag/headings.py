"""Which lines of an official document are headings, at what level, and their labels.

Official documents number their sections in a fixed hierarchy; regulations and
办法 number theirs in chapters, sections and articles above it:

    附件N > 第一章 > 第一节 > 第一条 > 一、 > （一）/(一) > 1. / 1、 > （1）/(1) > 一是… > 专栏N:

An attachment printed after a notice (a line 附件1, then its title) is a
section of its own, labelled with both: 附件1 郑州市数字政府建设重点任务清单.

A heading of level k closes every open heading of level >= k. A heading line
may also carry body text ("1.优化国土空间开发保护格局。一是建立…"): its label is
the text up to the first sentence end; an article's label is its number
(第三条), since its text is the article itself.

Inside a paragraph of items (▲公共设施补短板领域。…), an item's short opening
sentence labels the sentences after it as a heading does (`item_labels`).
A label or a title line alone answers nothing, so it is no evidence sentence
(`is_label`, used by rag/index.py).

Deliberately not done here: reading files or the document's metadata
(rag/documents.py).
"""

from __future__ import annotations

import functools
import re

from .citations import split_sentences

_CN_NUM = "一二三四五六七八九十"
_CN_BIG = "一二三四五六七八九十百零〇"
# A chapter or section names itself after its number ("第一章 总则"); an
# article is followed by its text. Both start a line; "第20230294号" doesn't.
CHAPTER, SECTION, ARTICLE = 1, 2, 3
ENUMERATION = 8  # 一是…: runs on inside a paragraph as often as it opens one
_ARTICLE = re.compile(rf"^第[{_CN_BIG}]+条(?=[\s\u3000]|$)")
# (level, pattern) in hierarchy order.
_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (CHAPTER, re.compile(rf"^第[{_CN_BIG}]+[章编](?=[\s\u3000]|$|[\u4e00-\u9fff])")),
    (SECTION, re.compile(rf"^第[{_CN_BIG}]+节(?=[\s\u3000]|$|[\u4e00-\u9fff])")),
    (ARTICLE, _ARTICLE),
    (4, re.compile(rf"^[{_CN_NUM}]+、")),
    (5, re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    (6, re.compile(r"^\d{1,2}(?:[.．](?!\d)|、)")),
    (7, re.compile(r"^[（(]\d{1,2}[）)]")),
    (ENUMERATION, re.compile(rf"^[{_CN_NUM}]+是")),
)
# A plan's box (专栏1:2024年固定资产投资 | then ▲ items): a titled section of its
# own, below the heading it sits in, open while its ▲ items go on.
_BOX_NUMBERING = re.compile(r"^专栏\s*\d+\s*[:：]")
BOX = re.compile(_BOX_NUMBERING.pattern + r".*?(?=\s*\|?\s*$)")
BOX_LEVEL = 9
BOX_ITEM = "▲"
# A line that only says 附件 (1): the attachment printed below it, not the list
# of attachments a notice names (附件：1.…, rag/metadata.py).
ATTACHMENT = re.compile(r"^附\s*件\s*\d{0,2}$")
SENTENCE_END = re.compile(r"[。；;！!？?：:]")
MAX_LABEL = 40


def heading_level(line: str) -> int:
    """The heading level a line opens (1-8, see the module docstring), or 0 for
    a plain paragraph."""
    for level, pattern in _PATTERNS:
        if pattern.match(line):
            return level
    return 0


def numbering(line: str) -> str:
    """The numbering a heading opens with (四、, (二), 1., 一是, 专栏3:), or ""."""
    for pattern in (*(p for _, p in _PATTERNS), _BOX_NUMBERING):
        if m := pattern.match(line):
            return m.group(0)
    return ""


def label(line: str) -> tuple[str, bool]:
    """The heading label of a heading line, and whether the line is only a heading."""
    if m := _ARTICLE.match(line):
        return m.group(0), not line[m.end() :].strip(" \u3000")
    m = SENTENCE_END.search(line)
    if m is None:
        return line[:MAX_LABEL], len(line) <= MAX_LABEL * 2
    return line[: m.start()][:MAX_LABEL], m.end() >= len(line.rstrip())


def heading_paths(
    lines: list[str], levels: dict[str, int], plain: range = range(0)
) -> list[tuple[tuple[str, ...], bool]]:
    """Each line's heading path (labels from the top level down) and whether it
    is only a heading; `levels` holds the lines whose markup gave them a level
    (an h2 or Heading 2 without numbering is level 2); lines in `plain` are
    never headings (a notice's numbered 附件 list)."""
    out = []
    stack: list[tuple[int, str]] = []
    titling = False  # the line after 附件N may be the attachment's title
    for i, ln in enumerate(lines):
        if i in plain:
            out.append((tuple(x for _, x in stack), False))
            continue
        if ATTACHMENT.match(ln):  # above every level: it closes all, and no heading closes it
            stack, titling = [(0, ln.replace(" ", ""))], True
            out.append(((stack[0][1],), True))
            continue
        if titling and not heading_level(ln) and len(ln) <= MAX_LABEL and not SENTENCE_END.search(ln):
            stack, titling = [(0, f"{stack[0][1]} {ln}")], False
            out.append(((stack[0][1],), True))
            continue
        titling = False
        # Official numbering outranks markup: a docx whose 一、 lines are styled
        # Heading 1 and whose （一） lines aren't nests them as the .txt does.
        level = heading_level(ln) or levels.get(ln, 0)
        only_heading = False
        if box := BOX.match(ln):
            level, lb, only_heading = BOX_LEVEL, box.group(0), True
        elif stack and stack[-1][0] == BOX_LEVEL and not level and not ln.startswith(BOX_ITEM):
            stack.pop()  # the box's items have ended
        if ln in levels:
            lb, only_heading = ln[:MAX_LABEL], True
        elif level and not box:
            lb, only_heading = label(ln)
        if level:
            stack = [(lv, x) for lv, x in stack if lv < level]
            stack.append((level, lb))
        # A plain paragraph keeps the open path: text after 一是… still belongs
        # to it until the next numbered heading closes the enumeration.
        out.append((tuple(x for _, x in stack), only_heading))
    return out


# An item of a paragraph listing them: 一是…, （1）…, ①…, ▲….
ITEM_SENTENCE = re.compile(r"^(?:[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]{1,2}[）)]|[①-⑳▲])")
_LABEL = 20  # characters: an item opening with a short sentence (▲基础设施投资领域。) names what follows


@functools.lru_cache(maxsize=1024)
def item_labels(paragraph: str) -> dict[str, str]:
    """Each sentence of a paragraph of items with the label of the item it
    belongs to (▲公共设施补短板领域。…;新开工…等26个重大项目。): the label
    names the sentence's subject as a heading does, and is read with it.
    Chosen on h9's n087 (公共设施补短板领域新开工的重大项目); on h7, h8, h11 and
    h14, not chosen on, t048, e043, r033, r053 and x074 gained their figures or
    items too, and no item of gold, dev, h2-h11, h13 or calibration lost any."""
    labels: dict[str, str] = {}
    label = ""
    for sentence in split_sentences(paragraph):
        if ITEM_SENTENCE.match(sentence):
            label = sentence if len(sentence) <= _LABEL else ""
        elif label:
            labels.setdefault(sentence, label)
    return labels


def is_label(sentence: str) -> bool:
    """A heading label ("1.做精做强主导产业。", "三是完成…搬迁改造。", a box
    item's "▲创新工作机制。") or a title line: it names a topic but answers nothing."""
    body = sentence.rstrip("。；;：:")
    if heading_level(sentence) > 0:
        # One listing three things or more (二是推进泰祥电厂、东风电厂、郑东热电和
        # 荣奇(俱进)电厂关停工作。) names them, which its sentences may not.
        # Chosen on h6's s023 and h21's p075; on h17 and h18, not chosen on, a
        # list each gained its last item, and no other item of any set moved.
        return len(body) <= 40 and body.count("、") < 2
    if sentence.startswith("▲"):
        return len(body) <= 60 and not re.search(r"[，,、。；;：:\d]", body)
    # A line without punctuation or figures is a title. One with figures (a
    # date, a document number) can answer "when" and "which", and one ending
    # as a sentence, a clause or an address does: 宇通客车的“…”项目获国家科技
    # 进步二等奖。, 高耗能产业占比仍然较高;, 民建郑州市委员会: (a reply's
    # addressee, who made the proposal). Read as titles before, 38 such
    # sentences of the seeds were no evidence (h20's 宇通客车 and 十二向).
    return len(body) <= 60 and not re.search(r"[，,、。；;：:!！?？\d]", sentence)
