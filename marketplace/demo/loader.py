"""Build the demo dataset: organisations of every kind, 400 items in 3 batches (their titles count them),
50 high-value patents, 80+ needs, financial products, one account per role plus a member per organisation,
and the activity of a platform in use (events, registrations, meetings, follow-ups, introductions, deals).

Every date is relative to ``today`` (passed in; tests freeze it), so the data never goes stale: open needs have
deadlines ahead, past events have outcomes, upcoming events take registrations. Everything is marked ``is_demo``.
"""
from __future__ import annotations

import random
import secrets
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from marketplace.demo.activity import add_activity, at
from marketplace.demo.content import (PATENT_FORMS, PATENT_SUBJECTS, PENDING_PRODUCTS, applications_for,
                                      product_types)
from marketplace.demo.finance import financial_products
from marketplace.demo.needs_content import MORE_NEEDS, NEED_TEMPLATES, PERSON_NAMES
from marketplace.demo.people import FIRM_SUFFIXES, ORG_NAME_PARTS
from marketplace.identifiers import USCC_ALPHABET, patent_check_character, uscc_check_character
from marketplace.models import (Batch, Field, Membership, Need, Offer, Organization, PatentDetail,
                                ReviewDecision, User, UserRole)
from marketplace.models.organizations import SUB_PARKS
from marketplace.reference.taxonomy import load_taxonomy
from marketplace.services.policy import catalogue as policy_catalogue
from marketplace.demo.policy import add_policy_activity
from marketplace.demo.event_feedback import add_event_feedback
from marketplace.demo.challenges import add_challenges
from marketplace.services.patent_value import indicators_of, value_score

DEMO_ACCOUNTS = [
    # (email, display name, platform role, organisation kind to join)
    ("operator@demo.techbridge.cn", "平台运营 Operator", "operator", "operator"),
    ("broker@demo.techbridge.cn", "技术经理人 Broker", "broker", "agency"),
    ("organiser@demo.techbridge.cn", "活动组织者 Organiser", "organiser", "operator"),
    ("admin@demo.techbridge.cn", "管理员 Admin", "admin", None),
    ("hospital@demo.techbridge.cn", "医院用户 Hospital", None, "hospital"),
    ("firm@demo.techbridge.cn", "企业用户 Firm", None, "firm"),
    ("lab@demo.techbridge.cn", "科研用户 Lab", None, "university"),
    ("bank@demo.techbridge.cn", "银行用户 Bank", None, "bank"),
    ("investor@demo.techbridge.cn", "投资人 Investor", None, "vc"),
]
MEMBER_DOMAIN = "members.demo.techbridge.cn"

BATCH_SIZES = (130, 120, 150)
BATCH_DAYS_AGO = (150, 120, 90)
HIGH_VALUE_DAYS_AGO = 75


def _uscc(rng: random.Random, prefix: str) -> str:
    body = prefix + "110108" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_character(body)


def _patent_number(year: int, serial: int, type_digit: str = "1") -> str:
    digits = f"{year}{type_digit}{serial:07d}"
    return f"{digits}.{patent_check_character(digits)}"


def _organizations(session, rng: random.Random) -> dict[str, list[Organization]]:
    by_kind: dict[str, list[Organization]] = {}
    used_uscc: set[str] = set()

    def add(kind, zh, en, short, prefix, size):
        code = _uscc(rng, prefix)
        while code in used_uscc:
            code = _uscc(rng, prefix)
        used_uscc.add(code)
        org = Organization(kind=kind, name_zh=zh, name_en=en, short_name=short, uscc=code,
                           sub_park=rng.choice(SUB_PARKS[:8]), size_class=size, registered_in_park=rng.random() < 0.8,
                           verified=True, contact_name=rng.choice(PERSON_NAMES),
                           contact_email=f"contact{len(used_uscc)}@demo.techbridge.cn",
                           description_zh=f"{zh}（演示数据）。", description_en=f"{en} (demo data).", is_demo=True)
        session.add(org)
        by_kind.setdefault(kind, []).append(org)

    for zh, en in ORG_NAME_PARTS["hospital"]:
        add("hospital", zh, en, zh[:6], "12", "large")
    for i, (zh, en) in enumerate(ORG_NAME_PARTS["firm"]):
        suffix_zh, suffix_en = FIRM_SUFFIXES[i % len(FIRM_SUFFIXES)]
        add("firm", f"北京{zh}{suffix_zh}", f"Beijing {en} {suffix_en}", zh, "91",
            ("micro", "small", "medium", "large")[i % 4])
    for kind in ("lab", "university", "institute"):
        for zh, en in ORG_NAME_PARTS[kind]:
            add(kind, zh, en, zh[:6], "12", "large")
    for kind in ("bank", "guarantee", "vc", "agency"):
        for zh, en in ORG_NAME_PARTS[kind]:
            add(kind, zh, en, zh[:6], "91", "medium")
    add("operator", "中关村示范园区管理委员会", "Demo Science Park Administrative Committee", "园区管委会", "11", "large")
    session.flush()
    return by_kind


