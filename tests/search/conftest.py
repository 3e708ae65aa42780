"""Fixtures for the search library tests (all prefixed `search_`).

Backends: sqlite (always), postgres (skipped when PostgreSQL is unreachable; URL from
$SEARCH_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test) and
meilisearch (a throwaway server from search.testing; skipped without a binary, except under
CI=true where a missing binary fails the run).
"""
from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa

from search import IndexSpec, create_backend
from search.testing import meilisearch_binary, start_meilisearch

BACKEND_KINDS = ["sqlite", "postgres", "meilisearch"]
PG_URL = os.environ.get("SEARCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

SPEC = IndexSpec(
    name="offers",
    primary_key="id",
    searchable=["title_zh", "title_en", "summary_zh", "summary_en", "body", "tags", "org_name"],
    filterable=["kind", "direction", "field", "status", "visibility", "trl"],
    sortable=["published_at", "title_en", "trl"],
    facets=["kind", "direction", "field", "trl"],
    localized={"cmn": ["*_zh"], "eng": ["*_en"]},
    synonyms={
        "核酸检测": ["PCR", "nucleic acid test"],
        "呼吸机": ["ventilator"],
        "测温": ["temperature screening"],
    },
)

PUBLIC = ["public"]


def _doc(id, title_zh, title_en, kind, direction, field, published_at, visibility=PUBLIC, trl=None, **extra):
    doc = {"id": id, "title_zh": title_zh, "title_en": title_en, "kind": kind, "direction": direction,
           "field": field, "status": "published", "visibility": list(visibility), "published_at": published_at}
    if trl is not None:
        doc["trl"] = trl
    doc.update(extra)
    return doc


CORPUS = [
    _doc("o1", "核酸检测试剂盒", "PCR nucleic acid test kit", "product", "supply", "biomed", "2024-03-01", trl=8,
         summary_en="Rapid kit for district hospitals", tags=["diagnostics", "covid"], org_name="北科生物 BK Bio"),
    _doc("o2", "高流量呼吸机", "High-flow ventilator", "product", "supply", "medical-devices", "2024-01-15", trl=9,
         summary_zh="适用于重症监护", org_name="Zhongguancun Medical"),
    _doc("o3", "红外测温门", "Infrared thermal gate for temperature screening", "product", "supply",
         "medical-devices", "2023-11-02", trl=7),
    _doc("o4", "核酸检测外包服务", "Outsourced PCR service for a district hospital", "service", "demand", "biomed",
         "2024-04-10", body="Hospital seeks a partner lab; 24h turnaround."),
    _doc("o5", "移动核酸检测实验室", "Mobile nucleic acid test lab", "technology", "supply", "biomed",
         "2024-02-20", visibility=["org:5", "role:operator"], trl=6),
    _doc("o6", "实验室机器人", "<script>alert('x')</script> Lab robot & arm", "product", "supply", "robotics",
         "2023-06-01", trl=5, summary_en="Pipetting robot with <b>gripper</b>"),
    _doc("o7", "AI 医学影像辅助诊断", "AI medical imaging diagnosis", "technology", "supply", "ai", "2024-05-05",
         trl=7, tags=["imaging"]),
    _doc("o8", "需求：ICU 呼吸机租赁", "Wanted: ICU ventilator rental", "service", "demand", "medical-devices",
         "2024-05-20"),
    _doc("o9", "可降解支架专利", "Biodegradable stent patent", "patent", "supply", "biomed", "2022-12-12", trl=4),
    _doc("o10", "体温筛查系统", "Body temperature screening system", "product", "supply", "medical-devices",
         "2024-06-01", visibility=["org:7"], trl=8),
    _doc("o11", "传感器融合平台", "Sensor fusion platform", "technology", "supply", "ai", "2023-09-09", trl=6,
         tags=["iot"]),
    _doc("o12", "手术机器人导航", "Surgical robot navigation", "technology", "supply", "robotics", "2024-02-02",
         trl=6, visibility=["public", "org:9"]),
]


def unique_prefix() -> str:
    return f"t{secrets.token_hex(3)}_"


def cleanup(backend) -> None:
    """Drop every index this backend (i.e. its unique prefix) created."""
    for name in list(backend.health().get("indexes") or {}):
        try:
            backend.drop_index(name)
        except Exception:  # best effort
            pass
    backend.close()


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="session")
def search_spec() -> IndexSpec:
    return SPEC


@pytest.fixture(scope="session")
def search_corpus() -> list[dict]:
    """The shared test corpus (do not mutate: copy documents before changing them)."""
    return CORPUS


# --------------------------------------------------------------------------- infrastructure


@pytest.fixture(scope="session")
def search_meili_server(tmp_path_factory):
    """(url, master_key) of a throwaway Meilisearch for the whole session."""
    if meilisearch_binary() is None:
        message = "Meilisearch binary missing: run `make meilisearch` (scripts/get-meilisearch.sh) or set MEILI_BIN"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    url, key, stop = start_meilisearch(tmp_path_factory.mktemp("meili"))
    yield url, key
    stop()


@pytest.fixture(scope="session")
def search_pg_engine():
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # unreachable PostgreSQL is a skip, not a failure
        engine.dispose()
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def search_sqlite_engine(tmp_path_factory):
    engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'search.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def search_make_backend(request):
    """make(kind) -> a new backend with a unique index prefix (cleaned up at session end)."""
    created = []

    def make(kind: str):
        if kind == "sqlite":
            backend = create_backend(engine=request.getfixturevalue("search_sqlite_engine"),
                                     index_prefix=unique_prefix())
        elif kind == "postgres":
            backend = create_backend(engine=request.getfixturevalue("search_pg_engine"),
                                     index_prefix=unique_prefix())
        elif kind == "meilisearch":
            url, key = request.getfixturevalue("search_meili_server")
            backend = create_backend(meili_url=url, meili_key=key, index_prefix=unique_prefix())
        else:
            raise ValueError(kind)
        created.append(backend)
        return backend

    yield make
    for backend in created:
        try:
            cleanup(backend)
        except Exception:  # cleanup must not mask test results
            pass


# --------------------------------------------------------------------------- backends


@pytest.fixture(scope="session", params=BACKEND_KINDS)
def search_loaded(request, search_make_backend):
    """A backend of each kind holding CORPUS in index "offers" (shared, read-only)."""
    backend = search_make_backend(request.param)
    backend.ensure_index(SPEC)
    backend.upsert(SPEC.name, CORPUS)
    return backend


@pytest.fixture(params=BACKEND_KINDS)
def search_fresh(request, search_make_backend):
    """A backend of each kind with an empty "offers" index of its own (for write tests)."""
    backend = search_make_backend(request.param)
    backend.ensure_index(SPEC)
    return backend


@pytest.fixture(scope="session")
def search_all_loaded(request, search_make_backend):
    """{kind: loaded backend} for every backend available here (for cross-backend checks)."""
    loaded = {}
    for kind in BACKEND_KINDS:
        try:
            backend = search_make_backend(kind)
        except pytest.skip.Exception:
            continue
        backend.ensure_index(SPEC)
        backend.upsert(SPEC.name, CORPUS)
        loaded[kind] = backend
    return loaded
