"""The kind of answer a question asks for: a unit, a day, particulars, a person, an aspect, a part, a body, a venue."""

import re

from rag.answer_kind import (
    asks_change,
    asks_organisation,
    asks_venue,
    aspects,
    counted_asked,
    figure_units,
    template,
    wholes,
)
from rag.question import question_parts, read


def test_the_unit_asked_for():
    def answers(question: str, text: str) -> bool:
        return bool(re.search(figure_units(question), text))

    assert answers("投了多少钱?", "总投资110亿元") and not answers("投了多少钱?", "增长6%")
    assert answers("人均收入是多少元?", "达到4.5万元") and not answers("人均收入是多少元?", "与经济增长同步")
    assert answers("外资是多少亿美元?", "2.3亿美元") and not answers("外资是多少亿美元?", "总额8000亿元")
    assert answers("哪一年实现碳达峰?", "2030年前实现碳达峰") and not answers("哪年实现碳达峰?", "10个试点园区")
    # what is measured fixes the unit: an area, a capacity, a share, a completion date
    assert answers("产业园占地有多大?", "占地面积200亩") and not answers("产业园占地有多大?", "总投资20.5亿元")
    assert not answers("人才公寓一个月房租多少?", "人才公寓2万套(间)")
    assert answers("电站装机有多大?", "装机规模50万千瓦") and answers("服务业占经济的比重有多大?", "占比达到59.3%")
    assert answers("T3线啥时候能通车?", "2025年建成通车") and not answers("T3线啥时候能通车?", "加快推进T3线前期工作")
    # a classifier ending what is asked is a unit; a count in words answers too
    assert answers("成交量是多少手?", "成交量1.2亿手") and not answers("成交量是多少手?", "新增上市挂牌企业7家")
    assert answers("今年新增几项?", "新增三项") and answers("客流要到多少人次?", "旅客吞吐量3000万人次")
    assert not answers("今年新增几项?", "每千人拥有")
    # a count of one-character things counts them: 244个重大续建项目 counts no villages
    assert answers("城中村改造涉及多少个村?", "改造12个城中村") and not answers("涉及多少个村?", "244个重大续建项目")
    assert figure_units("5G基站建了多少个了?") is None  # 了 is no thing counted
    assert not answers("PM2.5浓度目标是多少微克?", "退出全国168个城市“后30”")
    assert figure_units("要引进多少人才?") is None  # 人 begins a word here: no unit asked
    assert figure_units("环保评估是啥时候做?") is None  # a stage of the work may answer it
    assert figure_units("绿化面积增长多少?") is None  # a change may come as a share, in words
    assert figure_units("哪家企业入选?") is None  # asks for a name, not a figure of 家
    assert figure_units("今年增长多少?") is None  # bare 多少: any figure
    # which day wants a date, written either way
    assert answers("答复是哪天?", "2023年7月20日") and answers("哪天发布的?", "发布日期:2020-04-02")
    assert not answers("市运会几号开幕?", "办好第十二届市运会") and not answers("哪天开的?", "2021-2025年")
    # a number or a name is no day of a month
    assert not any(answers("哪天答复的?", t) for t in ["第20230294号提案", "新开〔2020〕26号", "6号线一期"])


def test_a_documents_particulars_are_asked_for():
    assert read("黄河实施方案的文号是多少?", None).particulars == ("number",)
    assert read("这个方案是啥时候发的?", None).particulars == ("date",)
    assert read("通知的落款日期是哪天?", None).particulars == ("signed",)  # the signature's date, not the site's
    # a reply's number is the proposal's: 提案是几号 asks a number, not a day
    asked = read("民建那个提案是几号?", None)
    assert asked.particulars == ("number",) and not asked.day and figure_units("民建那个提案是几号?") is None
    assert read("那个提案编号是多少?", None).particulars == ("number",)
    assert read("九三学社那个提案是第几号?", None).particulars == ("number",)
    assert read("第十二届市运会啥时候开?", None).particulars == ()  # when an event is, not a document
    assert read("发改委哪天答复的?", None).particulars == ("date",)  # a reply is issued when it answers
    # a later part carries the first part's words: its own question is the day
    later = question_parts("黄河方案的文号是啥?哪天发布的?")[1]
    assert read(later, None).particulars == ("date",)
    # both asked in one part: both kinds
    assert read("那个方案的文号是多少,啥时候印发的", None).particulars == ("number", "date")
    # who made a proposal: its reply's addressee; not who drew up a plan
    assert read("低碳产业集聚区那个提案是哪位委员提的?", None).particulars == ("addressee",)
    assert read("低碳产业集聚区这个提案是哪个民主党派提的?", None).particulars == ("addressee",)
    assert read("这个实施方案是谁提出的?", None).particulars == ()


def test_when_is_asked_without_a_unit():
    # 啥时候 with no unit: a date or a time word answers (rag/evidence.py says_when) ...
    assert read("环保评估是啥时候做?", None).when and read("规划是啥时候提出的?", None).when
    # ... while a completion, an issue or an event asks for a year or a month, as a unit
    assert not read("T3线啥时候能通车?", None).when and figure_units("T3线啥时候能通车?")
    assert re.search(figure_units("规划是什么时候印发的?"), "2024年1月,省委、省政府印发《郑州都市圈发展规划》")
    assert not re.search(figure_units("方案什么时候印发?"), "目前,方案初稿已通过省碳办审查")
    assert not read("哪天发布的?", None).when and read("哪天发布的?", None).day
    assert figure_units("郑州有哪几家企业入选?") is None  # asks for the companies, not a count of 家


