"""Builders of open challenges and proposals for tests (each call commits in its own app context, returns ids)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from marketplace.extensions import db
from marketplace.models import Challenge, ChallengeCriterion, ChallengeProposal


def challenge(app, org_id: int, *, status: str = "published", deadline: datetime | None = None,
              timezone: str = "Asia/Shanghai", confidential: str = "", criteria=(("技术可行性", 60), ("成本", 40)),
              **kw) -> int:
    """A challenge of ``org_id`` (published, deadline in ten days, two criteria unless told otherwise)."""
    now = datetime.now(UTC)
    with app.app_context():
        row = Challenge(organization_id=org_id, status=status, title_zh=kw.pop("title_zh", "低剂量CT影像降噪"),
                        title_en=kw.pop("title_en", "Low-dose CT denoising"),
                        problem_zh=kw.pop("problem_zh", "需要在低剂量下保持诊断质量。"),
                        deadline=deadline or now + timedelta(days=10), timezone=timezone,
                        confidential_zh=confidential, award_min_rmb=kw.pop("award_min_rmb", Decimal(500000)),
                        award_max_rmb=kw.pop("award_max_rmb", Decimal(1000000)),
                        published_at=now if status not in ("draft", "submitted", "sent_back") else None, **kw)
        row.criteria = [ChallengeCriterion(position=i, name_zh=name, weight=weight)
                        for i, (name, weight) in enumerate(criteria)]
        db.session.add(row)
        db.session.commit()
        return row.id


def proposal(app, challenge_id: int, lead_org_id: int, *, status: str = "submitted", **kw) -> int:
    """A proposal of ``lead_org_id`` to the challenge (submitted unless told otherwise)."""
    with app.app_context():
        row = ChallengeProposal(challenge_id=challenge_id, lead_organization_id=lead_org_id, status=status,
                                title=kw.pop("title", "基于深度学习的降噪方案"), approach=kw.pop("approach", "私密的技术路线"),
                                submitted_at=datetime.now(UTC) if status != "draft" else None, **kw)
        db.session.add(row)
        db.session.commit()
        return row.id
