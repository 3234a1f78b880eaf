"""Scoring evidence: a sentence that can't answer what is asked keeps only part of its support."""

import pytest

from rag.evidence import gather_evidence


def test_a_figure_about_the_other_side_does_not_answer(fake_pipeline):
    # The plan gives 一般公共预算收入 (revenue), never 支出 (spending).
    revenue = fake_pipeline().ask("2024年郑州一般公共预算收入增长多少?")
    spending = fake_pipeline().ask("2024年郑州一般公共预算支出增长多少?")
    assert "3%以上" in revenue.text
    assert spending.support < revenue.support * 0.6


def support(pipe, question: str, sentence_part: str, top_k: int | None = None) -> float:
    """The score of the evidence sentence holding `sentence_part`, for the question."""
    evidence = gather_evidence(question, pipe.retrieve(question, top_k=top_k), pipe.index, pipe.embedder)
    return next(e.score for e in evidence if sentence_part in e.sentence)


@pytest.mark.parametrize(
    "asked, plain, sentence_part",
    [
        # The plan gives the revenue's growth (3%), never its total in 亿.
        ("2024年郑州一般公共预算收入是多少亿?", "2024年郑州一般公共预算收入是多少?", "一般公共预算收入增长3%以上"),
        # The 2023 results give its growth (3.1%); their 亿 is foreign investment's (2.3亿美元).
        ("2023年郑州一般公共预算收入是多少亿?", "2023年郑州一般公共预算收入是多少?", "一般公共预算收入增长3.1%"),
        # A rate is a share: 13.46亿元 of loans gives none.
        ("创业担保贷款的利率是多少?", "创业担保贷款是多少?", "力争发放创业担保贷款13.46亿元以上"),
        # The 23 villages are counted, never named.
        ("那23个和美乡村示范村具体是哪些?", "和美乡村示范村具体是哪些?", "巩固提升23个和美乡村示范村建设成果"),
        # The fund is named, its size never given: the sentence has no figure at all.
        ("都市圈产业合作发展基金规模有多大?", "都市圈产业合作发展基金规模怎么样?", "探索设立郑州都市圈产业合作发展"),
        # 8072.2亿元 is the 服务业's 增加值, not the 工业's.
        ("2023年郑州工业增加值是多少亿元?", "2023年郑州服务业增加值是多少亿元?", "其中服务业增加值8072.2亿元"),
        # A change asked: 8072.2亿元 is the level, not how much it grew.
        ("2023年郑州服务业增加值比上年增长了多少?", "2023年郑州服务业增加值是多少?", "其中服务业增加值8072.2亿元"),
        # The event's year is no figure of it: how many projects were signed is never said.
        (
            "2024全球豫商大会都市圈产业对接会签了多少个项目?",
            "2024全球豫商大会都市圈产业对接会怎么样?",
            "成功举办2024全球豫商大会",
        ),
        # 55 stations are planned; how many are built is never said.
        ("郑州现在已经建成了多少座加氢站?", "郑州要建设多少座加氢站?", "规划建设加氢站55座"),
        # 10 logistics firms are to be added this year; the total is never given.
        ("郑州全市现在总共有多少家A级物流企业?", "郑州要培育多少家A级物流企业?", "新培育A级物流企业10家以上"),
        # 13.46亿元 is the loans' sum, not what one person may borrow.
        ("创业担保贷款个人最多能贷多少?", "创业担保贷款能贷多少?", "力争发放创业担保贷款13.46亿元以上"),
        # The 2023 results don't give this year's target.
        ("今年郑州实际使用外资目标是多少亿美元?", "2023年郑州实际吸收外资是多少亿美元?", "实际吸收外资2.3亿美元"),
        # A sentence of the 2024 tasks (its heading names the year) is no count of last year's trains.
        ("去年郑州中欧班列一共开了多少班?", "今年郑州中欧班列要开多少班?", "开行中欧班列3000班次以上"),
        # Whether fares go up asks a change: a sentence about building lines gives none.
        ("郑州地铁票价今年会涨吗?", "郑州地铁今年有什么建设?", "谋划推进郑州市域铁路S2线"),
        # The two incubators are counted, never named; the items listed are services.
        ("新乡高新区那两个国家级孵化器叫什么名字?", "新乡高新区那两个国家级孵化器干什么?", "以现有两个国家级孵化器"),
        # The reply thanks its addressee by name; which body he belongs to is never said.
        ("董建山委员是哪个党派的?", "董建山委员说了什么?", "尊敬董建山委员,再次感谢您的宝贵建议"),
        # The plan names the games it will hold, not where they are held.
        ("第十二届市运会在哪个体育场举办?", "第十二届市运会怎么举办?", "办好第十二届市运会"),
    ],
)
def test_a_sentence_without_what_is_asked_does_not_answer(fake_pipeline, asked, plain, sentence_part):
    pipe = fake_pipeline()
    assert support(pipe, asked, sentence_part) < 0.7 * support(pipe, plain, sentence_part)


