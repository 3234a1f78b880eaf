"""What kind of answer a question asks for: a figure (in which unit, of which
aspect, a change or a level, a part of a whole it states), a day or a time, a
document's particulars (its number, its date, its proposer), a person by name,
a body (a department, a party), where an event is held, items, or the names of
as many things as it counts.

`rag/question.py` reads a question with these; evidence scoring
(rag/evidence.py) keeps only part of the support of a sentence that lacks the
kind of answer asked. Each reading's comment names the sets it was chosen on
and where it showed its worth.

Deliberately not done here: cleaning the question as typed, its parts and
follow-ups (rag/question.py), or scoring sentences.
"""

from __future__ import annotations

import re

# 哪几家 and 好几个 ask for items, not a count: read as a figure asked for, the
# sentence listing the companies kept only part of its support (gold, dev,
# h2-h6: answerable refused 18 → 15 of 306, must_include 0.871 → 0.885 on h2-h6).
_ASKS_NUMBER = re.compile(r"多少|(?<![哪好])几[个所家座条项万千亿年岁%]|几$|几\?|比例|百分之|多大|多高|多长|多快|占比")

# Units a question can ask a figure in (多少亿, 几家, 多少钱, 哪一年), with the units
# that answer it; 个 and bare 多少 fit any figure. 元 itself (多少元, 多少亿美元)
# was missing beside 钱: added on h5's t093 (人均可支配收入多少元, which the plan
# gives only as 与经济增长同步); no answerable item of any set moved.
# So does a classifier a figure is counted in (多少手, 几项, 多少人次), when it ends
# what is asked: 多少人才 asks for people, not a figure in 人. Chosen on h5's
# t083 (成交量多少手, which the documents never give); on h16 and h17, not
# chosen on, 3 near misses were refused too, and one answerable item of h17
# lost its figure, written in words (三项): a count in words answers as digits
# do (figure_units), which gave it back and gained h17 another.
_UNITS = {"钱": "元", "点": "点|时"}
_ENDS_ASKED = r"(?=[?？,，;；!！\s]|[呢吗啊呀吧了]|$)"  # ends what is asked: a classifier, not a word's first character
_ASKS_UNIT = re.compile(
    r"(?:多少|(?<![哪好])几)([万亿]?美?元|亿|万|公里|平方米|吨|套|张|家|件|辆|所|座|班|钱|岁|点|微克)|哪一?(年)"
    rf"|(?:多少|(?<![哪好])几)(人次|千瓦|公顷|[人项条场块台户名手斤亩次届批处艘架列层倍]){_ENDS_ASKED}"
)
# A count of one-character things (多少个村, 几个站) is a count of them: 244个重大
# 续建项目 counts no villages. Chosen on h4's n024 and h20's d073 (near misses,
# refused now); on h17 and h18, not chosen on, a near miss was refused too and
# an answerable part lost its figure: a 1-for-1 trade toward the target further
# off (unanswerable refused 0.84 on this round's clean set at the start, against
# 0.85 asked; answerable refused 0.02, against 0.1 allowed). 微克 (PM2.5浓度) is a
# unit as 公里 is: h20's d180; no other item of any set moved.
_ASKS_COUNTED = re.compile(rf"(?:多少|(?<![哪好])几)个(?![呢吗啊呀吧了的])([\u4e00-\u9fff]){_ENDS_ASKED}")
# What is measured fixes the unit too, whatever the question word: 占地多大 wants
# 亩 or 平方米. Not so for its change, which may come as a share (面积增长百分之五).
# Money (总投资, 资金, 补助, 补贴) wants 元 and a 利率 a share: the 41 projects'
# 总投资 is not their count, and 发放创业担保贷款13.46亿元 gives no rate. Chosen on
# h9's n130, h10's q009 and q107, h11's r091 and r094; on h13 and h14, not chosen
# on, 7 more near misses were refused (unanswerable refused 16/29 -> 19/29 and
# 16/32 -> 20/32) and no answerable item of any set lost a figure for it. Read
# in the question's last clause, the one asking: a subject before a comma (a
# later part's, see question_parts) doesn't set the unit of what is asked.
# The other words of money (补偿, 奖励, 金额, 费用, 票价, 收费) were added on
# h13's v077 (补偿款) and h9's n132 (票价); on h16, not chosen on, one near
# miss was refused too, and no answerable item of any set moved. (价格 is not
# one: 居民消费价格 is a price index.) A rent (租金, 房租) on heldout's h030 and
# h9's n065 (near misses, refused now); no other item of any set moved.
_MEASURES = (
    (re.compile(r"占地|面积"), "亩|平方米|公顷|平方公里"),
    (re.compile(r"装机|容量"), "千瓦|兆瓦|瓦"),
    (re.compile(r"比例|比重|占比"), "%"),
    (re.compile(r"总投资|资金|补助|补贴|补偿|奖励|奖金|金额|费用|票价|收费|租金|房租"), "元"),
    (re.compile(r"利率"), "%"),
)
_CHANGE = re.compile(r"增长|增幅|提高|下降|降低|减少|涨|降")
# When a project will be finished (啥时候通车), or a document or an event came
# out or was held (啥时候印发, 什么时候开幕), wants a year or a month: 目前初稿已
# 通过审查 says when in no date. The second chosen on h10's q010 (实施方案什么时候
# 印发); on h16 and h17, not chosen on, 2 near misses were refused too, h5's
# t031 lost an unrelated second sentence, and no answerable item lost a figure.
_ASKS_WHEN_DONE = re.compile(
    r"(?:什么时候|啥时候|何时|哪天|几月).*(?:通车|建成|投产|完工|竣工|开通|开业|投用|印发|发布|出台|开幕|举办|召开|成立)"
)


