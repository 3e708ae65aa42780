"""Demo ratings and outcomes of the finished events: most participants rated them, and some events are known
to have led to an investment, a licence deal or an introduction months later."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace.models import Event, EventFeedback, EventOutcome, Registration, User

COMMENTS = ("一对一洽谈安排得很紧凑，效率高。", "希望提前公布参会企业名单。", "路演时间略短，问答环节可以延长。",
            "对接到两家有意向的医院，收获很大。", "线上会议室偶尔卡顿。", "")
OUTCOMES = (("investment", Decimal("5000000"), "天使轮投资，活动中首次接触"),
            ("deal", Decimal("1200000"), "专利许可合同已签署"),
            ("introduction", None, "活动后经技术经理人对接，进入样品试用"),
            ("other", None, "双方共建联合实验室的意向书"))


def add_event_feedback(session, rng: random.Random, *, today: date) -> dict:
    """Ratings from about two thirds of each finished demo event's participants, and a few outcomes."""
    events = list(session.scalars(select(Event).where(Event.is_demo.is_(True), Event.status == "finished")
                                  .order_by(Event.id)))
    ratings = outcomes = 0
    for event in events:
        regs = list(session.scalars(select(Registration).where(Registration.event_id == event.id,
                                                               Registration.status == "confirmed")
                                    .order_by(Registration.id)))
        for reg in regs:
            if rng.random() < 0.65:
                session.add(EventFeedback(event_id=event.id, user_id=reg.user_id, rating=rng.choice((3, 4, 4, 5, 5)),
                                          comment=rng.choice(COMMENTS)))
                ratings += 1
        orgs = [m.organization_id for reg in regs for m in session.get(User, reg.user_id).memberships]
        for kind, amount, note in rng.sample(OUTCOMES, k=rng.randint(0, 2)) if orgs else ():
            ended = event.ends_at.date()
            session.add(EventOutcome(event_id=event.id, organization_id=rng.choice(orgs), kind=kind,
                                     amount_rmb=amount, note=note, recorded_by_id=event.organiser_id,
                                     happened_on=min(today, ended + timedelta(days=rng.randint(30, 150)))))
            outcomes += 1
    session.flush()
    return {"event_ratings": ratings, "event_outcomes": outcomes}