def test_a_heading_or_a_box_title_is_never_an_answer_sentence(fake_pipeline):
    pipe = fake_pipeline()
    for question in ["郑州去年固定资产投资涨了多少?今年打算涨多少?", "2024年郑州固定资产投资专栏有哪些领域?"]:
        evidence = gather_evidence(question, pipe.retrieve(question, top_k=10), pipe.index, pipe.embedder)
        headings = {p.text for d in pipe.index.documents.values() for p in d.paragraphs if p.is_heading}
        assert evidence and not any(e.sentence in headings or e.sentence.startswith("专栏") for e in evidence)


def test_who_or_which_day_is_not_answered_by_a_sentence_without_one(fake_pipeline):
    pipe = fake_pipeline()
    # The plan names the 第十二届市运会 but not its date; the Xinxiang group, not its head.
    for asked, plain, part in [
        ("第十二届市运会是几号开幕?", "第十二届市运会怎么办?", "办好第十二届市运会"),
        ("高新区黄河工作领导小组的组长是谁?", "高新区黄河工作领导小组怎么建立?", "工作领导小组,建立工作推进机制"),
    ]:
        assert support(pipe, asked, part) < 0.7 * support(pipe, plain, part)


def test_a_person_asked_for_is_named_in_the_clause_of_their_title(fake_pipeline):
    pipe = fake_pipeline()
    # One sentence names the two 组长 (安伟书记、何雄市长) and, in a clause of its
    # own, the 办公室主任 only by post (由常务副市长兼任办公室主任).
    part = "由常务副市长兼任办公室主任"
    plain = support(pipe, "郑州双碳领导小组是怎么安排的?", part)
    assert support(pipe, "郑州双碳领导小组的组长是谁?", part) > 0.9 * plain
    assert support(pipe, "郑州双碳领导小组办公室主任是谁?", part) < 0.7 * plain
    # The title is read whole: 何雄市长 is no 常务副市长.
    named = "由安伟书记、何雄市长担任双组长"
    plain = support(pipe, "郑州双碳领导小组是怎么安排的?", named)
    assert support(pipe, "郑州双碳领导小组那位常务副市长叫什么名字?", named) < 0.7 * plain


def test_a_member_asked_for_is_named_not_their_committee(fake_pipeline):
    pipe = fake_pipeline()
    # 委员会 is a body; 哪位委员 asks for a person (尊敬的董建山委员).
    committee = "感谢九三学社郑州市委员会对郑州市绿色低碳高质量发展的关心和支持"
    asked, plain = "低碳产业集聚区的提案是哪位委员提的?", "低碳产业集聚区的提案是怎么提的?"
    assert support(pipe, asked, committee) < 0.7 * support(pipe, plain, committee)
    asked = "加快产业结构调整的提案是哪位委员提的?"
    evidence = gather_evidence(asked, pipe.retrieve(asked, top_k=10), pipe.index, pipe.embedder)
    assert "董建山委员" in evidence[0].sentence


def test_a_day_is_dated_in_a_clause_about_what_is_asked(fake_pipeline):
    pipe = fake_pipeline()
    # 2024年1月 dates the 规划 its sentence is about, not the 豫商大会 named in the paragraph.
    part = "2024年1月,省委、省政府印发"
    asked, plain = "2024全球豫商大会都市圈产业对接会是哪天开的?", "2024全球豫商大会都市圈产业对接会是怎么开的?"
    assert support(pipe, asked, part, top_k=10) < 0.7 * support(pipe, plain, part, top_k=10)