def _regular_offers(rng: random.Random, orgs: dict, fields: dict[str, Field], count: int) -> list[Offer]:
    """``count`` offers, each one product type for one application (never a numbered or edition copy)."""
    makers = orgs["firm"] + orgs["lab"] + orgs["university"] + orgs["institute"] + orgs["agency"]
    combos = [(t, app) for t in product_types() for app in applications_for(t[0])]
    rng.shuffle(combos)
    # Take whole rounds of applications first, so every product type appears about equally often.
    seen: dict[str, int] = {}
    ordered = []
    for round_no in range(4):
        for template, app in combos:
            if seen.get(template[2], 0) == round_no and (template, app) not in ordered:
                seen[template[2]] = round_no + 1
                ordered.append((template, app))
    offers = []
    for serial, (template, (app_zh, app_en)) in enumerate(ordered[:count]):
        code, kind, tzh, ten, szh, sen, tags, regulatory, trl = template
        maker = makers[(serial * 7 + serial // len(makers)) % len(makers)]
        if kind == "product" and maker.kind in ("university", "institute", "lab"):
            kind = "technology"
        field = fields[code]
        summary_zh = f"{szh}本方案面向{app_zh}。" if szh else \
            f"{tzh}，面向{app_zh}，属于{field.name_zh}方向，由{maker.name_zh}研制。"
        summary_en = f"{sen} Adapted for {app_en}." if sen else \
            f"{ten} for {app_en}, in {field.name_en.lower()}, developed by {maker.name_en}."
        offers.append(Offer(
            organization=maker, kind=kind, status="published", visibility="public",
            title_zh=f"{app_zh}{tzh}", title_en=f"{ten} for {app_en}", summary_zh=summary_zh, summary_en=summary_en,
            description_zh=f"{summary_zh}\n由{maker.name_zh}提供（演示数据）。",
            description_en=f"{summary_en}\nOffered by {maker.name_en} (demo data).",
            problem_zh=f"解决{app_zh}在{field.name_zh}方面的一线需求。",
            problem_en=f"Built for front-line use in {field.name_en.lower()} at {app_en}.",
            advantage_zh="相比同类方案速度更快、成本更低、可快速部署。",
            advantage_en="Faster, cheaper and quicker to deploy than comparable solutions.",
            scenarios_zh=app_zh, scenarios_en=app_en,
            tags=list(tags) + [app_zh], trl=trl if kind != "service" else None,
            regulatory_statuses=list(regulatory) if kind == "product" else [],
            partnership_modes=(["sale"] if kind == "product" else ["licence", "co_development"] if kind == "technology"
                               else ["sale"]),
            price_rmb=Decimal(rng.choice([20, 50, 120, 300, 800, 5000, 20000, 150000, 480000])) if kind == "product" else None,
            capacity=("日产能 %d 件" % rng.choice([500, 2000, 10000, 50000])) if kind == "product" else "",
            lead_time_days=rng.choice([3, 7, 14, 30]) if kind == "product" else None,
            ip_status="已申请发明专利 / invention patent filed" if kind == "technology" else "",
            fields=[field, fields[code.split(".")[0]]], is_demo=True, import_key=f"demo:offer:{serial}"))
    return offers


def _pending(session, orgs: dict, fields: dict[str, Field], today: date) -> None:
    """Drafts and submissions so the verification queue is not empty; real titles, status says the rest."""
    makers = orgs["firm"]
    for i, (code, kind, zh, en) in enumerate(PENDING_PRODUCTS):
        submitted = i % 2 == 1
        session.add(Offer(organization=makers[i], kind=kind, status="submitted" if submitted else "draft",
                          title_zh=zh, title_en=en, summary_zh=f"{zh}，等待园区核验（演示数据）。",
                          summary_en=f"{en}, waiting for verification (demo data).", tags=[fields[code].name_zh],
                          fields=[fields[code], fields[code.split(".")[0]]], is_demo=True,
                          import_key=f"demo:pending:{i}", submitted_at=at(today - timedelta(days=i + 1)) if submitted
                          else None))


def _patents(session, rng: random.Random, orgs: dict, fields: dict[str, Field], hv_batch: Batch,
             today: date) -> None:
    """90 screened patents: the best 50 published as the high-value batch, 25 shortlisted (approved, waiting
    for a batch), the rest archived after screening."""
    owners = orgs["university"] + orgs["institute"] + orgs["lab"] + orgs["firm"][:8]
    details = []
    published_at = at(hv_batch.published_on)
    for i in range(len(PATENT_SUBJECTS) * len(PATENT_FORMS)):
        szh, sen, ipc, code = PATENT_SUBJECTS[i % len(PATENT_SUBJECTS)]
        form_zh, form_en = PATENT_FORMS[i // len(PATENT_SUBJECTS)]
        owner = owners[i % len(owners)]
        filing = date(today.year - 1 - i % 6, 1 + i % 12, 1 + i % 27)
        granted = i % 4 != 3
        offer = Offer(organization=owner, kind="patent", status="published", visibility="public",
                      title_zh=f"一种{szh}{form_zh}", title_en=f"{form_en} {sen}",
                      summary_zh=f"本专利涉及{fields[code].name_zh}，{owner.name_zh}拥有，愿意以许可或转让方式合作。",
                      summary_en=f"A patent in {fields[code].name_en.lower()} held by {owner.name_en}, "
                                 f"available for licence or assignment.",
                      tags=[fields[code].name_zh, fields[code].name_en, ipc.split("/")[0]],
                      trl=rng.choice([3, 4, 5, 6, 7]), partnership_modes=["licence", "transfer"],
                      fields=[fields[code], fields[code.split(".")[0]]], is_demo=True, import_key=f"demo:patent:{i}")
        detail = PatentDetail(
            application_number=_patent_number(filing.year, 100000 + i * 37),
            patent_type="invention", ipc_classes=[ipc], applicants=[owner.name_zh],
            inventors=rng.sample(PERSON_NAMES, 2),
            filing_date=filing, grant_date=filing + timedelta(days=700) if granted and
            filing + timedelta(days=700) < today else None,
            legal_status="granted" if granted and filing + timedelta(days=700) < today else "pending",
            claims_count=rng.randint(3, 25), citations=rng.randint(0, 40), family_size=rng.randint(1, 8),
            transfer_willingness=rng.randint(2, 5), market_prospect=rng.randint(2, 5),
            transfer_modes=["exclusive_licence", "assignment"])
        offer.patent = detail
        detail.value_score, _ = value_score(indicators_of(detail), today=today)
        session.add(offer)
        details.append(detail)
    session.flush()
    details.sort(key=lambda d: d.value_score, reverse=True)
    for rank, detail in enumerate(details):
        if rank < 50:
            detail.curation_stage = "high_value"
            detail.offer.batch = hv_batch
            detail.offer.published_at = published_at
        elif rank < 75:
            detail.curation_stage = "shortlisted"
            detail.offer.status = "approved"  # waits for the next high-value batch; never published batch-less
        else:
            detail.curation_stage = "screened"
            detail.offer.status = "archived"
    session.flush()


def _quantity(rng: random.Random, product: str) -> tuple[int, str]:
    """A believable quantity and unit for buying ``product``: machines by the unit, consumables by the thousand."""
    if product.endswith(("仪", "机", "设备", "系统", "车", "机器人", "舱", "舱体", "组", "站", "DR", "软件")):
        return rng.choice([2, 5, 10, 20]), "台" if not product.endswith(("系统", "软件")) else "套"
    return rng.choice([5000, 20000, 100000]), "件"


def _needs(session, rng: random.Random, orgs: dict, fields: dict[str, Field], today: date) -> list[Need]:
    """Hand-written needs plus one procurement need per product and one co-development need per technology;
    open needs have deadlines ahead of ``today``."""
    hospitals, firms = orgs["hospital"], orgs["firm"]
    rows = list(NEED_TEMPLATES) + list(MORE_NEEDS)
    titles = {r[2] for r in rows}

    def written_already(product: str) -> bool:  # a hand-written need already asks for it (4 characters in common)
        return any(product[k:k + 4] in title for k in range(len(product) - 3) for title in titles)

    for code, kind, tzh, ten, *_rest in product_types():
        if kind == "product" and code.split(".")[0] in ("D1", "D3", "D4") and not written_already(tzh):
            rows.append(("procurement", code, f"采购{tzh}", f"Procure {ten}",
                         f"需要采购{tzh}，要求具备相应资质，按期交付。", f"Needs {ten} with the required approvals, "
                         "delivered on time.", [tzh[-4:]], [], *_quantity(rng, tzh),
                         rng.choice([300000, 800000, 1500000, 3000000])))
        elif kind == "technology" and len(rows) < 110:
            rows.append(("technology_cooperation", code, f"寻求{tzh}合作伙伴", f"Partner wanted: {ten}",
                         f"希望与拥有{tzh}的团队开展联合研发或技术许可。",
                         f"Looking for a team with {ten} for joint development or a licence.",
                         [tzh[-4:], "联合研发"], [], None, "", rng.choice([1000000, 2000000, 5000000])))
    needs = []
    for i, (kind, code, tzh, ten, dzh, den, tags, certs, qty, unit, budget) in enumerate(rows):
        if kind == "procurement" or (kind in ("technology_cooperation", "testing_lab") and i % 2 == 0):
            owner = hospitals[i % len(hospitals)]
        else:
            owner = firms[(i * 3) % len(firms)]
        posted = today - timedelta(days=5 + (i * 37) % 140)
        status = "open" if i % 9 else ("matched" if i % 2 else "closed")
        deadline = today + timedelta(days=14 + (i * 11) % 100) if status == "open" else posted + timedelta(days=30)
        need = Need(
            organization=owner, kind=kind, status=status,
            visibility="confidential" if i % 17 == 5 else "public",
            title_zh=tzh, title_en=ten, description_zh=dzh, description_en=den,
            tags=list(tags), quantity=qty, unit=unit,
            budget_max_rmb=Decimal(budget) if budget else None,
            budget_min_rmb=Decimal(budget) * Decimal("0.5") if budget else None,
            deadline=deadline, required_certifications=list(certs), urgency=("critical", "high", "normal")[i % 3],
            min_trl=6 if kind == "technology_cooperation" else None, close_reason="需求已满足" if status == "closed" else "",
            fields=[fields[code], fields[code.split(".")[0]]], is_demo=True, import_key=f"demo:need:{i}",
            created_at=at(posted, 2 + i % 8))
        session.add(need)
        needs.append(need)
    session.flush()
    return needs


def _accounts(session, orgs: dict, reset_passwords: bool) -> list[tuple[str, str, str]]:
    """Create the role accounts; returns (email, password or note, role) to print."""
    printed = []
    for email, name, role, org_kind in DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.email == email))
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User(email=email, display_name=name, password_hash=generate_password_hash(password), is_demo=True)
            session.add(user)
            if role:
                user.roles.append(UserRole(role=role))
            if org_kind and orgs.get(org_kind):
                session.add(Membership(user=user, organization=orgs[org_kind][0], role="owner"))
            printed.append((email, password, role or org_kind))
        elif reset_passwords:
            user.password_hash = generate_password_hash(password)
            printed.append((email, password, role or org_kind))
        else:
            printed.append((email, "(unchanged; use --reset-passwords)", role or org_kind))
    session.flush()
    return printed


def _reviews(session, offers: list[Offer]) -> None:
    """The operator's verification decisions behind each published item (a few sent back for changes first),
    so the dashboard's verification throughput has a history."""
    operator = session.scalar(select(User).where(User.email == "operator@demo.techbridge.cn"))
    for i, offer in enumerate(offers):
        decided = offer.submitted_at + timedelta(hours=6 + (i % 3) * 20)
        if i % 11 == 5:
            session.add(ReviewDecision(offer=offer, reviewer_id=operator.id, decision="request_changes",
                                       reason="请补充注册证编号 / add the registration number",
                                       decided_at=decided - timedelta(hours=4)))
        session.add(ReviewDecision(offer=offer, reviewer_id=operator.id, decision="approve", decided_at=decided))


def _members(session, orgs: dict) -> dict[int, User]:
    """One member per organisation (who registers for events and answers introductions). They cannot log in:
    one hash of a secret nobody keeps serves them all, which also keeps the load fast."""
    locked = generate_password_hash(secrets.token_urlsafe(24))
    members = {}
    for n, org in enumerate(o for kind in orgs.values() for o in kind):
        user = User(email=f"member{n + 1}@{MEMBER_DOMAIN}", display_name=f"{PERSON_NAMES[n % len(PERSON_NAMES)]}"
                    f"（{org.short_name or org.name_zh[:6]}）", password_hash=locked, is_demo=True)
        session.add(user)
        session.add(Membership(user=user, organization=org, role="member"))
        members[org.id] = user
    session.flush()
    return members


def _batches(session, today: date) -> tuple[list[Batch], Batch]:
    next_number = (session.scalar(select(func.max(Batch.number))) or 0) + 1
    batches = []
    for n, days_ago in enumerate(BATCH_DAYS_AGO):
        batch = Batch(number=next_number + n, kind="regular", published_on=today - timedelta(days=days_ago),
                      title_zh="", title_en="",  # titled once filled, from the count
                      note_zh="经园区核验后发布，涵盖五大重点支持方向（演示数据）。",
                      note_en="Published after verification by the park, across the five key support directions "
                              "(demo data).")
        session.add(batch)
        batches.append(batch)
    hv_batch = Batch(number=next_number + 3, kind="high_value", published_on=today - timedelta(days=HIGH_VALUE_DAYS_AGO),
                     title_zh="高价值专利第一批：50项", title_en="High-value patents, first batch: 50 patents",
                     note_zh="从10万余件专利中筛选出400余件，择优发布转化意愿强、市场前景好的50件。",
                     note_en="From 100,000+ patents screened, 400+ shortlisted; the 50 with strong willingness to transfer "
                             "and good market prospects are published.")
    session.add(hv_batch)
    session.flush()
    return batches, hv_batch


def _fill_batches(batches: list[Batch], financial: list[Offer], regular: list[Offer]) -> None:
    """Financial products open batch 1; regular offers fill the rest so each batch holds exactly its size,
    and each title states the number it holds."""
    items = financial + regular
    start = 0
    for batch, size in zip(batches, BATCH_SIZES):
        for offer in items[start:start + size]:
            offer.batch = batch
            offer.published_at = at(batch.published_on)
            offer.submitted_at = offer.published_at - timedelta(days=3)
            offer.created_at = offer.submitted_at - timedelta(days=2)
        held = len(items[start:start + size])
        batch.title_zh = f"第{batch.number}批：{held}项抗疫新技术、新产品、新服务"
        batch.title_en = f"Batch {batch.number}: {held} anti-epidemic technologies, products and services"
        start += size


def load_demo(session, *, today: date | None = None, reset_passwords: bool = False, seed: int = 2020) -> dict:
    """Load the demo dataset unless it is already there (idempotent). Dates are relative to ``today``
    (default: the current date). Flushes; the caller commits."""
    today = today or date.today()
    rng = random.Random(seed)
    load_taxonomy(session)
    policy_catalogue.load_reference(session)  # the support measures are reference data, demo or not
    fields = {f.code: f for f in session.scalars(select(Field))}
    already = session.scalar(select(func.count(Organization.id)).where(Organization.is_demo.is_(True))) or 0
    if already:
        orgs: dict[str, list[Organization]] = {}
        for org in session.scalars(select(Organization).where(Organization.is_demo.is_(True)).order_by(Organization.id)):
            orgs.setdefault(org.kind, []).append(org)
        return {"created": False, "accounts": _accounts(session, orgs, reset_passwords)}
    orgs = _organizations(session, rng)
    batches, hv_batch = _batches(session, today)
    financial = financial_products(orgs, fields)
    regular = _regular_offers(rng, orgs, fields, sum(BATCH_SIZES) - len(financial))
    _fill_batches(batches, financial, regular)
    session.add_all(financial + regular)
    _pending(session, orgs, fields, today)
    session.flush()
    _patents(session, rng, orgs, fields, hv_batch, today)
    needs = _needs(session, rng, orgs, fields, today)
    accounts = _accounts(session, orgs, reset_passwords)
    _reviews(session, financial + regular)
    members = _members(session, orgs)
    activity = add_activity(session, rng, today=today, orgs=orgs, members=members, needs=needs,
                            offers=financial + regular)
    activity.update(add_policy_activity(session, rng, today=today, orgs=orgs, members=members))
    activity.update(add_event_feedback(session, rng, today=today))
    activity.update(add_challenges(session, rng, today=today, orgs=orgs, members=members))
    return {"created": True, "organizations": sum(len(v) for v in orgs.values()),
            "offers": len(financial) + len(regular), "needs": len(needs), "accounts": accounts, **activity}
