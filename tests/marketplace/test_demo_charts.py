"""Server-rendered SVG charts: every text box inside the chart, no two overlapping, whatever the labels."""
import itertools
import re

import pytest

from marketplace import charts

LONG_ZH = "检测诊断、治疗及防护药品和医疗器械（第一批重点支持方向）"
LONG_EN = "Big data, IoT, 5G, high-end chips and virtual reality applied at the front line"


def assert_readable(chart: charts.Chart) -> None:
    """The promise the layouts make: texts stay in the chart and never overlap one another."""
    assert chart.boxes, "a chart with data has texts"
    for text, box in chart.boxes:
        assert box.inside(chart.width, chart.height), f"{text!r} leaves the chart: {box}"
    for (a, box_a), (b, box_b) in itertools.combinations(chart.boxes, 2):
        assert not box_a.overlaps(box_b), f"{a!r} {box_a} overlaps {b!r} {box_b}"
    svg = str(chart.svg())
    assert "<script" not in svg and "style=" not in svg  # the CSP allows neither inline
    assert f'viewBox="0 0 {charts.WIDTH} ' in svg and 'width="100%"' in svg
    assert min(float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)) >= 11  # readable at 390 px


def test_boxes_detect_overlap_and_containment():
    a = charts.Box(0, 0, 10, 10)
    assert a.overlaps(charts.Box(5, 5, 10, 10)) and not a.overlaps(charts.Box(10, 0, 5, 5))
    assert a.inside(10, 10) and not charts.Box(-1, 0, 5, 5).inside(10, 10)


def test_text_width_counts_chinese_characters_as_wide():
    assert charts.text_width("检测", 12) >= 24  # at least one em each (Chromium draws exactly one)
    assert charts.text_width("ab", 12) < 24 and charts.text_width("WM", 12) > charts.text_width("il", 12)
    assert charts.fit(LONG_ZH, 100).endswith("…") and charts.text_width(charts.fit(LONG_ZH, 100)) <= 100


@pytest.mark.parametrize("rows", [
    [(LONG_ZH, 152), (LONG_EN, 3), ("D5", 0), ("新产品", 151)],
    [("一", 1)],
    [(f"第{n}批：{n * 40}项抗疫新技术、新产品、新服务", n * 40) for n in range(1, 9)],
])
def test_bar_chart_labels_never_overlap_bars_values_or_each_other(rows):
    chart = charts.bar_chart("c", "标题", rows)
    assert_readable(chart)
    assert len(chart.boxes) == 2 * len(rows)  # a label and a value per row


def test_bar_value_goes_inside_a_full_width_bar():
    chart = charts.bar_chart("c", "t", [("a", 1000000), ("b", 1)])
    assert_readable(chart)
    assert 'fill="#ffffff">1000000<' in str(chart.svg())


@pytest.mark.parametrize("count", [1, 2, 6, 12, 26, 52])
def test_trend_labels_are_thinned_until_they_fit(count):
    periods = [f"2026-{(i % 12) + 1:02d}" for i in range(count)]
    chart = charts.trend_chart("t", "趋势", periods, [
        ("已发布成果 Offers published", [i * 7 % 40 for i in range(count)]),
        ("新增需求", [i % 5 for i in range(count)]), ("对接 Introductions proposed", [0] * count),
        ("签约", [1] * count), ("活动报名 Event registrations", [i * 30 for i in range(count)])])
    assert_readable(chart)
    shown = [text for text, _ in chart.boxes if text in periods]
    assert periods[-1] in shown  # the latest month is always labelled
    assert (len(shown) == count) == (count <= 6)  # 12 labels like 2026-01 need more than 360 units


def test_trend_chart_handles_all_zero_series():
    assert_readable(charts.trend_chart("t", "t", ["2026-01", "2026-02"], [("x", [0, 0])]))


def test_funnel_narrows_with_counts_and_shows_conversion():
    steps = [("Pairings shown 匹配展示", 900, None), ("Introductions proposed", 100, 0.11), ("Accepted", 80, 0.8),
             ("Meetings", 40, 0.5), (LONG_EN, 12, 0.3), ("Signed", 0, 0.0), ("per broker", None, None)]
    chart = charts.funnel_chart("f", "漏斗", steps)
    assert_readable(chart)
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', str(chart.svg()))]
    assert widths == sorted(widths, reverse=True) and widths[0] == charts.WIDTH
    texts = [t for t, _ in chart.boxes]
    assert "100 · 11 %" in texts and "—" in texts


def test_text_is_escaped():
    svg = str(charts.bar_chart("c", "<t>", [("<script>alert(1)</script>", 1)]).svg())
    assert "<script>" not in svg and "&lt;script&gt;" in svg
