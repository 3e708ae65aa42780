"""Reverse matching for open challenges: organisations ranked by their offers and patents against a challenge, with
reasons, never the challenger or its group, never on the confidential part; one click invites and tells them."""
from __future__ import annotations

from datetime import timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Challenge, ChallengeInvitation, Notification, Organization, User
from marketplace.services.challenges import reverse_matching
from tests.conftest import login
from tests.marketplace.test_challenge_evaluation import build_challenge


def _catalogue(make, s):
    """An imaging lab, a ventilator maker, the challenger's own imaging offer, its group member's, and a firm whose
    only link is words of the confidential part."""
    imaging = make.offer(s.lab_a, kind="technology", title_zh="肺结节CT影像AI辅助诊断",
                         summary_zh="深度学习识别CT影像中的肺结节，敏感度97%", tags=["AI", "CT", "肺结节"])
    patent = make.offer(s.lab_a, kind="patent", title_zh="一种肺结节检测方法",
                        summary_zh="基于CT影像的肺结节AI筛查专利")
    make.offer(s.lab_b, kind="product", title_zh="ICU呼吸机", summary_zh="有创呼吸机")
    make.offer(s.hospital, kind="technology", title_zh="院内肺结节CT影像AI系统", summary_zh="肺结节 CT 影像 AI 筛查")
    sister = make.org("hospital", name="医院分院")
    with make.app.app_context():
        db.session.get(Organization, sister).group_parent_id = s.hospital
        db.session.commit()
    make.offer(sister, kind="technology", title_zh="分院肺结节CT影像AI", summary_zh="肺结节 CT 影像 AI 筛查")
    secret_firm = make.org("firm", name="接口集成公司")
    make.offer(secret_firm, kind="service", title_zh="门禁接口集成拓扑", summary_zh="门禁接口文档 网络拓扑 集成")
    return imaging, patent, sister, secret_firm


def test_organisations_are_ranked_with_reasons_without_the_challenger_or_its_group(app, make):
    s = build_challenge(make, status="published", deadline_days=10, confidential="院内门禁接口文档和网络拓扑")
    imaging, patent, sister, secret_firm = _catalogue(make, s)
    with app.test_request_context():
        user = db.session.get(User, s.hospital_user)
        ranked = reverse_matching.rank_solvers(user, db.session.get(Challenge, s.challenge))
        orgs = [c.organization.id for c in ranked]
        assert orgs[0] == s.lab_a
        assert s.hospital not in orgs and sister not in orgs
        record = reverse_matching.challenge_record(db.session.get(Challenge, s.challenge))
        assert "门禁" not in str(record)  # the confidential part is never compared
        if secret_firm in orgs:  # reached through the shared field at most, never above the imaging lab
            assert orgs.index(secret_firm) > 0
        top = ranked[0]
        assert {o.offer.id for o in top.offers} == {imaging, patent} and top.strength == 100
        assert any(r.get("type") in ("terms", "tags") for o in top.offers for r in o.reasons)
        text = str([r for c in ranked for o in c.offers for r in o.reasons])
        assert "门禁" not in text and "拓扑" not in text


def test_solver_page_for_challenger_and_brokers_and_one_click_invite(app, client, make):
    s = build_challenge(make, status="published", deadline_days=10)
    _catalogue(make, s)
    lab_member = make.user(org_id=s.lab_a)
    login(client, s.expert_email)  # a technology manager
    html = client.get(f"/challenges/{s.challenge}/solvers").get_data(as_text=True)
    assert 'id="solver-candidates"' in html and "肺结节CT影像AI辅助诊断" in html
    response = client.post(f"/challenges/{s.challenge}/solvers/invite",
                           data={"organization_id": str(s.lab_a), "message": "欢迎揭榜"})
    assert response.status_code == 302
    client.post(f"/challenges/{s.challenge}/solvers/invite", data={"organization_id": str(s.lab_a)})  # twice
    with app.app_context():
        invitation = db.session.scalars(select(ChallengeInvitation)).one()
        assert invitation.organization_id == s.lab_a and invitation.offer_ids and invitation.reasons
        told = set(db.session.scalars(select(Notification.user_id).where(
            Notification.message_key == "challenge_invited")))
        assert told == {s.lab_a_user, lab_member}
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.kind == "challenge_invitation")) == 2
    assert "invited" in client.get(f"/challenges/{s.challenge}/solvers").get_data(as_text=True)


def test_outsiders_do_not_see_candidates_and_bad_invitations_change_nothing(app, client, make):
    s = build_challenge(make, status="published", deadline_days=10)
    login(client, s.lab_a_email)
    assert client.get(f"/challenges/{s.challenge}/solvers").status_code == 404
    assert client.post(f"/challenges/{s.challenge}/solvers/invite",
                       data={"organization_id": str(s.lab_a)}).status_code == 404
    client.post("/logout")
    login(client, s.hospital_email)
    for value in ("", "abc", "99999999999", str(s.hospital)):
        response = client.post(f"/challenges/{s.challenge}/solvers/invite", data={"organization_id": value})
        assert response.status_code in (302, 404)
    closed = build_challenge(make, status="in_evaluation")
    with app.app_context():
        assert db.session.scalar(select(func.count(ChallengeInvitation.id))) == 0
    client.post("/logout")
    login(client, closed.hospital_email)
    client.post(f"/challenges/{closed.challenge}/solvers/invite", data={"organization_id": str(closed.lab_a)})
    with app.app_context():
        assert db.session.scalar(select(func.count(ChallengeInvitation.id))) == 0


def test_the_invitation_gives_the_deadline_in_the_challenges_time_zone(app, make):
    s = build_challenge(make, status="published", deadline_days=10)
    _catalogue(make, s)
    with app.test_request_context():
        challenge = db.session.get(Challenge, s.challenge)
        expected = challenge.deadline.replace(tzinfo=challenge.deadline.tzinfo or timezone.utc)
        reverse_matching.invite(db.session.get(User, s.hospital_user), challenge, s.lab_a)
        db.session.commit()
        note = db.session.scalars(select(Notification).where(Notification.user_id == s.lab_a_user)).one()
        assert note.params["deadline"] == expected.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
