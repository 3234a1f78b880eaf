"""What a sentence gives: whether it holds the kind of answer a question asks
(a figure in the unit asked, a change, a time, a person, a body, where an
event is held, as many items as the question counts, a document's particulars
line), and whose measure its figures are. The counterpart of
rag/answer_kind.py, which reads what kind of answer a question asks.

Deliberately not done here: scoring (rag/evidence.py turns each of these into
a share of support kept, and says where each showed its worth).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

from .answer_kind import ADDED, DATE, asking_clause
from .citations import DOC_NUMBER
from .documents import Document
from .lexical import coverage, tagged_words
from .question import NUMBER, YEAR

CLAUSE = re.compile(r"[^，,；;：:。！？!?]+")


# A year (2024年, 2024全球豫商大会) dates what a text is about: it is no figure
# of it, unless a unit follows (2000亿元).
_YEAR_ALONE = re.compile(r"(?<![\d.])(?:19|20)\d{2}(?![\d.%]|\s*[万亿千百元个家座项条所辆吨台套张人名次户件批倍])")


def _gives_figure(text: str) -> bool:
    """Whether the text gives a figure in digits; a year is none."""
    return bool(NUMBER.search(_YEAR_ALONE.sub("", text)))


def figure_clauses(sentence: str, topic) -> list[str]:
    """The sentence's clauses that give a figure and name at least half (by
    weight) of what the question asks about."""
    return [c for c in CLAUSE.findall(sentence) if _gives_figure(c) and coverage(topic, c) >= 0.5]


_OWNER_FLAGS = frozenset(["n", "nz", "vn"])  # common nouns (not places, not verbs: 确保主干道)
# What is owned: a noun, or one jieba takes for a name (领航幼儿园: 幼儿园 tagged
# nr, so 100所领航幼儿园 counted 公办幼儿园). Chosen on h21's p250 (refused
# now); no other item of any set moved.
_OWNED_FLAGS = frozenset(["n", "nr"])


@functools.lru_cache(maxsize=1024)
def _owners(text: str) -> dict[str, str]:
    """Each noun of the text with the noun before it that says whose it is
    (服务业增加值: 增加值 → 服务业; 主导产业的增加值 too), and a compound's head
    with the part before it (生产总值: 总值 → 生产)."""
    words = [(w, f) for w, f in tagged_words(text) if f != "uj"]
    owners = {w[-2:]: w[:-2] for w, f in words if f == "n" and len(w) >= 4}
    return owners | {
        w: p
        for (p, pf), (w, f) in itertools.pairwise(words)
        if f in _OWNED_FLAGS and len(w) >= 2 and pf in _OWNER_FLAGS
    }


def of_another(clause: str, question: str, corpus: str) -> bool:
    """Whether the clause's figure is another's measure of the kind asked: 服务业
    增加值8072.2亿元 for 工业增加值是多少 (the same noun, owned by something the
    question doesn't name). The question's owner must be a word of the
    documents: a typo (钢玉企业 for 刚玉企业) names nothing else."""
    asked = _owners(question)
    return any(
        noun in asked
        and owner not in question
        and asked[noun] not in clause
        and owner not in asked[noun]
        and asked[noun] in corpus
        for noun, owner in _owners(clause).items()
    )


# Words that name a kind of thing (专精 n, 特新 d, 省级 b), not a verb or a figure.
_NAMING = ("n", "a", "b", "j", "d", "l", "i")
_HALF_WIDTH = str.maketrans("（）", "()")  # as the documents write a name's brackets: 荣奇(俱进)电厂


@functools.lru_cache(maxsize=1024)
def named_things(question: str, corpus: str) -> tuple[tuple[str, str, str], ...]:
    """What the question's asking clause names by more than its noun, as the
    documents write it: the longest run of naming words (a bracket's words are
    one) ending in a noun that the documents hold (荣奇(俱进)电厂, 专精特新企业),
    with the word just before the noun ((俱进), 特新) and the noun."""
    runs = _bracketed(tagged_words(asking_clause(question).translate(_HALF_WIDTH)))
    words, flags = [w for w, _ in runs], [f for _, f in runs]
    named = []
    for i, head in enumerate(words):
        ends_nouns = flags[i].startswith("n") and not (i + 1 < len(flags) and flags[i + 1].startswith("n"))
        if not ends_nouns or len(head) < 2:  # 省级智能工厂 names 工厂, not 智能
            continue
        start = i
        while start > 0 and flags[start - 1].startswith(_NAMING) and "".join(words[start - 1 : i + 1]) in corpus:
            start -= 1
        if start < i:
            named.append(("".join(words[start : i + 1]), words[i - 1], head))
    return tuple(named)


def _bracketed(words: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The words, with a bracket and what it holds made one naming word ((俱进))."""
    out: list[tuple[str, str]] = []
    inside: list[str] | None = None
    for w, f in words:
        if w == "(":
            inside = [w]
        elif inside is None:
            out.append((w, f))
        else:
            inside.append(w)
            if w == ")":
                out.append(("".join(inside), "b"))
                inside = None
    return out + [(w, "x") for w in inside or []]


def names_sibling(sentence: str, question: str, corpus: str) -> bool:
    """Whether the sentence's figures count another thing of the kind the
    question names: 泰祥电厂2台13.5万千瓦 for 荣奇(俱进)电厂, 新认定高新技术企业
    1980家 for 专精特新企业. A figure counts the noun, named by another word
    than the question's, and the sentence never names the thing."""
    named = named_things(question, corpus)
    return any(
        name not in sentence and _other_counted(sentence, question, [b for _, b, h in named if h == head], head)
        for name, _, head in named
    )


_COUNTING = "的之一二两三四五六七八九十百千万亿个家座项条所名批类大种位"  # a count or 的 before a noun names no kind


def _other_counted(sentence: str, question: str, befores: list[str], head: str) -> bool:
    """Whether a figure of the sentence counts the noun named by another word
    in its clause (高新技术企业1980家 for 特新企业, 100个以上智能化改造项目 for
    技改项目); not 规模以上工业 for 规上工业 (the question's word, its characters
    in order, abbreviates it), nor one the question names too (重大续建项目和
    新开工项目: 新开工…等54个重大项目)."""
    for start in _counted_at(sentence, head):
        clause = CLAUSE.findall(sentence[:start])[-1]
        same = any(_abbreviates(b.strip("()"), clause) for b in befores)
        if not same and sentence[start - 2 : start + len(head)] not in question:
            return True
    return False


def _counted_at(sentence: str, head: str):
    """Where in the sentence a figure counts the noun: just before the figure
    (泰祥电厂2台, 高新技术企业1980家) or a few characters after it (100个以上智能化改造项目)."""
    h = re.escape(head)
    before = rf"(?<=[\u4e00-\u9fff])(?<![{_COUNTING}]){h}(?=[是为达到]*\d)"
    after = rf"\d[^\W\d]{{0,2}}以?上?[\u4e00-\u9fff]{{1,8}}?{h}"
    yield from (m.start() for m in re.finditer(before, sentence))
    yield from (m.end() - len(head) for m in re.finditer(after, sentence))


def _abbreviates(short: str, text: str) -> bool:
    """Whether the short word's characters occur in the text in order (规上 in 规模以上)."""
    rest = iter(text)
    return all(ch in rest for ch in short)


def only_another(sentence: str, question: str, corpus: str) -> bool:
    """Whether the sentence gives no figure, or every figure it gives of the
    measure asked (总值, named in the question) is another's (地区生产总值
    13617.8亿元 for 进出口总值是多少)."""
    if not _has_figure(sentence):
        return True
    measures = _owners(question)
    clauses = [c for c in CLAUSE.findall(sentence) if _gives_figure(c) and any(m in c for m in measures)]
    return bool(clauses) and all(of_another(c, question, corpus) for c in clauses)


LIST_ITEMS = re.compile(r"[^、]+(?:、[^、]+){2,}")  # three items or more, 、-separated


def lists_about(sentence: str, topic) -> bool:
    """Whether a clause of the sentence lists items (A、B、C) and names at least
    half of what the question asks about: …动力电池与新能源汽车、生命科学与生物技术、
    航空航天、大数据等四大主导产业 answers 四大主导产业是哪些, 做大做强主导产业 doesn't."""
    return any(LIST_ITEMS.search(c) and coverage(topic, c) >= 0.5 for c in CLAUSE.findall(sentence))


def most_listed(sentence: str, topic) -> int:
    """The most items one clause of the sentence lists (A、B和C: 3; 与 may join
    words of one item, 生命科学与生物技术, which only counts too many) about
    what is asked: the services listed beside 两个国家级孵化器 don't name them.
    The clause must name a quarter of what is asked (by weight): …等7个方面的
    保障方案 names 保障, 方案 and 方面 of 碳达峰方案体系里的7个保障方案是哪些 (0.43).
    Chosen on the two incubators of h6, h10, h11 and h14 (s091, q114, r088,
    x066), the same near miss: a mend of the counted rule, no set not chosen on
    moved, and no answerable item of any set did."""
    clauses = [c for c in re.split(r"[,，;；。:：]", sentence) if coverage(topic, c) >= 0.25]
    return max((len(re.findall(r"、|和|与|及", c)) + 1 for c in clauses), default=1)


_CHANGED = re.compile(r"增长|增幅|增速|增加(?!值)|涨|提高|提升|降|减|翻番|百分点")  # 增加值 is a level
_CHINESE_COUNT = re.compile(r"[一二两三四五六七八九十百千万]+(?:个|家|座|项|条|所|类|大|年|倍|批|次|名|位|台|种|处)")


def gives_change(sentence: str) -> bool:
    """Whether a clause of the sentence gives a figure of change (增长9.1%),
    not only a level (服务业增加值8072.2亿元)."""
    return any(NUMBER.search(c) and _CHANGED.search(c) for c in CLAUSE.findall(sentence))


def gives_part(sentence: str, whole: str, unit: str) -> bool:
    """Whether the sentence gives a figure in the whole's unit other than the whole."""
    return any(m.group(1) != whole for m in re.finditer(rf"(\d+(?:\.\d+)?)\s*[万亿千百]?{unit}", sentence))


def _has_figure(sentence: str) -> bool:
    """Whether the sentence gives any figure: 55座, or 两个, 三年 in words; a
    year (2024全球豫商大会) is not one."""
    return _gives_figure(sentence) or bool(_CHINESE_COUNT.search(sentence))


def in_unit(sentence: str, about: list[str], unit: str, day: bool, measure: str | None = None) -> bool:
    """Whether the sentence gives a figure in the unit asked for: in one of its
    clauses `about` what is asked, if any (一般公共预算收入增长3.1% doesn't answer
    多少亿 because 外资2.3亿美元 follows); else anywhere in it, since a figure
    often sits in a clause that doesn't name the subject (新增通车里程106.9公里).
    Not so for a day: 2024年1月 in a sentence about the 规划 that came out then
    doesn't date the 豫商大会 named beside it; only a dated line of its own
    (发布日期:2020-04-02, a signature's 2023年7月20日) does without naming it.
    Chosen on h6's s003; on h7, not chosen on, t039 (the same near miss) was
    refused too, and no answerable item of any set moved."""
    if about:
        # So does a clause naming what is measured in its unit (政府资金1734万元
        # for 退出耐材过剩产能用了多少政府资金, whose clause about the 耐材 gives 吨).
        # Chosen on h7's t014 and h21's p150 (refused before; h20's d169, 占比,
        # was answered too); on h18, not chosen on, one answerable item was
        # answered, and no near miss of any set was. Any word of the measure
        # names it (比重 asked, 占比 written): h22's f269 answered, and on h18,
        # not chosen on, another answerable item; no near miss of any set was.
        measuring = [c for c in CLAUSE.findall(sentence) if re.search(measure, c)] if measure else []
        return any(re.search(unit, c) for c in [*about, *measuring])
    return bool(re.search(unit, sentence)) and (not day or len(sentence) <= _DATED_LINE)


_DATED_LINE = 20  # characters: a label and a date, a signature's date
_PROPOSAL_LINE = 40  # ... the line naming the proposal a reply answers (关于…第20230294号提案的回复)
_PROPOSAL_NO = re.compile(r"第\d{4,}号提案")
_WHEN_WORDS = frozenset(["前", "后", "之前", "之后", "以前", "以后"])


def names_number(sentence: str) -> bool:
    """Whether the sentence names a document number (新开〔2020〕26号) or a
    proposal's (第20230294号提案)."""
    return bool(DOC_NUMBER.search(sentence) or _PROPOSAL_NO.search(sentence))


def says_when(sentence: str) -> bool:
    """Whether the sentence says when: a year, a day, or a time word (jieba's
    part of speech t: 年底, 目前) or 前/后 after what is done (规划审批前)."""
    if YEAR.search(sentence) or re.search(DATE, sentence):
        return True
    return any(flag == "t" or (flag == "f" and word in _WHEN_WORDS) for word, flag in tagged_words(sentence))


_PLANNED = re.compile(r"力争|规划|计划|预计|目标|争取|确保")
_REACHED = re.compile(r"已|累计|建成|完成|达到|实现|实际|现有|目前")
_WHOLE = re.compile(r"累计|总数|总量|达到|共有|共计|总计")
_EACH = re.compile(r"每|最多|最高|人均|户均|单个|不超过|上限")


# A section of what is to be done (三、2024年…主要任务和措施, 三、下一步打算,
# 三、重点工作): its sentences are plans, and their 达到, 实现 and 完成 are
# targets (力争…产业集群规模达到4000亿元); only 已, 累计 or 目前 state what is.
# Chosen on h14's x094 (新能源汽车实际产量, refused now); on h16, not chosen on,
# a near miss was refused too, and no answerable item of any set lost a figure.
_PLAN_SECTION = re.compile(r"任务|措施|预期目标|下一步|打算|重点工作")
_STATED = re.compile(r"已|累计|现有|目前")


def another_aspect(asked: Sequence[str], sentence: str, section: str = "") -> bool:
    """Whether the sentence's figure is another of the measure asked
    (question.aspects): a plan for one reached, this year's additions for the
    total, the sum for each one's. `section` is the sentence's heading path."""
    if _PLAN_SECTION.search(section):
        planned = not _STATED.search(sentence)
    else:
        planned = bool(_PLANNED.search(sentence)) and not _REACHED.search(sentence)
    return (
        ("reached" in asked and planned)
        or ("total" in asked and bool(ADDED.search(sentence)) and not _WHOLE.search(sentence))
        or ("each" in asked and not _EACH.search(sentence))
    )


def particulars_line(sentence: str, doc: Document, asked: str) -> bool:
    """Whether the sentence is a short line giving the document's number
    (asked "number": 新开〔2020〕26号, or a reply's 关于…第20230294号提案的回复),
    a date of its issue or signature (asked "date": 发布日期:2020-04-02,
    2020年3月25日), of its signature only (asked "signed"), or its addressee
    (asked "addressee": 九三学社郑州市委员会:)."""
    if asked == "number" and _PROPOSAL_NO.search(sentence) and len(sentence) <= _PROPOSAL_LINE:
        return True
    if asked == "addressee":
        return addressed(sentence, doc)
    if len(sentence) > _DATED_LINE:
        return False
    if asked == "number":
        return bool(doc.doc_no) and doc.doc_no in sentence
    dates = (doc.written,) if asked == "signed" else (doc.date, doc.written)
    return any(d in sentence for iso in dates if iso for d in _written_dates(iso))


def addressed(sentence: str, doc: Document) -> bool:
    """Whether the sentence is the document's addressee line (尊敬的董建山委员:)."""
    return bool(doc.addressee) and sentence.rstrip(":：").removeprefix("尊敬的") == doc.addressee


def _written_dates(iso: str) -> list[str]:
    """The ways a date is written: 2020-04-02, 2020年4月2日, 2020年04月02日."""
    parts = iso[:10].split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return [iso]
    y, m, d = parts
    return [iso[:10], f"{y}年{int(m)}月{int(d)}日", f"{y}年{m}月{d}日"]


_TITLE = re.compile(r"书记|市长|省长|区长|县长|主任|局长|部长|主席|组长|委员|同志|院士|教授")


def names_person(sentence: str) -> bool:
    """Whether the sentence names someone: a personal name (jieba's part of
    speech nr) followed by a title, as official documents write people
    (安伟书记、何雄市长); 由常务副市长兼任 names a post, not a person."""
    words = tagged_words(sentence)
    return any(flag == "nr" and _TITLE.fullmatch(title) for (_, flag), (title, _) in itertools.pairwise(words))


# Organisations as official documents name them: a body (市发展改革委, 区经济
# 发展局, 区人力资源部, 工信厅, 民建郑州市委员会), a company or group (康佳集团,
# 华为公司), an institute (清华海峡研究院, 三磨所), a party. Not 格局, 布局 or 委员 (a post).
# 所 added on h20's d149 (哪家单位来承担: 三磨所, refused before); no other item
# of any set moved.
_ORGANISATION = re.compile(
    r"委员会|改革委|管委会?|[省市区县]委(?!员)|(?<![格布全大开])局|厅|办公室|集团|公司|研究院|学社|银行|大学|协会|商会|政府"
    r"|(?<![\d场住厕处派几多])所(?![有以属需在得谓长])"
    r"|(?:资源|环境|财政|住建)部|民建|民革|民盟|民进|农工党|致公党|台盟"
)
# An event's place: held in or at it (在郑州国际会展中心举办, 于…召开).
_HELD_AT = re.compile(r"(?:在|于)[^,，。;；、]{2,20}?(?:举办|举行|召开|开幕)")


def names_organisation(sentence: str) -> bool:
    return bool(_ORGANISATION.search(sentence))


def says_where_held(sentence: str) -> bool:
    return bool(_HELD_AT.search(sentence))