# Which day (哪天开的, 几号开始) wants a date: 7月20日, 2020-04-02. Chosen on
# h5's t096 (第十二届市运会几月几号开幕); on h4, not chosen on, it refused n028
# (暖气几号开始供), 6/8 → 7/8 unanswerable refused, and no answerable item of
# gold, dev or h2-h4 was refused for it.
ASKS_DAY = re.compile(r"哪天|哪一天|哪日|几号|几月|几日|日期")
# A day of a month, not a number or a name (第20230294号提案, 〔2020〕26号, 6号线).
DATE = r"(?<![\d〕第])\d{1,2}\s*(?:月|日|号(?!线))|\d-\d{1,2}-\d"
# When, with no unit asked (啥时候印发的, 什么时候举办): a date or a time word
# answers it (2024年1月, 年底前, 规划审批前; rag/evidence.py). Chosen on h6's s048
# and s071; on gold and h7, not chosen on, g048 (黄河方案啥时候发的) now cites
# its 发布日期 and t072 (市运会啥时候开幕) is refused.
_ASKS_WHEN = re.compile(r"什么时候|啥时候|何时|什么时间")


# A question about a document's own particulars: its number (文号是多少) or
# when it was issued or signed (啥时候发的, 落款日期是哪天). The line that
# states them (新开〔2020〕26号, 发布日期:2020-04-02) names nothing else, so it
# is read with the document's title (rag/evidence.py). Chosen on gold's g048 and
# h6's s056; on h5 (t042) and calibration (c017), not chosen on, both parts
# (文号 and 哪天发布) are now answered, and no item of any set was lost.
# A reply's number is that of the proposal it answers (关于…第20230294号提案的
# 回复), asked as 提案号, 编号 or 提案是几号 (a number there, not a day); a
# signature's date (落款, 成文) is not the site's 发布日期. Chosen on h9's n006,
# n048 and n052; on h6, not chosen on, s017 (编号是多少?) now gives the number
# and s075 (落款日期是哪天) leads with 2020年3月25日, not 2020-04-02; no item of
# gold, dev or h2-h9 lost a figure or was refused for it. One part may ask for
# both (文号是多少,啥时候印发的): both lines answer it. Chosen on h8's e038; on
# h10, not chosen on, q025 gained its 文号 too, and no other item moved.
# 提案是第几号 too: chosen on h13's v054 (its number); on h16, not chosen on, an
# answerable item refused before is answered, and no other item of any set moved.
_ASKS_PROPOSAL_NO = re.compile(r"提案是?第?几号|第?几号提案")  # a number, not a day (几号开始)
ASKS_DOC_NO = re.compile(rf"文号|发文字号|编号|提案号|{_ASKS_PROPOSAL_NO.pattern}")
# A reply is issued when it answers (发改委哪天答复的): chosen on h6's s017, h13's
# v054 and h14's x036 (their reply dates); on h15, not chosen on, one item
# gained its date too, and no item of any set lost a figure or was refused.
_ASKS_ISSUED = re.compile(r"发的|发布|印发|下发|答复|回复")
_ASKS_SIGNED = re.compile(r"落款|成文|签发|签署")
# Who made the proposal a reply answers (提案是谁提的, 哪个单位提的): the reply's
# addressee line names them (九三学社郑州市委员会：), as official letters do; a
# plan's proposer (方案是谁提出的) is its agency, not those it is sent to.
# Chosen on h5's t035, h10's q001 and q012, h11's r004 and h12's w012 (all
# gained the proposer; no item of any set lost a figure); no set not chosen on
# asks it. It extends the particulars above (validated on h5, h6, h10 and
# calibration) to an official letter's third line, its addressee.
# Four characters between (哪个民主党派提的) on h20's d034; no other item moved.
_ASKS_PROPOSER = re.compile(r"(?:谁|哪位|哪个|哪家|什么)[\u4e00-\u9fff]{0,4}?(?:提出|提交|提)的|提案人")


