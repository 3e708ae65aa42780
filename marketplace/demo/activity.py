"""The demo platform in use: 5 finished high-value patent roadshows (37 projects) and 21 Spark events, as the
park reported, each with registrations, 1:1 meetings and tracked follow-ups; one upcoming event of each kind
taking registrations; introductions at every stage of the pipeline, with their history, tasks and signed deals.

Rows are written directly, with the timestamps a real history would have (relative to ``today``), and follow
the same rules the services apply: two different organisations per introduction, both sides accepted before
the pipeline, a reason for every decline and loss, a value for every signed deal.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from marketplace.demo.needs_content import SPARK_PRESENTERS, SPARK_THEMES
from marketplace.models import (AgendaItem, Event, EventInterest, EventSeries, Introduction, IntroductionEvent,
                                IntroductionTask, MatchFeedback, MeetingRequest, Need, Offer, PatentDetail,
                                Registration, User)

ROADSHOW_SIZES = (8, 7, 8, 7, 7)  # 37 projects over 5 sessions, as the park reported
SPARK_EVENTS = 21
# Days from the proposal to each pipeline stage (a history that took its time).
STAGE_DAYS = {"accepted": 2, "contacted": 6, "meeting_held": 15, "nda_signed": 25, "pilot": 40, "negotiation": 55,
              "signed": 75}
PIPELINE = ("accepted", "contacted", "meeting_held", "nda_signed", "pilot", "negotiation", "signed")
# How many introductions end at each stage: every stage has some, and some deals are signed.
STAGE_MIX = (("proposed", 7), ("declined", 4), ("expired", 3), ("accepted", 5), ("contacted", 6),
             ("meeting_held", 6), ("nda_signed", 5), ("pilot", 4), ("negotiation", 5), ("signed", 9), ("lost", 4))
TASKS = ["发送报价单 / send the quotation", "安排样品试用 / arrange a sample trial", "约定第二次会议 / book a second meeting",
         "准备保密协议文本 / draft the NDA", "提交试点方案 / submit the pilot plan", "核对注册证 / check the registration"]
DECLINE_REASONS = ["预算已用于其他供应商 / budget already committed", "技术路线不匹配 / different technical route"]
LOST_REASONS = ["价格未谈拢 / no agreement on price", "需求方改为自研 / buyer develops it in-house"]


def at(day: date, hour: int = 9) -> datetime:
    """``day`` at ``hour`` o'clock UTC."""
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


class _Ctx:
    """What the activity builders share."""

    def __init__(self, session, rng, today, orgs, members):
        self.session, self.rng, self.today, self.orgs, self.members = session, rng, today, orgs, members
        self.organiser = session.scalar(select(User).where(User.email == "organiser@demo.techbridge.cn"))
        self.broker = session.scalar(select(User).where(User.email == "broker@demo.techbridge.cn"))
        self.attendees = list(members.values())
        self.counts = {"events": 0, "registrations": 0, "meetings": 0, "follow_ups": 0, "introductions": 0,
                       "signed": 0}


def _event(ctx: _Ctx, series, kind, starts: datetime, items: list[Offer], status, title_zh, title_en) -> Event:
    event = Event(series=series, organiser_id=ctx.organiser.id if ctx.organiser else None, kind=kind, status=status,
                  title_zh=title_zh, title_en=title_en,
                  description_zh="面向投资机构、企业、医院、银行和孵化器的线上对接活动（演示数据）。",
                  description_en="Online matchmaking for investors, firms, hospitals, banks and incubators (demo data).",
                  starts_at=starts, ends_at=starts + timedelta(hours=2), timezone="Asia/Shanghai",
                  meeting_url="https://meeting.example.cn/demo", capacity=200,
                  registration_deadline=starts - timedelta(hours=2),
                  audience=["investors", "firms", "hospitals", "banks", "incubators"],
                  meetings_start_at=starts + timedelta(hours=1), meeting_minutes=15, meeting_slots=4,
                  meeting_tables=4, published_at=starts - timedelta(days=10), is_demo=True,
                  created_at=starts - timedelta(days=12))
    for i, offer in enumerate(items):
        slot = starts + timedelta(minutes=10 * i)
        presenter = ctx.members.get(offer.organization_id)
        event.items.append(AgendaItem(offer_id=offer.id, organization_id=offer.organization_id,
                                      presenter_id=presenter.id if presenter else None, starts_at=slot,
                                      ends_at=slot + timedelta(minutes=10), meeting_capacity=4))
    ctx.session.add(event)
    ctx.counts["events"] += 1
    return event


