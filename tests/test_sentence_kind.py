"""What a sentence gives: a person, a time, a document's particulars, a part of
a whole, another's measure, a body, where an event is held, a figure in the unit asked."""

import re

from rag.answer_kind import figure_units, measured
from rag.documents import Document
from rag.sentence_kind import (
    another_aspect,
    gives_change,
    gives_part,
    in_unit,
    names_number,
    names_organisation,
    names_person,
    names_sibling,
    of_another,
    only_another,
    particulars_line,
    says_when,
    says_where_held,
)


def test_a_person_is_named_by_name_and_title():
    assert names_person("郑州市成立了由安伟书记、何雄市长担任双组长的领导小组")
    assert not names_person("领导小组办公室设在市发展改革委,由常务副市长兼任办公室主任。")  # a post
    assert not names_person("成立高新区推进黄河流域生态保护和高质量发展工作领导小组")


def test_a_time_says_when():
    assert says_when("在规划审批前完成规划环评审查") and says_when("2024年1月,省委、省政府印发《郑州都市圈发展规划》")
    assert says_when("发布日期:2020-04-02") and says_when("力争年底建成投用")
    assert not says_when("办好第十二届市运会、中国郑州少林武术节等重大赛事") and not says_when("位居全省前列")


def test_the_lines_stating_a_documents_particulars():
    notice = Document("n.txt", "实施方案的通知", (), doc_no="新开〔2020〕26号", date="2020-04-02", written="2020-03-25")
    assert particulars_line("新开〔2020〕26号", notice, "number")
    assert particulars_line("发布日期:2020-04-02", notice, "date") and particulars_line("2020年3月25日", notice, "date")
    assert particulars_line("2020年3月25日", notice, "signed") and not particulars_line(
        "发布日期:2020-04-02", notice, "signed"
    )
    reply = Document("r.txt", "关于…提案的答复", (), addressee="董建山委员")
    assert particulars_line("关于市政协第十五届一次会议第20230294号提案的回复", reply, "number")
    assert not particulars_line("关于市政协第十五届一次会议第20230294号提案的回复", reply, "date")
    assert particulars_line("尊敬的董建山委员:", reply, "addressee")
    assert not particulars_line("尊敬董建山委员,再次感谢您的宝贵建议。", reply, "addressee")


def test_a_part_of_a_whole_is_another_figure_in_its_unit():
    # 那1734万元里省级占多少: the sentence stating the sum doesn't break it down.
    stated = "运用国家、市两级政府资金1734万元,退出耐材行业过剩产能71.18万吨。"
    assert not gives_part(stated, "1734", "万元")
    assert gives_part("其中省级资金500万元。", "1734", "万元") and gives_part("航空港区建设10座", "55", "座")


def test_a_figure_of_another_measure_of_the_kind_asked():
    # 13617.8亿元 is the 地区生产总值, not the 进出口总值: a compound's head (总值) is owned by its first part.
    sentence = "2023年郑州市地区生产总值13617.8亿元,其中服务业增加值8072.2亿元,占比达到59.3%。"
    corpus = sentence + "进出口总值平稳增长"
    assert only_another(sentence, "2023年郑州进出口总值是多少亿元?", corpus)
    assert not only_another(sentence, "2023年郑州地区生产总值是多少亿元?", corpus)
    assert not only_another(sentence, "2023年郑州经济总量是多少?", corpus)  # names no measure of the sentence
    assert only_another("加快推进外电入郑工程。", "外电是多少?", corpus)  # no figure at all
    # a noun jieba tags as a name (幼儿园) is owned all the same
    clause, corpus = "加快推进100所领航幼儿园", "加快推进100所领航幼儿园,公办幼儿园在园幼儿占比43%以上"
    assert of_another(clause, "要新建多少所公办幼儿园?", corpus)
    assert not of_another(clause, "要建多少所领航幼儿园?", corpus)