def test_when_is_answered_by_a_sentence_that_says_when(fake_pipeline):
    pipe = fake_pipeline()
    asked, plain = "郑州都市圈发展规划是什么时候印发的?", "郑州都市圈发展规划是怎么印发的?"
    dated, undated = "2024年1月,省委、省政府印发", "郑州市围绕落实《郑州都市圈发展规划》"
    assert support(pipe, asked, dated) > 0.8 * support(pipe, plain, dated)
    assert support(pipe, asked, undated) < 0.7 * support(pipe, plain, undated)


def test_a_documents_number_or_date_is_answered_by_the_line_stating_it(fake_pipeline):
    pipe = fake_pipeline()
    for question, line in [
        ("新乡高新区那个黄河生态保护实施方案的文号是多少?", "新开〔2020〕26号"),
        ("新乡高新区推进黄河流域生态保护那个方案,文号是啥?", "新开〔2020〕26号"),
        ("新乡高新区这个黄河保护方案是啥时候发的?", "发布日期:2020-04-02"),
    ]:
        answer = pipe.ask(question)
        # led by the line, set apart from what follows (it has no end mark of its own)
        assert answer.text.startswith(f"{line}[1]；") and not answer.refused, answer.text


def test_a_passage_saying_this_year_answers_this_year(seeds_copy, tmp_path):
    # 今年 in a question names the documents' year (2024); a passage's own 今年 is read alike.
    from rag import Pipeline

    from .conftest import fake_settings

    (seeds_copy / "口袋公园.txt").write_text("一、口袋公园\n郑州市今年新增口袋公园37个。", encoding="utf-8")
    pipe = Pipeline(fake_settings(seeds_copy, tmp_path / "idx"))
    question = "郑州市今年新增口袋公园多少个?"
    evidence = gather_evidence(question, pipe.retrieve(question), pipe.index, pipe.embedder)
    assert any("37个" in e.sentence for e in evidence)
    assert pipe.index.synonyms.dated(question).startswith("郑州市2024年")  # what 今年 stands for here


def test_who_made_a_proposal_is_answered_by_its_replys_addressee(fake_pipeline):
    pipe = fake_pipeline()
    answer = pipe.ask("这个低碳产业集聚区的提案是谁提的?提案编号多少")
    assert answer.text.startswith("九三学社郑州市委员会:[1]") and "第20230294号" in answer.text, answer.text
    # the addressee line answers nothing else
    question = "低碳产业集聚区的提案有什么建议?"
    evidence = gather_evidence(question, pipe.retrieve(question), pipe.index, pipe.embedder)
    assert evidence and not any(e.sentence.startswith("九三学社郑州市委员会") for e in evidence)


def test_a_box_items_sentences_are_read_with_its_label(fake_pipeline):
    answer = fake_pipeline().ask("公共设施补短板领域新开工多少个重大项目?")
    assert not answer.refused and "26个重大项目" in answer.text.split("[1]")[0], answer.text


def test_an_items_label_is_read_as_its_sentences_subject(fake_pipeline):
    # 二是持续推进碧水工程。加强赵定河、东孟姜女河的管护工作: the label names
    # what the sentence naming the rivers is about.
    answer = fake_pipeline().ask("高新区碧水工程主要管哪几条河?")
    assert answer.text.startswith("加强赵定河、东孟姜女河的管护工作"), answer.text


def test_a_subject_given_ranks_a_part_by_its_own_words(fake_pipeline):
    # 技术合同成交额又突破了多少, read with the subject of 金融业增加值是多少:
    # given that subject, the sentence about 技术合同成交额 comes first.
    pipe = fake_pipeline()
    part = "金融业增加值技术合同成交额又突破了多少?"
    hits = pipe.retrieve(part)
    bare = gather_evidence(part, hits, pipe.index, pipe.embedder)
    given = gather_evidence(part, hits, pipe.index, pipe.embedder, given="金融业增加值是多少?")
    assert "1493.2亿元" in bare[0].sentence and "650亿元" in given[0].sentence
    assert {e.sentence: e.score for e in bare} == {e.sentence: e.score for e in given}  # support is unchanged