def test_what_is_measured_fixes_the_unit_in_the_clause_asking():

    assert re.search(figure_units("创业担保贷款的利率是多少?"), "利率4.35%")
    assert not re.search(figure_units("创业担保贷款的利率是多少?"), "发放创业担保贷款13.46亿元以上")
    assert re.search(figure_units("这41个项目总投资多少?"), "总投资250亿元")
    assert not re.search(figure_units("这41个项目总投资多少?"), "等41个重大项目")
    assert figure_units("新乡过滤产业园总投资,工业用地再加多少年?") is None  # the subject's measure isn't asked


def test_the_names_of_things_counted_are_asked():

    assert counted_asked("那23个和美乡村示范村具体是哪些村?") == 23
    assert counted_asked("两个国家级孵化器叫啥名字?") == 2 and counted_asked("四大主导产业是哪些?") == 4
    assert counted_asked("十二个项目是哪些?") == 12 and counted_asked("那11家分别是怎么处理的?") == 0
    assert counted_asked("2024年新建5G基站多少个?") == 0
    assert counted_asked("整合后那17家开发区具体是哪17家?") == 17  # 哪17家 asks their names


def test_a_phone_number_asked_for_is_answered_by_one():

    unit = figure_units("都市圈建设工作办公室的联系电话是多少?")
    assert re.search(unit, "联系电话:0371-67181234") and re.search(unit, "13812345678")
    assert not re.search(unit, "争取成立郑州都市圈建设工作办公室,2024年建成5G基站4.8万个")
    # A proposal's number has as many digits as a phone number.
    assert not re.search(unit, "关于市政协十五届二次会议第20240289号提案的回复")


def test_which_figure_of_a_measure_is_asked():

    assert aspects("郑州现在已经建成了多少座加氢站?") == ("reached",)
    assert aspects("郑州全市现在总共有多少家A级物流企业?") == ("total",)
    assert aspects("创业担保贷款个人最多能贷多少?") == ("each",)
    assert aspects("2024年郑州计划新建多少座加氢站?") == ()
    # 实际使用外资 is a measure's name, not a figure reached
    assert aspects("新能源汽车实际产量是多少?") == ("reached",) and aspects("实际使用外资要增长多少?") == ()
    # The total of what the question counts as added, and a subject's word before the asking clause.
    assert aspects("公共设施领域新开工的重大项目一共多少个?") == ()
    assert aspects("免证可办累计到多少项,跨省通办又新增多少个?") == ()


def test_money_asked_wants_a_figure_in_yuan():

    unit = figure_units("登封刚玉企业整合关停,企业拿到了多少补偿款?")
    assert re.search(unit, "运用国家、市两级政府资金1734万元")
    assert not re.search(unit, "刚玉产能由过去的108.6万吨下降至73.6万吨")
    assert figure_units("居民消费价格怎么样?") is None  # a price index, not money


def test_whether_a_figure_went_up_or_down_asks_its_change():
    assert asks_change("服务业增加值比上年增长了多少?") and asks_change("郑州地铁票价今年会涨吗?")
    assert asks_change("2023年郑州物价是涨了还是跌了?") and asks_change("外资多少?物价是涨是跌?")
    assert not asks_change("服务业增加值是多少?") and not asks_change("城区里的重污染工厂都搬走了吗?")


def test_a_part_asked_of_a_whole_the_question_states():
    assert wholes("退出耐材产能用的那1734万元里,省级资金占多少?") == (("1734", "万元"),)
    assert wholes("规划的55座加氢站里航空港区建几座?") == (("55", "座"),)
    assert wholes("专栏1里工业领域有多少个重大续建项目?") == ()  # a box's number, no whole
    assert wholes("那1734万元里都干了啥?") == ()  # asks no figure


def test_a_body_asked_for():
    assert all(asks_organisation(q) for q in ["哪个部门牵头?", "董建山委员是哪个党派的", "是什么单位提的?"])
    # a company goes by its brand (千味央厨, 华为): no kind of name to want
    assert not any(asks_organisation(q) for q in ["依托哪些企业?", "靠哪家公司带动?", "哪家要创建智慧商店?"])


def test_where_an_event_is_held_is_asked():
    assert all(asks_venue(q) for q in ["市运会在哪个体育场?", "在哪儿办", "在哪个区举办?", "是在哪个场馆开的?"])
    # where a thing is, not where it is held
    assert not any(asks_venue(q) for q in ["办公室设在哪个部门?", "储能项目分别在哪?", "私募基金集聚区放在哪?"])


def test_a_placeholder_stands_for_quoted_names():
    import re

    for question in ["郑州要打造哪些“XX之城”?", "郑州老说要打造什么什么“之城”,都有哪些?"]:
        pattern = template(question)
        assert re.search(pattern, "聚焦建设“新能源汽车之城”,加快比亚迪") and not re.search(pattern, "打造汽车城")
    assert template("郑州要打造哪些城市?") is None


def test_the_title_of_the_person_asked_is_read_whole():
    from rag.answer_kind import person_asked

    assert person_asked("那位常务副市长叫什么名字?") == "常务副市长"
    assert person_asked("领导小组的双组长是谁啊") == "组长"
    assert person_asked("民建郑州市委员会的主委是谁?") == "主委"
    assert person_asked("这个提案是哪位委员提的?") == "委员"
    assert person_asked("哪个部门牵头?") == ""
