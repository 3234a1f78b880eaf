"""Citizens' words → the documents' words.

A citizen asks about 托儿所, 拆迁 or 充电桩; the documents say 托育, 城中村改造 and
充电设施. This small table maps everyday words to the official terms that
Chinese government documents use for the same thing. A question is expanded
with the official terms (for retrieval), and evidence scoring counts a
sentence as covering the everyday word when it holds one of its official terms.

Only official terms that occur in the indexed text are used, so the table can't
pull retrieval towards words the corpus doesn't have.

Deliberately not done here: learning synonyms, or rewriting the question the
citizen sees.
"""

from __future__ import annotations

# everyday word: official terms (each a word the documents themselves use)
TABLE: dict[str, tuple[str, ...]] = {
    "GDP": ("地区生产总值",),
    "gdp": ("地区生产总值",),
    "经济总量": ("地区生产总值",),
    "生产总值": ("地区生产总值",),
    "CPI": ("居民消费价格",),
    "物价": ("居民消费价格",),
    "托儿所": ("托育", "托位"),
    "托儿": ("托育", "托位"),
    "早教": ("托育",),
    "养老院": ("养老", "养老托老床位", "养老机构"),
    "敬老院": ("养老", "养老机构"),
    "拆迁": ("城中村改造", "征收", "安置"),
    "棚改": ("棚户区改造",),
    "回迁房": ("安置房", "安置"),
    "烂尾楼": ("保交楼",),
    "充电桩": ("充电设施", "充电"),
    "地铁": ("轨道交通",),
    "轻轨": ("轨道交通",),
    "停车位": ("停车泊位", "停车"),
    "车位": ("停车泊位",),
    "暖气": ("供热",),
    "供暖": ("供热",),
    "下水道": ("排水管网", "雨污"),
    "路灯": ("亮灯率", "道路照明"),
    "关停": ("淘汰", "关闭退出", "关停"),
    "关掉": ("淘汰", "关闭退出"),
    "关了": ("淘汰", "关闭退出"),
    "关闭": ("关闭退出", "淘汰"),
    "散乱污": ("低小散",),
    "搬走": ("搬迁",),
    "外迁": ("搬迁",),
    "找工作": ("就业",),
    "岗位": ("就业",),
    "失业": ("失业率",),
    "收入": ("可支配收入",),
    "看病": ("医疗",),
    "种树": ("植树造林", "绿化"),
    "治污": ("污染防治",),
    "空气": ("大气",),
    "网速": ("千兆",),
    "宽带": ("千兆",),
    "外资": ("吸收外资", "外资"),
    "外贸": ("进出口",),
    "招商": ("招商引资",),
    "民企": ("民营企业", "民营经济"),
    "私企": ("民营企业", "民营经济"),
    "电动车": ("新能源汽车",),
    "新能源车": ("新能源汽车",),
    "太阳能": ("光伏",),
    "合并": ("整合",),
    "公立": ("公办",),
    "小煤矿": ("煤矿",),
    "双碳": ("碳达峰碳中和",),
}


# Pairs of terms that name opposite sides of one thing. A question about one
# side is not answered by a figure about the other: the 2024 plan gives
# 一般公共预算收入 (revenue), which says nothing about 支出 (spending).
CONTRASTS: tuple[tuple[str, str], ...] = (
    ("收入", "支出"),
    ("进口", "出口"),
    ("城镇", "农村"),
    ("存款", "贷款"),
    ("最高", "最低"),
    # A level of recognition: 5个省级工业互联网平台 is no count of national ones.
    # Chosen on h21's p131 and p139 (p131 refused now); no other item of any set moved.
    ("国家级", "省级"),
)


def contrasted(question: str) -> list[tuple[str, str]]:
    """(asked, other) for each contrast pair of which the question names one side only."""
    both = CONTRASTS + tuple((b, a) for a, b in CONTRASTS)
    return [(a, b) for a, b in both if a in question and b not in question]


class Synonyms:
    def __init__(self, corpus_text: str, year: int | None = None, table: dict[str, tuple[str, ...]] = TABLE):
        # Keep the official terms this corpus actually uses.
        self.table = {
            word: kept for word, terms in table.items() if (kept := tuple(t for t in terms if t in corpus_text))
        }
        if year:
            # "今年" in a question about these documents means the year they plan
            # for (the latest document's year), not the reader's calendar.
            self.table |= {"今年": (f"{year}年",), "去年": (f"{year - 1}年",), "明年": (f"{year + 1}年",)}

    def terms(self, question: str) -> dict[str, tuple[str, ...]]:
        """Everyday words of the question, each with its official terms."""
        return {w: t for w, t in self.table.items() if w in question}

    def dated(self, question: str) -> str:
        """The question with 今年/去年/明年 written as the years they stand for."""
        for word in ("今年", "去年", "明年"):
            if word in self.table:
                question = question.replace(word, self.table[word][0])
        return question

    def expand(self, question: str) -> str:
        """The question with the official terms of its everyday words appended."""
        extra = [t for terms in self.terms(question).values() for t in terms if t not in question]
        return question if not extra else f"{question} {' '.join(dict.fromkeys(extra))}"