# A phone number asked for (联系电话是多少, 打哪个电话) is answered only by one.
# Chosen on h11's r097 (h9's n013 stays answered by the reply's title line); on
# h13 and h14, not chosen on, v058 and x017 were refused too. No set asks for a
# number the documents give: the site's footer, which has one, isn't indexed.
_ASKS_PHONE = re.compile(r"电话|联系方式|手机号")
# Not a document's or a proposal's number (第20240289号提案), which has as many digits.
_PHONE = r"(?<![\d第])(?:0\d{2,3}-?)?\d{7,8}(?![\d号])|(?<![\d第])1\d{10}(?![\d号])"


def asking_clause(question: str) -> str:
    """The question's last clause, the one asking: a subject comes first
    (a later part's, see question_parts)."""
    return re.split(r"[,，;；]", question.rstrip("?？ "))[-1]


# Whether a figure goes up or down (票价会涨吗, 物价是涨了还是跌了) asks its change too.
# Chosen on gold's g078 (票价会涨吗, never said; refused now); h5's t051 (物价是
# 涨了还是跌了) lost two sentences of filler after its CPI figure; no item of a
# set not chosen on (h15-h17) moved: it reads the validated change rule's
# question more widely, and is kept for gold's near miss.
_ASKS_WHETHER = re.compile(r"(?:涨|降|跌|增长|下降|上升|提高|减少)[了过]?(?:吗|没)|还是|会不会")


def asks_change(question: str) -> bool:
    """Whether the question's last clause asks how much a figure changed
    (服务业增加值比上年增长了多少), or whether it went up or down (票价会涨吗):
    a figure of change answers it (增长7.4%, 下降35万吨), not the level
    (8072.2亿元)."""
    asked = asking_clause(question)
    return bool(_CHANGE.search(asked) and (_ASKS_NUMBER.search(asked) or _ASKS_WHETHER.search(asked)))


def asks_day(question: str) -> bool:
    """Whether the question asks which day (哪天, 几号开始), not a proposal's number (提案是几号)."""
    return bool(ASKS_DAY.search(question)) and not _ASKS_PROPOSAL_NO.search(question)


# A figure in digits, or a count in words (三项, 两座); 千人 of 每千人 is none.
_FIGURE = r"(?:\d[\d.]*|[一二两三四五六七八九十][一二两三四五六七八九十百千]*)"


def _measures_asked(question: str) -> list[tuple[str, str]]:
    """(words, unit) of each measure of `_MEASURES` the asking clause names,
    unless it asks a change: any word of the measure names it (比重 asked, 占比
    written), as any gives its unit."""
    asked = asking_clause(question)
    if _CHANGE.search(asked):
        return []
    return [(measure.pattern, unit) for measure, unit in _MEASURES if measure.search(asked)]


def measured(question: str) -> str | None:
    """A pattern for the word that fixes the unit asked (资金 of 用了多少政府资金), if one does."""
    return "|".join(word for word, _ in _measures_asked(question)) or None


def figure_units(question: str) -> str | None:
    """A pattern for a figure in the unit(s) the question asks for, if any."""
    units = dict.fromkeys(_UNITS.get(u, u) for m in _ASKS_UNIT.finditer(question) for u in m.groups() if u)
    units |= dict.fromkeys(unit for _, unit in _measures_asked(question))
    if _ASKS_WHEN_DONE.search(question):
        units["年|月"] = None
    figures = [rf"{_FIGURE}\s*(?:[万亿千百])?(?:{'|'.join(units)})"] if units else []
    figures += [rf"{_FIGURE}\s*个[^,，;；。]{{0,8}}?{m.group(1)}" for m in _ASKS_COUNTED.finditer(question)]
    if asks_day(question):
        figures.append(DATE)
    if _ASKS_PHONE.search(question):
        figures.append(_PHONE)
    return "|".join(figures) or None


