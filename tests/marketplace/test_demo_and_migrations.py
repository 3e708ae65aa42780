"""Demo data and migrations."""
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text

from marketplace.config import PROJECT_ROOT
from marketplace.extensions import db
from marketplace.models import Batch, Need, Offer, Organization, PatentDetail, User


def test_alembic_has_exactly_one_head():
    cfg = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(cfg).get_heads()) == 1


@pytest.fixture
def empty_database_url(tmp_path):
    """A fresh empty database of the same kind as the suite's."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrate.sqlite'}"
        return
    name = f"mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_empty_database_gives_model_schema(empty_database_url):
    from flask_migrate import upgrade

    from marketplace import create_app
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(ctx, db.metadata)
                    if not (isinstance(d, tuple) and str(d[1]).startswith("search_"))]
        assert diff == []
        db.engine.dispose()


def test_demo_load_is_idempotent_and_complete(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "operator@demo.techbridge.cn" in result.output
    with app.app_context():
        counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in
                  (Organization, Offer, Need, Batch, User)}
        kinds = set(db.session.scalars(select(Organization.kind)))
        hv = db.session.scalar(select(func.count()).select_from(PatentDetail).where(
            PatentDetail.curation_stage == "high_value"))
        published_regular = db.session.scalar(select(func.count(Offer.id)).join(Batch).where(
            Batch.kind == "regular", Offer.status == "published"))
        kinds_of_need = set(db.session.scalars(select(Need.kind)))
    assert counts["Organization"] >= 70 and counts["Need"] >= 80 and published_regular >= 400
    assert {"hospital", "firm", "lab", "university", "institute", "bank", "guarantee", "vc", "agency",
            "operator"} <= kinds
    assert hv == 50
    assert {"procurement", "manufacturing_supply", "financing"} <= kinds_of_need
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "already present" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Offer)) == counts["Offer"]


def test_home_page_populated_after_demo_load(app, client):
    app.test_cli_runner().invoke(args=["demo", "load"])
    html = client.get("/").get_data(as_text=True)
    assert "高价值专利" in html and "第3批" in html and "演示数据" in html


def test_funnel_count_migration_fills_the_counts_from_existing_patents(empty_database_url):
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from marketplace import create_app
    from marketplace.models import Offer, Organization, PatentDetail, User, UserRole
    from marketplace.services import funnel_counts
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="0035_import_resume")
        with db.engine.begin() as conn:  # the tables as they were, written without the ORM (no counted_stage yet)
            org = conn.execute(insert(Organization.__table__).values(kind="university", name_zh="大学", name_en="U")
                               .returning(Organization.id)).scalar_one()
            staff, member = (conn.execute(insert(User.__table__).values(email=e, display_name=e, password_hash="x")
                                          .returning(User.id)).scalar_one() for e in ("op@x.cn", "m@x.cn"))
            conn.execute(insert(UserRole.__table__).values(user_id=staff, role="operator"))
            rows = [("submitted", None, "screened"), ("draft", staff, "screened"), ("draft", member, "screened"),
                    ("archived", None, "screened"), ("submitted", None, "shortlisted"),
                    ("published", None, "high_value")]
            for n, (status, creator, stage) in enumerate(rows):
                offer = conn.execute(insert(Offer.__table__).values(
                    organization_id=org, kind="patent", status=status, created_by_id=creator, title_zh=f"专利{n}",
                    title_en=f"P{n}").returning(Offer.id)).scalar_one()
                conn.execute(insert(PatentDetail.__table__).values(
                    offer_id=offer, application_number=f"2020100000{n:02d}", curation_stage=stage))
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        assert funnel_counts.stage_counts() == funnel_counts.counted_from_records() == {
            "screened": 2, "shortlisted": 1, "high_value": 1}
        db.session.remove()
        db.engine.dispose()
