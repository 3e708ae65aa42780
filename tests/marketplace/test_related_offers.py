"""An offer page's related offers: published offers sharing a subfield that the visitor may see, same kind first,
newest first, never the offer itself."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone



def _related(client, offer_id: int) -> list[str]:
    html = client.get(f"/offers/{offer_id}").get_data(as_text=True)
    block = html.split('id="related-offers"')[1].split("</ul>")[0] if 'id="related-offers"' in html else ""
    return re.findall(r'href="/offers/\d+">([^<]+)</a>', block)


def test_related_offers_share_a_field_same_kind_first_newest_first(client, make):
    org = make.org()
    day = datetime(2026, 6, 1, tzinfo=timezone.utc)
    shown = make.offer(org, title_zh="本页试剂盒", published_at=day)
    make.offer(org, title_zh="较早的同类试剂盒", published_at=day - timedelta(days=3))
    make.offer(org, title_zh="较新的同类试剂盒", published_at=day + timedelta(days=3))
    make.offer(org, kind="technology", title_zh="同领域的技术", published_at=day + timedelta(days=9))
    make.offer(org, title_zh="别的领域的产品", field_codes=("D2.ai_diagnosis",), published_at=day)
    make.offer(org, status="draft", title_zh="未发布的试剂盒")
    make.offer(org, title_zh="保密的试剂盒", visibility="confidential", published_at=day)
    assert _related(client, shown) == ["较新的同类试剂盒", "较早的同类试剂盒", "同领域的技术"]


def test_join_switches_hold_inside_the_block_only_and_errors_pass_through(app):
    import pytest
    from sqlalchemy import text

    from marketplace.extensions import db
    from marketplace.queries.prepared import nested_loop_joins

    with app.app_context():
        postgres = db.session.get_bind().dialect.name == "postgresql"

        def hash_joins() -> str | None:
            return db.session.execute(text("SELECT current_setting('enable_hashjoin')")).scalar() if postgres else None

        before = hash_joins()
        with nested_loop_joins():
            assert hash_joins() == ("off" if postgres else None)
        assert hash_joins() == before
        with pytest.raises(ZeroDivisionError), nested_loop_joins():
            1 / 0  # noqa: B018 - the error raised inside the block is the one the caller sees
        db.session.rollback()
        assert hash_joins() == before
