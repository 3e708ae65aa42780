"""Demo surveys: the park's weekly return-to-work survey of its firms, three rounds (two closed, the last open),
so the results, the answers per day and the indicator charts show the recovery. Dates relative to ``today``."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from marketplace.models import Organization, Survey, SurveyQuestion, SurveyResponse

ROUNDS = 3
SUPPLY = ("是", "否")
HELP = ("希望协调员工返京手续", "需要口罩和消毒用品", "上游零部件供应商尚未复工", "需要流动资金贷款", "运输车辆通行证办理慢")


def _questions() -> list[SurveyQuestion]:
    return [SurveyQuestion(position=1, kind="number", prompt_zh="员工返岗比例（%）", prompt_en="Staff back at work (%)",
                           indicator="staff_back_pct"),
            SurveyQuestion(position=2, kind="number", prompt_zh="产能恢复比例（%）", prompt_en="Capacity restored (%)",
                           indicator="capacity_pct"),
            SurveyQuestion(position=3, kind="single", prompt_zh="是否存在供应链断点", prompt_en="Any break in the supply chain?",
                           choices=list(SUPPLY)),
            SurveyQuestion(position=4, kind="text", prompt_zh="最需要园区提供的帮助", prompt_en="What help do you need most?")]


def add_surveys(session, rng: random.Random, *, today: date, firms: list[Organization], operator_id) -> int:
    """Three weekly rounds answered by most firms, recovering week by week; returns the responses written."""
    written = 0
    for week in range(ROUNDS):
        closes = today - timedelta(days=7 * (ROUNDS - 1 - week)) + timedelta(days=3 if week == ROUNDS - 1 else 0)
        opened = datetime.combine(closes - timedelta(days=6), time(9), tzinfo=timezone.utc)
        survey = Survey(title_zh=f"复工复产情况周报（第{week + 1}周）", title_en=f"Return to work, week {week + 1}",
                        description_zh="请各企业如实填写本周复工复产情况。", status="open" if week == ROUNDS - 1 else "closed",
                        audience_kinds=["firm"], closes_on=closes, opened_at=opened, created_by_id=operator_id,
                        questions=_questions())
        session.add(survey)
        session.flush()
        q = {question.position: str(question.id) for question in survey.questions}
        for n, firm in enumerate(firms):
            if rng.random() < 0.2:
                continue  # some firms never answer: the reminders have work
            staff = min(100, 35 + 22 * week + rng.randrange(0, 20))
            answered = opened + timedelta(days=rng.randrange(0, 4), hours=rng.randrange(0, 8))
            session.add(SurveyResponse(survey_id=survey.id, organization_id=firm.id, submitted_at=answered,
                                       updated_at=answered, answers={
                                           q[1]: float(staff), q[2]: float(max(10, staff - rng.randrange(5, 25))),
                                           q[3]: SUPPLY[0] if rng.random() < 0.5 - 0.15 * week else SUPPLY[1],
                                           q[4]: HELP[(n + week) % len(HELP)]}))
            written += 1
    session.flush()
    return written
