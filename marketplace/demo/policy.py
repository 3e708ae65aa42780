"""Demo policy desk: questionnaire answers, filings in every review state and liaison reports, relative to today.

The support measures themselves are reference data (loaded for every deployment); this adds a living desk so
the pages show firms that qualify and firms that do not, offices at work and sub-parks answering firms.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from marketplace.demo.supply_chains import add_supply_chain
from marketplace.demo.surveys import add_surveys
from marketplace.models import (LiaisonReport, Organization, PolicyAnswer, PolicyFiling, PolicyFilingPart,
                                PolicyMeasure, PolicyOfficeStaff, SubParkStaff, User)
from marketplace.models.policy import PART_STATUSES
from marketplace.services.policy.filings import record_title

OPERATOR = "operator@demo.techbridge.cn"
CLAIMS = ([2, 4, 7], [5], [6], [3, 4], [1], [10], [5, 7], [4, 11], [6, 10], [13], [2], [5, 6])
PROJECTS = ("新冠核酸快速检测试剂盒产业化", "发热门诊AI影像辅助诊断", "方舱医院语音交互系统", "红外AI测温筛查终端推广",
            "呼吸机关键部件国产化", "医用防护服生产线改造", "远程会诊平台扩容", "无人配送车社区试点",
            "病毒灭活检测服务平台", "移动双光测温设备", "重症监护数据平台", "抗疫物资供应链协同平台")
NOTES = {"declined": "项目不属于本措施支持范围，建议对照第5条申请研发补贴。",
         "info_requested": "请补充研发投入明细和第三方检测报告。"}
REPORTS = (
    ("supply_chain", "呼吸机核心部件进口受阻", "进口涡轮风机延迟到货，约50家上游供应商中有8家尚未复工。", "need"),
    ("staff_return", "外地员工返京受限", "30名一线技术人员尚在外地，需协调返岗手续。", "answered"),
    ("financing", "流动资金紧张", "订单增加但回款周期长，需要300万元流动资金贷款。", "routed"),
    ("materials", "口罩和消毒用品短缺", "复工需要每日500只口罩。", "closed"),
    ("logistics", "检测试剂跨省运输受阻", "冷链运输车辆通行证办理缓慢。", "open"),
    ("legal", "出口合同不可抗力条款咨询", "海外订单因疫情延期交付，需要法律意见。", "overdue"),
    ("space", "扩产需要GMP车间", "试剂盒产能需提升三倍，需园区协调GMP洁净车间。", "open"),
    ("measures_taken", "已组织员工分批错峰返岗", "实行分时段就餐和每日两次测温，已复工八成。", "closed"),
)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def add_policy_activity(session, rng: random.Random, *, today: date, orgs: dict, members: dict) -> dict:
    """Answers, filings and reports for the demo firms; the demo operator reviews for every office and serves
    the Haidian sub-park. Flushes."""
    operator = session.scalar(select(User).where(User.email == OPERATOR))
    measures = {m.number: m for m in session.scalars(select(PolicyMeasure))}
    offices = {o.id for m in measures.values() for o in m.offices}
    if operator is not None:
        session.add_all(PolicyOfficeStaff(office_id=office_id, user_id=operator.id) for office_id in sorted(offices))
        session.add(SubParkStaff(user_id=operator.id, sub_park="haidian"))
    firms: list[Organization] = list(orgs.get("firm", []))
    for n, firm in enumerate(firms):
        if n % 2 == 0:
            session.add(PolicyAnswer(organization_id=firm.id, question="epidemic_response", value="yes"))
            session.add(PolicyAnswer(organization_id=firm.id, question="rd_spending", value="yes" if n % 4 == 0 else "no"))
    statuses = list(PART_STATUSES)
    filings = 0
    for n, (claims, project) in enumerate(zip(CLAIMS, PROJECTS)):
        if n >= len(firms) or not firms[n].short_name:
            continue
        firm, filed_on = firms[n], today - timedelta(days=3 + 9 * n)
        filing = PolicyFiling(organization_id=firm.id, submitted_by_id=getattr(members.get(firm.id), "id", None),
                              title=record_title(filed_on, firm.short_name, claims), project_name=project,
                              direction="D1" if n % 3 else "D2", description=f"{project}：已在抗疫一线应用。",
                              contact_name="王工", contact_phone="010-8888 0000", filed_on=filed_on)
        for k, number in enumerate(sorted(claims)):
            measure = measures[number]
            status = statuses[(n + k) % len(statuses)]
            decided = status != "received"
            filing.parts.append(PolicyFilingPart(
                measure_id=measure.id, measure_number=number, office_id=measure.offices[0].id, status=status,
                amount_rmb=Decimal(min(int(measure.max_amount_rmb or 500000), 50000 * (1 + rng.randrange(4))))
                if status == "supported" else None, note=NOTES.get(status, ""),
                decided_by_id=operator.id if decided and operator else None,
                decided_at=_at(filed_on + timedelta(days=2)) if decided else None))
        session.add(filing)
        filings += 1
    chain = add_supply_chain(session, rng, today=today, firms=firms)
    survey_responses = add_surveys(session, rng, today=today, firms=firms, operator_id=getattr(operator, "id", None))
    reports = 0
    for n, (topic, title, body, state) in enumerate(REPORTS):
        firm = firms[(n * 5) % len(firms)] if firms else None
        if firm is None:
            break
        if topic == "supply_chain" and chain is not None:
            firm = chain.organization  # the ventilator maker reports its blocked chain
        created = today - timedelta(days=1 + 2 * n)
        report = LiaisonReport(organization_id=firm.id, reported_by_id=getattr(members.get(firm.id), "id", None),
                               sub_park=firm.sub_park, topic=topic, title=title, body=body,
                               status="open" if state in ("open", "overdue") else state,
                               respond_by=_at(created + timedelta(days=3)), created_at=_at(created, 9),
                               supply_chain_id=chain.id if chain is not None and topic == "supply_chain" else None)
        if state == "overdue":
            report.respond_by = _at(today - timedelta(days=1))
            report.escalated_at = _at(today, 8)
        if state in ("answered", "routed", "closed", "need"):
            report.answered_at, report.answered_by_id = _at(created, 15), getattr(operator, "id", None)
            report.answer = "已联系相关部门协调，请保持电话畅通。"
        if state == "routed":
            report.routed_office_id = measures[6].offices[0].id
        if state == "closed":
            report.result = "已协调解决。"
        if state == "need":
            report.status, report.answer = "answered", "建议发布供应需求，分园已向其他供应商推送。"
        session.add(report)
        reports += 1
    session.flush()
    return {"policy_filings": filings, "liaison_reports": reports,
            "supply_chain_inputs": len(chain.inputs) if chain is not None else 0, "survey_responses": survey_responses}
