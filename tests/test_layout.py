from rag.layout import Line, paragraphs


def page(n: int, rows: list[tuple[str, float, float]]) -> list[Line]:
    """Lines of 10-point characters: (text, x0, x1), 18 points apart."""
    return [Line(t, x0, x1, 40 + 18 * i, 50 + 18 * i, n) for i, (t, x0, x1) in enumerate(rows)]


def test_wrapped_lines_join_and_furniture_goes():
    one = page(
        1,
        [
            ("郑州市人民政府文件", 200, 290),
            ("一、总体要求", 60, 120),
            ("坚持稳中求进工作总基调，完整准确全面贯彻新发", 80, 500),
            ("展理念。", 60, 100),
            ("二、主要目标", 60, 120),
            ("地区生产总值增长7%左右，一般公共预算收入增", 80, 500),
            ("— 1 —", 280, 310),
        ],
    )
    two = page(2, [("郑州市人民政府文件", 200, 290), ("长5%。", 60, 110), ("第 2 页", 280, 310)])
    assert paragraphs([one, two]) == [
        ("一、总体要求", 1),
        ("坚持稳中求进工作总基调，完整准确全面贯彻新发展理念。", 1),
        ("二、主要目标", 1),
        ("地区生产总值增长7%左右，一般公共预算收入增长5%。", 1),  # across the page break
    ]


def test_a_heading_after_a_full_line_ending_a_sentence_starts_anew():
    rows = [("全市新增城镇就业12万人，城镇调查失业率控制在5.5%以内。", 60, 500), ("1.稳定就业", 60, 110)]
    rows += [("规上工业增加值增长8%，一是抓项目，二是抓企业，三是抓", 60, 500), ("一是抓招商。", 60, 120)]
    assert [t for t, _ in paragraphs([page(1, rows)])] == [
        rows[0][0],
        "1.稳定就业",
        "规上工业增加值增长8%，一是抓项目，二是抓企业，三是抓一是抓招商。",  # 一是 runs on in a paragraph
    ]