def _registrations(ctx: _Ctx, event: Event, n: int) -> list[User]:
    people = ctx.rng.sample(ctx.attendees, min(n, len(ctx.attendees)))
    for i, user in enumerate(people):
        registered = event.starts_at - timedelta(days=1 + (i * 3) % 9, hours=i % 7)
        cancelled = i % 13 == 12
        ctx.session.add(Registration(event=event, user=user, status="cancelled" if cancelled else "confirmed",
                                     registered_at=registered, confirmed_at=registered,
                                     cancelled_at=registered + timedelta(days=1) if cancelled else None,
                                     created_at=registered))
        ctx.counts["registrations"] += 1
    return [u for i, u in enumerate(people) if i % 13 != 12]


def _outcomes(ctx: _Ctx, event: Event, attendees: list[User]) -> list[tuple[AgendaItem, User]]:
    """1:1 meetings at a finished event, and the interests (follow-ups) they produced."""
    rng = ctx.rng
    org_of = {u.id: org_id for org_id, u in ctx.members.items()}
    taken: set[tuple[int, int]] = set()
    interests = []
    for n, item in enumerate(event.items):
        guests = [u for u in rng.sample(attendees, min(3, len(attendees))) if org_of.get(u.id) != item.organization_id]
        for k, guest in enumerate(guests[:2]):
            slot, table = (n + k) % event.meeting_slots, (n * 2 + k) % event.meeting_tables + 1
            accepted = (slot, table) not in taken and (n + k) % 5 != 4
            if accepted:
                taken.add((slot, table))
            ctx.session.add(MeetingRequest(event=event, item=item, requester=guest, presenter_id=item.presenter_id,
                                           reason="希望了解授权条件 / terms of a licence", priority=1 + k,
                                           status="accepted" if accepted else "declined",
                                           answer_reason="" if accepted else "时间已排满 / fully booked",
                                           slot=slot if accepted else None, table_number=table if accepted else None,
                                           created_at=event.starts_at - timedelta(hours=20)))
            ctx.counts["meetings"] += 1
        if guests and n % 2 == 0:
            interests.append((item, guests[0]))
    return interests


def _events(ctx: _Ctx, offers: list[Offer]) -> list[tuple[Event, AgendaItem, User]]:
    session, today = ctx.session, ctx.today
    patents = list(session.scalars(select(Offer).join(PatentDetail).where(
        PatentDetail.curation_stage == "high_value", Offer.status == "published").order_by(Offer.id)))
    research = {o.id for kind in ("university", "institute", "lab") for o in ctx.orgs[kind]}
    projects = [o for o in offers if o.kind == "technology" and o.organization_id in research] or \
        [o for o in offers if o.kind == "technology"]
    roadshows = EventSeries(kind="roadshow", name_zh="高价值专利线上路演", name_en="Online high-value patent roadshows",
                            created_by_id=ctx.organiser.id if ctx.organiser else None)
    spark = EventSeries(kind="spark", name_zh="火花活动：线上技术转移", name_en="Spark: online technology transfer",
                        created_by_id=ctx.organiser.id if ctx.organiser else None)
    session.add_all([roadshows, spark])
    finished = []
    start = 0
    for n, size in enumerate(ROADSHOW_SIZES, start=1):
        starts = at(today - timedelta(days=70 - 7 * (n - 1)), 6)
        finished.append(_event(ctx, roadshows, "roadshow", starts, patents[start:start + size], "finished",
                               f"高价值专利线上路演第{n}场", f"Online high-value patent roadshow {n}"))
        start += size
    for n in range(1, SPARK_EVENTS + 1):
        starts = at(today - timedelta(days=20 + 7 * (SPARK_EVENTS - n)), 7)
        who_zh, who_en = SPARK_PRESENTERS[n % len(SPARK_PRESENTERS)]
        aim_zh, aim_en = SPARK_THEMES[n % len(SPARK_THEMES)]
        items = [projects[(n * 3 + k) % len(projects)] for k in range(3)]
        finished.append(_event(ctx, spark, "spark", starts, items, "finished", f"火花活动第{n}期：{who_zh}专场·{aim_zh}",
                               f"Spark {n}: {who_en} — {aim_en}"))
    upcoming = [
        _event(ctx, roadshows, "roadshow", at(today + timedelta(days=21), 6), patents[37:43], "published",
               "高价值专利线上路演第6场", "Online high-value patent roadshow 6"),
        _event(ctx, spark, "spark", at(today + timedelta(days=10), 7), projects[:3], "published",
               f"火花活动第{SPARK_EVENTS + 1}期：生产合作", f"Spark {SPARK_EVENTS + 1}: production cooperation"),
    ]
    session.flush()
    follow_ups = []
    for event in finished:
        attendees = _registrations(ctx, event, ctx.rng.randint(24, 48))
        follow_ups += [(event, item, user) for item, user in _outcomes(ctx, event, attendees)]
    for event in upcoming:
        _registrations(ctx, event, ctx.rng.randint(12, 30))
    return follow_ups