def test_a_sentence_naming_as_many_as_counted_answers_for_them(fake_pipeline):
    pipe = fake_pipeline()
    listing = "动力电池与新能源汽车、生命科学与生物技术、航空航天、大数据等四大主导产业"
    counted = support(pipe, "新乡高新区的四大主导产业是哪些?", listing)
    assert counted >= support(pipe, "新乡高新区的主导产业是哪些?", listing)


def test_a_typo_names_no_other_owner(fake_pipeline):
    # 博土 is no word of the documents: 博士及以上优秀青年人才 still answers 博土人才.
    pipe = fake_pipeline()
    typo = support(pipe, "今年郑州要引进多少博土人才?", "引进博士及以上优秀青年人才1000名")
    assert typo > 0.7 * support(pipe, "今年郑州要引进多少博士人才?", "引进博士及以上优秀青年人才1000名")


def test_a_replys_own_date_is_found_wherever_its_line_is(fake_pipeline):
    pipe = fake_pipeline()
    answer = pipe.ask("我想知道都市圈那个提案是哪个单位提的,答复是哪天发的?")
    assert "民建郑州市委员会" in answer.text and "2024年9月21日" in answer.text, answer.text
    # a plan the reply names is not dated by the reply's signature
    question = "郑州市碳达峰实施方案是哪天正式印发的?"
    evidence = gather_evidence(question, pipe.retrieve(question), pipe.index, pipe.embedder)
    assert not any(e.sentence == "2023年7月20日" for e in evidence)


def test_a_development_zone_named_must_be_the_passages_zone(fake_pipeline):
    # The Xinxiang plan is the 高新区's; it says nothing of a 经开区 there.
    pipe = fake_pipeline()

    def evidence(question):
        return gather_evidence(question, pipe.retrieve(question), pipe.index, pipe.embedder)

    assert any("黄河" in e.sentence for e in evidence("新乡高新区推进黄河流域生态保护有哪些重点工作?"))
    assert not any("黄河" in e.sentence for e in evidence("新乡经开区推进黄河流域生态保护有哪些重点工作?"))


def test_words_the_documents_never_write_do_not_dilute_what_a_figure_is_about(fake_pipeline):
    # 最近在看房, 我想知道: no clause could name them, so the figure's clause still names the question.
    answer = fake_pipeline().ask("最近在看房。我想知道今年全市商品房销售面积目标定的多少?")
    assert not answer.refused and "1200万平方米" in answer.text


def test_a_box_item_the_question_names_beats_another_fields(fake_pipeline):
    # 专栏1 lists each field's projects under its label (▲工业和产业园投资领域。…);
    # 金科智慧城产业园区 names 产业园 too, but is of 城市有机更新领域.
    pipe = fake_pipeline()
    question = "专栏1里工业和产业园投资领域有多少个重大续建项目?"
    evidence = gather_evidence(question, pipe.retrieve(question, top_k=10), pipe.index, pipe.embedder)
    ongoing = [e.sentence for e in evidence if "重大续建项目" in e.sentence]
    assert "82个" in ongoing[0], ongoing
    # so in a long question, whose other words the label doesn't name
    question = "固投专栏里,工业和产业园领域续建和新开工的重大项目各有多少个?"
    evidence = gather_evidence(question, pipe.retrieve(question, top_k=10), pipe.index, pipe.embedder)
    started = sorted((e for e in evidence if "新开工" in e.sentence), key=lambda e: -e.score)
    assert "41个" in started[0].sentence and started[0].score > 1.5 * started[1].score, [e.sentence for e in started]


def test_a_documents_places_are_those_it_keeps_returning_to(fake_pipeline):
    from rag.evidence import doc_places

    documents = fake_pipeline().index.documents
    # the city's plan names 中牟, 巩义 and 航空港 now and then, 郑州 throughout
    assert doc_places(documents["004_7c7b9bfef2df6a5e.txt"]) == ("郑州",)
    # the Xinxiang zone's plan is about both
    assert set(doc_places(documents["003_747546d740942ae9.txt"])) == {"新乡", "高新区"}


def test_a_district_the_city_plan_only_names_elsewhere_is_not_its_subject(fake_pipeline):
    # 446万亩 is the city's sown area; 中牟县's is never given
    answer = fake_pipeline().ask("中牟县今年粮食播种面积目标是多少万亩?")
    assert "446万亩" not in answer.text
