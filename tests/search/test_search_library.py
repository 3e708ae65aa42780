"""Library-level tests: purity, spec validation, text helpers, CLI, embedded specifics."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from search import IndexSpec, SearchError, SearchQuery, SearchUnavailable, create_backend
from search.text import edit1_variants, highlight_text, parse_query

REPO = Path(__file__).resolve().parents[2]


def test_library_never_imports_flask_or_marketplace():
    code = ("import sys, search, search.meili_backend, search.sqlite_backend, search.postgres_backend,"
            " search.testing, search.__main__; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'marketplace')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_spec_validation():
    with pytest.raises(SearchError):
        IndexSpec(name="Bad Name", searchable=["title"])
    with pytest.raises(SearchError):
        IndexSpec(name="x", searchable=["title"], filterable=["a"], facets=["b"])
    spec = IndexSpec(name="x", searchable=["body", "title_en"], synonyms={"a": ["b"], "c": ["b", "d"]})
    assert spec.suggest_fields == ("title_en",)
    assert spec.synonym_groups() == [["a", "b", "c", "d"]]
    assert IndexSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_query_validation():
    with pytest.raises(SearchError):
        SearchQuery(sort=["title:up"]).parsed_sort()
    with pytest.raises(SearchError):
        SearchQuery(filters={"trl": {"above": 3}}).normalized_filters()
    assert SearchQuery(filters={"kind": "x"}).normalized_filters() == {"kind": ["x"]}


def test_parse_query_synonyms_and_scripts():
    groups = parse_query("ＰＣＲ 呼吸机 ventilators", [["核酸检测", "PCR"]])
    assert [g.alternatives for g in groups] == [["核酸检测", "pcr"], ["呼吸机"], ["ventilators"]]
    assert groups[2].typo_source == "ventilators"
    assert [g.alternatives for g in parse_query("pcr检测")] == [["pcr"], ["检测"]]
    assert "ventilator" in edit1_variants("ventilater")


def test_highlight_text_escapes_and_crops():
    assert highlight_text("<b>PCR</b> & co", ["pcr"]) == "&lt;b&gt;<mark>PCR</mark>&lt;/b&gt; &amp; co"
    assert highlight_text("nothing", ["pcr"]) is None
    cropped = highlight_text("x" * 100 + " PCR " + "y" * 100, ["pcr"], crop_chars=30)
    assert cropped.startswith("…") and cropped.endswith("…") and "<mark>PCR</mark>" in cropped


def test_embedded_table_names_and_structural_spec_change(tmp_path, search_spec, search_corpus):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    backend = create_backend(engine=engine, index_prefix="tb_")
    backend.ensure_index(search_spec)
    backend.upsert("offers", search_corpus)
    tables = set(sa.inspect(engine).get_table_names())
    assert "search_indexes" in tables
    assert all(t.startswith("search_") for t in tables)
    # Adding a filterable field re-derives the index from the stored documents.
    wider = IndexSpec(**{**search_spec.to_dict(), "filterable": [*search_spec.filterable, "org_name"],
                         "facets": list(search_spec.facets)})
    backend.ensure_index(wider)
    assert backend.count("offers") == len(search_corpus)
    result = backend.search("offers", SearchQuery(filters={"org_name": ["Zhongguancun Medical"]}))
    assert result.ids == ["o2"]


def test_chinese_recall_fallback_uses_jieba_words(tmp_path, search_spec, search_corpus):
    backend = create_backend(engine=sa.create_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    backend.ensure_index(search_spec)
    backend.upsert("offers", search_corpus)
    # "医学诊断" is not a substring anywhere; its jieba words 医学 + 诊断 are (o7).
    assert backend.search("offers", SearchQuery(q="医学诊断")).ids == ["o7"]


def test_unreachable_postgres_raises_search_unavailable(search_spec):
    backend = create_backend(database_url="postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    with pytest.raises(SearchUnavailable):
        backend.ensure_index(search_spec)
    assert backend.health()["ok"] is False


def test_cli_query_and_health(tmp_path, search_spec, search_corpus):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    backend = create_backend(database_url=url)
    backend.ensure_index(search_spec)
    backend.upsert("offers", search_corpus)
    backend.close()
    run = lambda *args: subprocess.run([sys.executable, "-m", "search", "--db", url, *args], cwd=REPO,
                                       capture_output=True, text=True, timeout=60)
    out = run("query", "--index", "offers", "--filter", "visibility=public", "--json", "核酸检测")
    assert out.returncode == 0, out.stderr
    assert {h["id"] for h in json.loads(out.stdout)["hits"]} == {"o1", "o4"}
    health = run("health")
    assert health.returncode == 0 and json.loads(health.stdout)["indexes"] == {"offers": len(search_corpus)}
    assert run("count", "--index", "offers").stdout.strip() == str(len(search_corpus))