def _history(ctx: _Ctx, intro: Introduction, final: str, proposed_at: datetime, n: int) -> datetime:
    """Write the introduction's events up to ``final``; returns when it reached it."""
    broker, need_member, offer_member = ctx.broker, ctx.members.get(intro.need_organization_id), \
        ctx.members.get(intro.offer_organization_id)

    def event(kind, when, *, side="", from_stage=None, to_stage=None, actor=None, reason="", value=None):
        ctx.session.add(IntroductionEvent(introduction=intro, actor_id=actor.id if actor else None, kind=kind,
                                          side=side, from_stage=from_stage, to_stage=to_stage, reason=reason,
                                          value_rmb=value, created_at=when))

    event("proposed", proposed_at, to_stage="proposed", actor=broker)
    if final == "proposed":
        return proposed_at
    answered = proposed_at + timedelta(days=STAGE_DAYS["accepted"])
    if final == "expired":
        event("stage", intro.expires_at, from_stage="proposed", to_stage="expired")
        return intro.expires_at
    if final == "declined":
        reason = ctx.rng.choice(DECLINE_REASONS)
        intro.need_response, intro.need_reason = "declined", reason
        intro.need_responded_by_id, intro.need_responded_at = getattr(need_member, "id", None), answered
        event("response", answered, side="need", from_stage="proposed", to_stage="declined", actor=need_member,
              reason=reason)
        event("stage", answered, side="need", from_stage="proposed", to_stage="declined", actor=need_member,
              reason=reason)
        return answered
    for side, member in (("need", need_member), ("offer", offer_member)):
        setattr(intro, f"{side}_response", "accepted")
        setattr(intro, f"{side}_responded_by_id", getattr(member, "id", None))
        setattr(intro, f"{side}_responded_at", answered)
        event("response", answered, side=side, from_stage="proposed", to_stage="accepted", actor=member)
    event("stage", answered, side="offer", from_stage="proposed", to_stage="accepted", actor=offer_member)
    previous, when = "accepted", answered
    target = PIPELINE.index("negotiation") if final == "lost" else PIPELINE.index(final)
    for stage in PIPELINE[1:target + 1]:
        if stage == "pilot" and n % 3 == 0 and final != "pilot":
            continue  # some deals go straight from the NDA to negotiation
        when = proposed_at + timedelta(days=STAGE_DAYS[stage], hours=n % 5)
        event("stage", when, from_stage=previous, to_stage=stage, actor=broker)
        previous = stage
    if final == "signed":
        intro.deal_value_rmb = Decimal(ctx.rng.choice([280000, 600000, 1200000, 2500000, 4800000]))
        event("value", when, from_stage="signed", to_stage="signed", actor=broker, value=intro.deal_value_rmb)
        ctx.counts["signed"] += 1
    elif final == "lost":
        when = when + timedelta(days=9)
        intro.lost_reason = ctx.rng.choice(LOST_REASONS)
        event("stage", when, from_stage=previous, to_stage="lost", actor=broker, reason=intro.lost_reason)
    elif final == "negotiation":
        intro.deal_value_rmb = Decimal(ctx.rng.choice([500000, 1500000, 3000000]))  # expected value
    return when


def _days_needed(final: str) -> int:
    if final in ("proposed",):
        return 0
    if final == "expired":
        return 15
    if final == "lost":
        return STAGE_DAYS["negotiation"] + 10
    return STAGE_DAYS.get(final, STAGE_DAYS["accepted"])