def test_a_figure_counting_another_thing_of_the_kind_named():
    plants = "完成泰祥电厂2台13.5万千瓦、东风电厂2台2.5万千瓦机组关停。"
    corpus = plants + "二是推进荣奇(俱进)电厂关停工作。专精特新企业。新认定高新技术企业1980家。规上工业"
    assert names_sibling(plants, "荣奇（俱进）电厂关停的机组容量有多大？", corpus)  # full-width brackets as typed
    assert not names_sibling(plants, "泰祥电厂关停的机组容量有多大？", corpus)
    firms = "2023年,新认定高新技术企业1980家左右。"
    assert names_sibling(firms, "2023年新认定了多少家专精特新企业?", corpus)
    assert not names_sibling(firms, "2023年新认定了多少家高新技术企业?", corpus)
    # 规上 abbreviates 规模以上; a noun after a count (三家企业) is no other kind
    assert not names_sibling("规模以上工业增加值增长12.8%。", "规上工业增加值增长多少?", corpus)
    assert not names_sibling("共有郑州远东等三家企业入选。", "有几家专精特新企业入选?", corpus)
    # the question names both kinds: each figure may be the other's
    projects = "新开工S2线工程等54个重大项目。"
    corpus = "重大续建项目。新开工项目。" + projects
    assert names_sibling(projects, "重大续建项目有多少个?", corpus)
    assert not names_sibling(projects, "重大续建项目和新开工项目各有多少个?", corpus)


def test_a_change_is_a_figure_of_growth_not_a_level():
    assert gives_change("地区生产总值增长7%左右") and gives_change("全年下降2.1个百分点")
    assert not gives_change("服务业增加值8072.2亿元") and not gives_change("持续推进产业转型升级")


def test_a_document_or_proposal_number_is_named():
    assert names_number("新开〔2020〕26号") and names_number("关于市政协第十五届一次会议第20230294号提案的回复")
    assert not names_number("新增20个省级以上智能工厂") and not names_number("2023年7月20日")


def test_a_body_is_named():
    for sentence in [
        "领导小组办公室设在市发展改革委",
        "由区人力资源部负责督查",
        "九三学社郑州市委员会:",
        "支持康佳集团",
        "支持三磨所承担国家超硬材料强链任务",
    ]:
        assert names_organisation(sentence), sentence
    # a post (委员), a layout (布局, 格局), 所 as a word (所有, 场所) or a count (13所) is no body
    for sentence in [
        "尊敬董建山委员,再次感谢您的宝贵建议。",
        "优化产业布局,形成新格局。",
        "所有企业",
        "公共场所",
        "新建10所",
    ]:
        assert not names_organisation(sentence), sentence


def test_where_an_event_is_held_is_said():
    assert says_where_held("大会于郑州国际会展中心隆重举行")
    assert not says_where_held("办好第十二届市运会、中国郑州少林武术节等重大赛事,完成400块体育场地建设")


def test_a_plan_is_another_figure_than_one_reached():
    tasks = "三、2024年国民经济和社会发展主要任务和措施"
    target = "力争新能源汽车产量超过70万辆,产业集群规模达到4000亿元。"
    # in a section of tasks, 达到 states a target; only 已, 累计 or 目前 say what is
    assert another_aspect(("reached",), target, tasks) and not another_aspect(("reached",), target, "一、执行情况")
    assert another_aspect(("reached",), "推动实施100个以上智能化改造项目。", tasks)
    assert not another_aspect(("reached",), "累计建成省级智能工厂180家。", tasks)


def test_a_clause_naming_what_is_measured_gives_the_unit_asked():
    question = "退出耐材过剩产能用了多少政府资金?"
    unit, measure = figure_units(question), measured(question)
    sentence = "运用国家、市两级政府资金1734万元,退出耐材行业过剩产能71.18万吨。"
    about = ["退出耐材行业过剩产能71.18万吨"]  # the clause naming most of the question gives 吨
    assert re.search(measure, "资金") and in_unit(sentence, about, unit, day=False, measure=measure)
    assert not in_unit(sentence, about, unit, day=False)  # without the measure word, only 吨 is about it
    assert not in_unit("退出耐材行业过剩产能71.18万吨。", about, unit, day=False, measure=measure)
    assert measured("补助资金增长多少?") is None  # a change may come as a share
    # any word of the measure names it: 比重 asked, 占比 written
    question = "2023年郑州服务业增加值占GDP比重是多少?"
    sentence = "2023年郑州市地区生产总值13617.8亿元,其中服务业增加值8072.2亿元,占比达到59.3%。"
    about = ["其中服务业增加值8072.2亿元"]
    assert in_unit(sentence, about, figure_units(question), day=False, measure=measured(question))
