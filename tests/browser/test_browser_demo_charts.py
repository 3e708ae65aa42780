"""The dashboard's charts in headless Chromium on a 390 px phone: the boxes the browser actually draws for each
chart text stay inside the chart and apart from one another (the server estimates text widths; this checks
the estimate against real fonts)."""
import pytest

from tests.browser.conftest import unique

pytestmark = pytest.mark.browser

TEXT_BOXES = """() => [...document.querySelectorAll('svg.tb-chart')].map(svg => {
  const view = svg.viewBox.baseVal;
  return {id: svg.id, width: view.width, height: view.height,
          shown: svg.getBoundingClientRect().width,
          texts: [...svg.querySelectorAll('text')].map(t => {
            const b = t.getBBox();
            return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height,
                    px: parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width / view.width};
          })};
})"""


def _overlap(a, b) -> bool:
    # a pixel of tolerance: glyph boxes of neighbouring lines may touch
    return a["x"] + 1 < b["x"] + b["w"] and b["x"] + 1 < a["x"] + a["w"] and \
        a["y"] + 1 < b["y"] + b["h"] and b["y"] + 1 < a["y"] + a["h"]


def test_dashboard_chart_labels_do_not_overlap_on_a_phone(page, live_server, steps):
    org_id, _ = live_server.member("firm")
    word = unique()
    for n, code in enumerate(("D1.ivd", "D2.ai_diagnosis", "D3.iot", "D4.air", "D5.supply_chain")):
        for k in range(n + 1):
            live_server.offer(org_id, f"图表测试{word}{n}{k}", f"Chart test {word} {n} {k}", field_codes=(code,))
    operator = live_server.user(roles=("operator",))
    page.set_viewport_size({"width": 390, "height": 844})
    steps.log_in(page, operator)
    for lang in ("zh", "en"):  # Chinese labels are wide, English ones long
        page.goto(f"/lang/{lang}?next=/operator/")
        _assert_readable(page.evaluate(TEXT_BOXES))


def _assert_readable(charts) -> None:
    assert {"chart-direction", "chart-kind", "chart-funnel", "chart-trend-catalogue"} <= {c["id"] for c in charts}
    for chart in charts:
        assert chart["shown"] <= 390
        for t in chart["texts"]:
            assert t["x"] >= -1 and t["x"] + t["w"] <= chart["width"] + 1, (chart["id"], t)
            assert t["px"] >= 10, (chart["id"], t)  # readable on the phone
        for i, a in enumerate(chart["texts"]):
            for b in chart["texts"][i + 1:]:
                assert not _overlap(a, b), (chart["id"], a, b)