def _introduce(ctx: _Ctx, need: Need | None, offer: Offer, need_org_id: int, final: str, n: int,
               age: int | None = None) -> Introduction:
    if age is None:
        age = _days_needed(final) + 2 + (n * 7) % 20 if final != "proposed" else 1 + n % 9
    proposed_at = at(ctx.today - timedelta(days=age), 3 + n % 6)
    intro = Introduction(need=need, offer=offer, need_organization_id=need_org_id,
                         offer_organization_id=offer.organization_id, broker_id=ctx.broker.id if ctx.broker else None,
                         source="suggestion" if need is not None and n % 3 else "manual",
                         message="两家在该领域互补，建议线上沟通（演示数据）。 / Complementary in this field; "
                                 "suggest a call (demo data).",
                         stage=final, expires_at=proposed_at + timedelta(days=14), created_at=proposed_at)
    ctx.session.add(intro)
    intro.stage_changed_at = _history(ctx, intro, final, proposed_at, n)
    if final in PIPELINE[:-1]:
        for k in range(2):
            due = ctx.today + timedelta(days=(n + k * 5) % 15 - 4)
            owner = ctx.broker if k == 0 else ctx.members.get(offer.organization_id)
            ctx.session.add(IntroductionTask(introduction=intro, title=TASKS[(n + k) % len(TASKS)], due_on=due,
                                             owner_id=getattr(owner, "id", None),
                                             created_by_id=getattr(ctx.broker, "id", None),
                                             done_at=at(due, 8) if due < ctx.today and k == 0 else None,
                                             done_by_id=getattr(owner, "id", None) if due < ctx.today and k == 0
                                             else None))
    if need is not None and final in ("signed", "lost") and ctx.broker is not None:
        ctx.session.add(MatchFeedback(need_id=need.id, offer_id=offer.id, user_id=ctx.broker.id,
                                      decision="signed" if final == "signed" else "dismissed",
                                      reason=intro.lost_reason, created_at=intro.stage_changed_at))
    ctx.counts["introductions"] += 1
    return intro


def _introductions(ctx: _Ctx, needs: list[Need], offers: list[Offer]) -> None:
    """Pair needs with offers of the same field from another organisation, ending at every stage."""
    by_field: dict[int, list[Offer]] = {}
    for offer in offers:
        if offer.fields:
            by_field.setdefault(offer.fields[0].id, []).append(offer)
    finals = [stage for stage, count in STAGE_MIX for _ in range(count)]
    pairs = []
    for need in needs:
        if need.status == "draft" or not need.fields:
            continue
        candidates = [o for o in by_field.get(need.fields[0].id, []) if o.organization_id != need.organization_id]
        if candidates:
            pairs.append((need, candidates[len(pairs) % len(candidates)]))
    used: set[int] = set()
    for n, final in enumerate(finals):
        index = (n * 5) % len(pairs)
        while index in used:  # one introduction per pairing
            index = (index + 1) % len(pairs)
        used.add(index)
        need, offer = pairs[index]
        _introduce(ctx, need, offer, need.organization_id, final, n)


def _follow_ups(ctx: _Ctx, follow_ups: list[tuple[Event, AgendaItem, User]]) -> None:
    """Every interest at a finished event becomes a tracked follow-up: the older ones mostly introduced
    (an introduction in the pipeline) or closed with a reason, the recent ones still open."""
    org_of = {u.id: org_id for org_id, u in ctx.members.items()}
    finals = ("meeting_held", "nda_signed", "signed", "contacted", "negotiation")
    for n, (event, item, user) in enumerate(follow_ups):
        age = (ctx.today - event.starts_at.date()).days
        status = "open" if age < 35 else ("closed" if n % 4 == 3 else "introduced")
        interest = EventInterest(event=event, item=item, user=user, organization_id=org_of.get(user.id),
                                 kind=("license", "invest", "trial")[n % 3], status=status,
                                 note="会后希望进一步洽谈 / wants to talk further after the event",
                                 owner_id=getattr(ctx.broker, "id", None),
                                 closed_reason="暂无合作预算 / no budget this year" if status == "closed" else "",
                                 created_at=event.ends_at)
        if status == "introduced" and item.offer is not None and org_of.get(user.id) != item.organization_id:
            final = finals[n % len(finals)]
            if _days_needed(final) + 1 > age - 3:
                final = "contacted"
            # proposed three days after the event, so its history starts after what it follows up
            interest.introduction = _introduce(ctx, None, item.offer, org_of[user.id], final, n, age=age - 3)
        elif status == "introduced":
            interest.status = "open"
        ctx.session.add(interest)
        ctx.counts["follow_ups"] += 1


def add_activity(session, rng: random.Random, *, today: date, orgs: dict, members: dict[int, User],
                 needs: list[Need], offers: list[Offer]) -> dict:
    """Events with their outcomes, and introductions at every stage; returns counts for the summary."""
    ctx = _Ctx(session, rng, today, orgs, members)
    follow_ups = _events(ctx, offers)
    _introductions(ctx, needs, offers)
    _follow_ups(ctx, follow_ups)
    session.flush()
    return ctx.counts
