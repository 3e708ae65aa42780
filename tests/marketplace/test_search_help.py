"""Search that helps: "did you mean" from the indexed words (homophone typos, pinyin), results for the
correction when nothing was found, popular searches counted without personal data, "post this as a need" on
empty results, and results while typing. Wording is read from the rendered Chinese page."""
from __future__ import annotations

import re
from urllib.parse import unquote

from marketplace.queries import search_help
from marketplace.services import search_terms
from tests.conftest import login


def _catalogue(make):
    org, _, email = make.member("firm")
    kit = make.offer(org, title_zh="核酸检测试剂盒", title_en="Nucleic acid test kit", tags=["核酸检测"])
    ventilator = make.offer(org, title_zh="高流量呼吸机", title_en="High-flow ventilator")
    secret = make.offer(org, status="draft", title_zh="量子纠缠传感器", title_en="Quantum sensor")
    return org, email, kit, ventilator, secret


def _page(client, q, **args) -> str:
    r = client.get("/search/", query_string={"q": q, **args})
    assert r.status_code == 200
    return r.get_data(as_text=True)


def _results(html: str) -> str:
    return html.split('id="search-results"')[1]


def test_typos_that_sound_right_show_the_corrected_results(client, make):
    _, _, kit, ventilator, _ = _catalogue(make)
    html = _page(client, "核算检测")
    assert "没有找到“核算检测”的结果，已为您显示“核酸检测”的结果。" in html
    assert f'href="/offers/{kit}"' in _results(html)
    html = _page(client, "呼吸鸡")
    assert "已为您显示“呼吸机”的结果" in html and f'href="/offers/{ventilator}"' in _results(html)


def test_pinyin_finds_chinese_titles(client, make):
    _, _, kit, _, _ = _catalogue(make)
    html = _page(client, "hesuan")  # the indexed pinyin field answers directly
    assert f'href="/offers/{kit}"' in _results(html) and 'id="search-corrected"' not in html
    html = _page(client, "hes")  # a prefix: found, and the Chinese word is proposed
    assert f'href="/offers/{kit}"' in _results(html)
    assert "您是不是要找" in html and ">核酸</a>" in html.split('id="search-did-you-mean"')[1]
    html = _page(client, "huxiji")
    assert "高流量呼吸机" in _results(html)
    assert "检测诊断、治疗及防护药品和医疗器械 (1)" in html and "D1 (1)" not in html  # no taxonomy codes


def test_did_you_mean_is_offered_beside_results(client, make):
    _, _, _, ventilator, _ = _catalogue(make)
    html = _page(client, "ventilatr")  # found despite the typo; the spelling is still proposed
    assert f'href="/offers/{ventilator}"' in _results(html) and 'id="search-corrected"' not in html
    assert "您是不是要找" in html and ">ventilator</a>" in html


def test_private_titles_never_feed_corrections_or_instant_results(app, client, make):
    _, owner_email, _, _, secret = _catalogue(make)
    with app.app_context():
        vocab = search_help.build_vocabulary()
    assert "量子" not in vocab and "核酸" in vocab
    assert "量子纠缠传感器" not in client.get("/search/instant.json?q=量子").get_data(as_text=True)
    login(client, owner_email)
    assert "量子纠缠传感器" not in client.get("/search/instant.json?q=量子纠缠").get_data(as_text=True)


def test_empty_results_offer_popular_searches_and_posting_a_need(app, client, make):
    _, owner_email, _, _, _ = _catalogue(make)
    for _ in range(2):
        _page(client, "呼吸机")
    _page(client, "Someone@Example.com")  # looks personal: never counted
    _page(client, "13800138000")
    html = _page(client, "量子计算机")
    assert "没有找到" not in html.split('id="search-results"')[0]
    empty = html.split('id="search-empty"')[1]
    assert "还没有相关成果？告诉园区您在找什么" in empty and "将“量子计算机”发布为需求" in empty
    link = re.search(r'id="post-as-need" href="([^"]+)"', empty).group(1)
    assert unquote(link).endswith("/needs/new?title=量子计算机")
    popular = html.split('id="popular-searches"')[1]
    assert "热门搜索" in html and ">呼吸机</a>" in popular
    with app.app_context():
        assert [t.term for t in search_terms.terms()] == ["呼吸机"]
    # a member finding a private draft by its title does not make that title popular
    login(client, owner_email)
    _page(client, "量子纠缠传感器")
    with app.app_context():
        assert [t.term for t in search_terms.terms()] == ["呼吸机"]
    # the need form starts with the words searched for
    form = client.get("/needs/new?kind=procurement&title=量子计算机").get_data(as_text=True)
    assert re.search(r'name="title_zh"[^>]*value="量子计算机"', form)


def test_normalised_terms_keep_no_personal_data():
    assert search_terms.normalized_term("  ＰＣＲ   Kit ") == "pcr kit"
    for personal in ("a@b.cn", "13800138000", "https://example.com", "x" * 41, "a b c d e"):
        assert search_terms.normalized_term(personal) is None


def test_instant_results_while_typing_with_links_and_correction(client, make):
    _, _, kit, _, _ = _catalogue(make)
    data = client.get("/search/instant.json?q=hes").get_json()
    assert {"title": "核酸检测试剂盒", "scope": "成果", "url": f"/offers/{kit}"} in data["results"] or \
        any(r["url"] == f"/offers/{kit}" and r["title"] == "核酸检测试剂盒" for r in data["results"])
    assert data["did_you_mean"] == "核酸" and data["did_you_mean_url"].startswith("/search/?q=")
    assert client.get("/search/instant.json?q=").get_json() == {"results": [], "did_you_mean": None}
    page = _page(client, "")
    assert 'data-instant-url="/search/instant.json"' in page and "js/instant-search.js" in page
    assert "<script>" not in page.split("<body")[1]  # no inline scripts (CSP)


def test_search_filters_sit_in_a_drawer_with_removable_chips(client, make):
    """As in the catalogue: on a phone the filters wait behind a "筛选" button, and each active filter is a chip
    (in words, never a code) whose link removes only that filter."""
    org, _, _, _, _ = _catalogue(make)
    html = _page(client, "呼吸机")
    assert 'id="filters-button"' in html and 'class="offcanvas-lg offcanvas-start filter-drawer"' in html
    assert 'id="active-filters"' not in html  # nothing chosen yet
    kind = re.search(r'name="kind" value="([^"]+)"', html).group(1)
    html = _page(client, "呼吸机", kind=[kind, "not-a-kind"])
    chips = html.split('id="active-filters"')[1].split("</div>")[0]
    assert chips.count('class="badge') == 1  # the hand-typed kind has no label: no chip
    assert "类型：" in chips and kind not in re.sub(r'href="[^"]*"', "", chips)
    link = re.search(r'href="([^"]+)"', chips).group(1).replace("&amp;", "&")
    assert f"kind={kind}" not in link and "q=" in link
    assert ">1</span>" in html.split('id="filters-button"')[1].split("</button>")[0]  # the count on the button
