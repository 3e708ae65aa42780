"""Demo open challenges (揭榜挂帅) at every step: open for proposals, in evaluation (panel, declarations, scores),
awarded (an introduction in the pipeline, milestones under way) and delivered (every milestone accepted).

Rows are written directly, following the services' rules (scores only after a "no conflict" declaration, one
conflict declared and left unscored, awards with an accepted introduction), with dates relative to ``today``.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from marketplace.models import (Challenge, ChallengeAward, ChallengeConflict, ChallengeCriterion, ChallengeInvitation,
                                ChallengeMilestone, ChallengePanelMember, ChallengeProposal, ChallengeScore, Field,
                                Introduction, IntroductionEvent, User)
from marketplace.services.challenges.awards import add_months

BROKER = "broker@demo.techbridge.cn"
OPERATOR = "operator@demo.techbridge.cn"
HOSPITAL = "hospital@demo.techbridge.cn"
CRITERIA = (("技术方案与可行性", "Approach and feasibility", 40), ("性能指标", "Performance against the targets", 35),
            ("团队与交付能力", "Team and delivery", 25))
CHALLENGES = (
    # (step, title zh, title en, problem, requirements, confidential part, fields, award, deadline offset days)
    ("open", "发热门诊红外AI测温与人员追踪系统揭榜", "Infrared AI temperature screening with contact tracing",
     "发热门诊高峰时段人流密集，人工测温效率低、漏检率高。", "测温误差不超过0.3℃，每分钟通过不少于60人，支持口罩佩戴识别。",
     "现有门禁系统接口文档和院内网络拓扑（签署保密协议后可见）。", ("D2",), 800_000, 21),
    ("in_evaluation", "肺结节CT影像AI辅助筛查揭榜", "AI-assisted screening of lung nodules on CT",
     "门诊CT检查量大，放射科医生阅片压力大，需AI辅助发现早期肺结节。", "敏感度不低于95%，假阳性每例不超过1个，支持院内私有化部署。",
     "脱敏影像样本的获取方式和院内PACS接口说明（签署保密协议后可见）。", ("D2",), 1_500_000, -6),
    ("awarded", "新冠核酸检测自动化前处理设备揭榜", "Automated sample preparation for nucleic-acid testing",
     "核酸检测前处理依赖人工开盖、加样，效率低且有生物安全风险。", "每小时处理不少于400份样本，全封闭操作，兼容主流提取试剂。",
     "", ("D1",), 2_000_000, -45),
    ("delivered", "方舱医院语音交互护理呼叫系统揭榜", "Voice-interaction nurse call system for field hospitals",
     "方舱医院床位多、护士少，患者呼叫和需求登记依赖人工巡视。", "普通话和主要方言识别准确率不低于90%，离线可用，一周内部署。",
     "", ("D2", "D3"), 600_000, -150),
)
PROPOSALS = (("基于深度学习的一体化方案", "算法团队8人，含3名博士，已在两家医院试点。"),
             ("产学研联合方案", "联合体由大学实验室牵头，企业负责工程化与部署。"),
             ("轻量化快速部署方案", "工程团队5人，提供两周内部署和一年运维。"))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def _solvers(orgs: dict, hospital_id: int) -> list:
    """Organisations that may lead proposals: labs, universities, institutes and firms (never the challenger)."""
    return [o for kind in ("university", "lab", "institute", "firm") for o in orgs.get(kind, [])
            if o.id != hospital_id]


def _panel(session, challenge: Challenge, users: list[User], added_by: User | None) -> list[ChallengePanelMember]:
    seats = []
    for n, user in enumerate(users):
        seat = ChallengePanelMember(challenge_id=challenge.id, user_id=user.id, role="chair" if n == 0 else "expert",
                                    added_by_id=getattr(added_by, "id", None))
        session.add(seat)
        seats.append(seat)
    session.flush()
    return seats


def _score(session, rng: random.Random, seats, proposals, criteria, *, conflicted: tuple[int, int] | None,
           scored_share: float = 1.0) -> int:
    """Declarations and scores; ``conflicted`` = (seat index, proposal index) declares a conflict instead."""
    count = 0
    for s, seat in enumerate(seats):
        for p, proposal in enumerate(proposals):
            if conflicted == (s, p):
                session.add(ChallengeConflict(panel_member_id=seat.id, proposal_id=proposal.id, has_conflict=True,
                                              note="曾与该团队合作发表论文 / co-authored papers with this team"))
                continue
            if rng.random() > scored_share:
                continue
            session.add(ChallengeConflict(panel_member_id=seat.id, proposal_id=proposal.id, has_conflict=False))
            base = 8 - 2 * p
            for criterion in criteria:
                session.add(ChallengeScore(panel_member_id=seat.id, proposal_id=proposal.id, criterion_id=criterion.id,
                                           score=max(0, min(10, base + rng.choice((-1, 0, 0, 1)))),
                                           comment="" if rng.random() < 0.5 else "方案清晰，指标有依据。"))
            count += 1
    session.flush()
    return count


def _award(session, challenge: Challenge, proposal: ChallengeProposal, hospital_user: User | None, awarded: datetime,
           delivered: bool, today: date) -> ChallengeAward:
    """The award with its introduction (accepted by both, in the pipeline) and the milestones of the proposal."""
    intro = Introduction(need_id=None, offer_id=None, need_organization_id=challenge.organization_id,
                         offer_organization_id=proposal.lead_organization_id, source="challenge",
                         requested_by_id=getattr(hospital_user, "id", None), requester_side="need",
                         purpose="co_development", message=f"揭榜挂帅：{challenge.title_zh}",
                         stage="signed" if delivered else "contacted", stage_changed_at=awarded + timedelta(days=5),
                         expires_at=awarded + timedelta(days=30), need_response="accepted",
                         need_responded_at=awarded, offer_response="accepted", offer_responded_at=awarded,
                         need_responded_by_id=getattr(hospital_user, "id", None),
                         offer_responded_by_id=proposal.created_by_id,
                         deal_value_rmb=challenge.award_max_rmb if delivered else None)
    session.add(intro)
    session.flush()
    session.add(IntroductionEvent(introduction_id=intro.id, actor_id=intro.requested_by_id, kind="stage",
                                  from_stage="proposed", to_stage="accepted", reason=intro.message, created_at=awarded))
    award = ChallengeAward(challenge_id=challenge.id, proposal_id=proposal.id, introduction_id=intro.id,
                           amount_rmb=challenge.award_max_rmb, awarded_by_id=intro.requested_by_id, awarded_at=awarded)
    session.add(award)
    session.flush()
    for position, step in enumerate(proposal.milestones, start=1):
        due = add_months(awarded.date(), int(step["months"]))
        milestone = ChallengeMilestone(challenge_id=challenge.id, award_id=award.id, position=position,
                                       title=step["title"], due_on=due, status="due")
        if delivered or position == 1:
            milestone.status = "delivered"
            milestone.delivered_at = _at(min(due - timedelta(days=3), today - timedelta(days=2)))
            milestone.note = "已按计划交付，附验收材料。"
        if delivered:
            milestone.status = "accepted"
            milestone.accepted_at = _at(min(due - timedelta(days=1), today - timedelta(days=1)))
        session.add(milestone)
    return award


def add_challenges(session, rng: random.Random, *, today: date, orgs: dict, members: dict) -> dict:
    """Four demo challenges, one per step (open, in evaluation, awarded, delivered). Flushes."""
    hospitals = orgs.get("hospital", [])
    if not hospitals:
        return {"challenges": 0}
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_((BROKER, OPERATOR, HOSPITAL))))}
    fields = {f.code: f for f in session.scalars(select(Field).where(Field.code.in_(("D1", "D2", "D3"))))}
    made, scores = 0, 0
    for n, (step, title_zh, title_en, problem, requirements, secret, codes, award_rmb, offset) in enumerate(CHALLENGES):
        hospital = hospitals[n % 2]
        challenger = users.get(HOSPITAL) if n % 2 == 0 else members.get(hospital.id)
        deadline = _at(today + timedelta(days=offset), 16)
        published = deadline - timedelta(days=40)
        challenge = Challenge(
            organization_id=hospital.id, created_by_id=getattr(challenger, "id", None),
            status="published" if step == "open" else step,
            title_zh=title_zh, title_en=title_en, summary_zh=problem, problem_zh=problem,
            requirements_zh=requirements, ip_terms_zh="成果知识产权归揭榜方，发榜方享有优先使用权。",
            confidential_zh=secret, award_min_rmb=Decimal(award_rmb // 2), award_max_rmb=Decimal(award_rmb),
            milestone_plan=[{"title": "原型交付", "months": 2}, {"title": "试点验证", "months": 5}],
            eligible_kinds=["lab", "university", "institute", "firm"], consortium_allowed=True,
            deadline=deadline, timezone="Asia/Shanghai", submitted_at=published - timedelta(days=2),
            reviewed_by_id=getattr(users.get(OPERATOR), "id", None), reviewed_at=published, published_at=published,
            closed_at=deadline if step != "open" else None,
            evaluation_started_at=deadline + timedelta(days=1) if step != "open" else None, is_demo=True)
        challenge.fields = [fields[c] for c in codes if c in fields]
        challenge.criteria = [ChallengeCriterion(position=i, name_zh=zh, name_en=en, weight=w)
                              for i, (zh, en, w) in enumerate(CRITERIA, start=1)]
        session.add(challenge)
        session.flush()
        solvers = _solvers(orgs, hospital.id)
        leads = [solvers[(n * 3 + k) % len(solvers)] for k in range(1 if step == "open" else 3)] if solvers else []
        proposals = []
        for k, lead in enumerate(leads):
            approach, team = PROPOSALS[k % len(PROPOSALS)]
            proposal = ChallengeProposal(
                challenge_id=challenge.id, lead_organization_id=lead.id,
                created_by_id=getattr(members.get(lead.id), "id", None), status="submitted",
                title=f"{lead.short_name or lead.name_zh[:6]}：{approach}", approach=f"{approach}。针对“{problem}”提出分阶段实施路线。",
                team=team, milestones=[{"title": "原型交付", "months": 2}, {"title": "试点验证", "months": 5}],
                budget_rmb=Decimal(award_rmb) * Decimal("0.8"), submitted_at=deadline - timedelta(days=3 + k),
                is_demo=True)
            session.add(proposal)
            proposals.append(proposal)
        if len(solvers) > 3:
            session.add(ChallengeInvitation(challenge_id=challenge.id, organization_id=solvers[-1].id,
                                            invited_by_id=getattr(users.get(BROKER), "id", None),
                                            message="贵单位的相关成果与本榜单高度契合，欢迎揭榜。",
                                            created_at=published + timedelta(days=2)))
        session.flush()
        if step != "open" and proposals:
            panel_users = [u for u in (challenger, users.get(BROKER), users.get(OPERATOR)) if u is not None]
            seats = _panel(session, challenge, panel_users, challenger)
            scores += _score(session, rng, seats, proposals, challenge.criteria, conflicted=(1, 1),
                             scored_share=0.7 if step == "in_evaluation" else 1.0)
            if step == "in_evaluation":
                proposals[0].status = "shortlisted"
            else:
                awarded = _at(today + timedelta(days=offset + 20))
                challenge.awarded_at = awarded
                _award(session, challenge, proposals[0], challenger, awarded, delivered=step == "delivered",
                       today=today)
                proposals[0].status, proposals[0].decided_at = "awarded", awarded
                for other in proposals[1:]:
                    other.status, other.decided_at = "not_selected", awarded
                    other.feedback = "方案有价值，但性能指标论证不足；欢迎关注后续榜单。"
                if step == "delivered":
                    challenge.delivered_at = _at(today - timedelta(days=10))
        made += 1
    session.flush()
    return {"challenges": made, "challenge_scores": scores}