# A person asked for by name (组长是谁, 办公室主任叫什么名字): an official's
# title before 是谁 or 叫什么; 谁来牵头 and 归谁管 are answered by a department.
# Chosen on h5's t088 (the Xinxiang group's 组长, never named); on h6, not
# chosen on, s025 was refused too, and gold's 组长是谁 (安伟、何雄) still answered.
# The name must sit in a clause holding the title asked for (rag/evidence.py):
# chosen on calibration's c009 (办公室主任叫什么名字, answered with the clause
# naming the two 组长); on h5 and h6, not chosen on, t079 and s007 were refused
# too, and no answerable item of any set moved. The title is read whole
# (常务副市长, not the 市长 of 何雄市长), and a 主委 or 哪位委员 is asked too:
# chosen on h21's p079 and h22's f239 and f293; on h18 and h19, not chosen on,
# 3 near misses were refused too, and no answerable item of any set moved.
_ASKS_PERSON = re.compile(
    r"((?:常务)?副?[市区县省组局部处院校科]?长|主任|书记|主席|负责人|主委)(?:是谁|叫什么|叫啥|的名字|姓什么)"
    r"|哪位(委员|代表|领导|专家)"
)

# A body asked for (哪个部门牵头, 哪个单位提的, 哪个党派的): a sentence naming
# none (尊敬董建山委员,再次感谢您的宝贵建议) doesn't answer it
# (rag/sentence_kind.py). Chosen on h8's e027, h10's q052, h12's w038 and h13's
# v073 (near misses, refused now); on h15, h17 and h18, not chosen on, 3 near
# misses were refused too, and h18 lost a proposal's number that a line naming
# no body had given for 哪个单位的提案. Not a company (依托哪些企业): companies go
# by their brands (千味央厨, 华为), which no pattern tells; asked so, h17 lost
# an answer, so h17 no longer validates this reading.
_ASKS_ORGANISATION = re.compile(r"哪(?:个|家|些)(?:部门|单位|机构|党派|界别)|什么(?:部门|单位|机构|党派|界别)")
# Where an event is held (市运会在哪个体育场, 在哪儿办): a sentence that only
# names the event (办好第十二届市运会) doesn't say where. Chosen on h10's q023
# and q099 and h11's r093; h9's n129, not chosen on, was refused too. No
# answerable item of any set asks it: the documents never say where.
_ASKS_VENUE = re.compile(
    r"(?:在哪|哪里|哪儿|什么地方|啥地方|哪个(?:地方|区|县|城市))[^,，;；?？]{0,3}?(?:开|办|举办|举行|召开)"
    r"|哪个(?:场馆|体育场|体育馆|会场|展馆)"
)

# A question asking for items (哪些, 哪几个, 有什么, 分为): a list answers it. So
# does 哪17家, a count in digits: chosen on h12's w016 and h23's i041 (names the
# documents never list, refused now); on h19, not chosen on, a near miss was
# refused too, and no answerable item of any set moved. In words (哪四个, 哪两条)
# it cost 4 answerable items of the choose sets and one of h19.
_ASKS_LIST = re.compile(r"哪些|哪几|有什么|有啥|有哪|分为|分成|包括什么|包括哪|哪\d+[个家座项条所类]")


# Which figure of a measure is asked: one already reached (已经建成了多少座, 实际
# 产量), the total (总共有多少家), or each one's (每家能拿多少, 个人最多能贷多少).
# A planned figure (规划建设加氢站55座), one added this year (新培育10家) or a
# sum (发放贷款13.46亿元) is another figure of the same measure (rag/evidence.py).
# Read in the asking clause, as the unit is; the total of what the question
# itself counts as added (新开工的重大项目一共多少个) is a count of additions.
# 实际使用外资 and 实际吸收外资 are a measure's names, not a figure reached: read
# so, a 2023 question took the 2024 plan's 实际使用外资增长6% as filler (h5's t050).
_ASPECTS = (
    ("reached", re.compile(r"已经|已建|已完成|实际(?!使用|吸收)|建成了|建好了|完成了|现在有|现有|目前有")),
    ("total", re.compile(r"总共|一共|共有|总数|总量|累计")),
    ("each", re.compile(r"每家|每个|每人|每户|个人|最多|最高|单个")),
)
ADDED = re.compile(r"新增|新培育|新建|新认定|新开工|新发展|新引进|新晋")


# A part asked of a whole the question states (那1734万元里省级占多少, 55座加氢站里
# 航空港区建几座): the part is a figure in the whole's unit, and the sentence
# stating the whole alone doesn't break it down (rag/evidence.py). Chosen on
# h8's e026, h9's n035, h10's q097 and q098 and h14's x042 (all refused now); on
# h15 and h16, not chosen on, 2 near misses were refused too; no answerable
# item of any set moved.
_WHOLE = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿]?元|[个家座项条所吨辆套张件名户])[^,，;；?？]{0,12}?(?:里|中|当中)")


def wholes(question: str) -> tuple[tuple[str, str], ...]:
    return tuple(m.groups() for m in _WHOLE.finditer(question)) if _ASKS_NUMBER.search(question) else ()


def aspects(question: str) -> tuple[str, ...]:
    asked = asking_clause(question)
    found = [name for name, pattern in _ASPECTS if pattern.search(asked)]
    return tuple(a for a in found if not (a == "total" and ADDED.search(question)))


# Names asked of things the question counts (那23个示范村具体是哪些, 两个国家级孵化器
# 叫啥): a sentence that counts them without naming as many doesn't answer
# (rag/evidence.py). Chosen on h10's q101 and h11's r081 and r084, and mended
# where it cost h6's s005, h7's t007, h9's n108 and h10's q084 (items joined by
# 和, 分别 asking how rather than which); on h13 and h14, not chosen on, v076,
# x007 and x098 were refused too, and no answerable item of any set moved.
_COUNTED = re.compile(r"(\d+|[两一二三四五六七八九十]{1,3})(?:个|家|座|项|条|所|类|大)")
_ASKS_NAMES = re.compile(rf"{_ASKS_LIST.pattern}|叫啥|叫什么|是谁|名字|名单")
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九十")} | {"两": 2}


def counted_asked(question: str) -> int:
    if not _ASKS_NAMES.search(question) or not (m := _COUNTED.search(question)):
        return 0
    n = m.group(1)
    if n.isdigit():
        return int(n)
    if len(n) == 1:
        return _DIGITS[n]
    tens, _, ones = n.partition("十")
    return (_DIGITS.get(tens, 1) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)


def particulars(question: str) -> tuple[str, ...]:
    """Which particulars the question asks, as many as it names (文号是多少,啥时候印发的)."""
    asks_when = asks_day(question) or bool(_ASKS_WHEN.search(question))
    date = "signed" if _ASKS_SIGNED.search(question) else "date" if _ASKS_ISSUED.search(question) else ""
    number = "number" if ASKS_DOC_NO.search(question) else ""
    addressee = "addressee" if _ASKS_PROPOSER.search(question) and re.search("提案|建议", question) else ""
    return tuple(k for k in (number, date if asks_when else "", addressee) if k)


def asks_number(question: str) -> bool:
    """Whether the question asks for a figure."""
    return bool(_ASKS_NUMBER.search(question))


def asks_when(question: str) -> bool:
    """Whether the question asks when in no unit (啥时候印发的 asks a year or a month)."""
    return bool(_ASKS_WHEN.search(question)) and not _ASKS_WHEN_DONE.search(question)


# A placeholder for the names asked (打造哪些“XX之城”, 什么什么“之城”): each
# quoted name of that form among the evidence is an item (rag/answering.py).
# Chosen on h8's e057 and h12's w091 (each gained an item; calibration's c015
# and h5's t066, asked so too, did not move); no set not chosen on asks it.
_TEMPLATE = re.compile(r"(?:XX|xx|某某|什么什么|啥啥)[“\"]?([\u4e00-\u9fff]{1,4})")


def template(question: str) -> str | None:
    """A pattern for the quoted names a placeholder of the question stands for."""
    m = _TEMPLATE.search(question)
    return rf"“[^”]{{1,10}}{m.group(1)}”" if m else None


def asks_list(question: str) -> bool:
    """Whether the question asks for items."""
    return bool(_ASKS_LIST.search(question))


def person_asked(question: str) -> str:
    """The title of the person asked for by name (组长, 主任), if any."""
    return next((m.group(1) or m.group(2) for m in _ASKS_PERSON.finditer(question)), "")


def asks_organisation(question: str) -> bool:
    """Whether the question asks which body (哪个部门, 哪个单位, 哪个党派); not a company."""
    return bool(_ASKS_ORGANISATION.search(question))


def asks_venue(question: str) -> bool:
    """Whether the question asks where an event is held (在哪个场馆开的)."""
    return bool(_ASKS_VENUE.search(question))
