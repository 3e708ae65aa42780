"""Build the demo dataset: organisations of every kind, 400+ offers in 3 batches, 50 high-value patents,
80+ needs, financial products, and one account per role."""
from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from marketplace.demo.content import (FIRM_SUFFIXES, NEED_TEMPLATES, OFFER_TEMPLATES, ORG_NAME_PARTS,
                                      PATENT_TOPICS, VARIANTS)
from marketplace.identifiers import USCC_ALPHABET, patent_check_character, uscc_check_character
from marketplace.models import (Batch, Field, FinancialDetail, Membership, Need, Offer, Organization,
                                PatentDetail, User, UserRole)
from marketplace.models.organizations import SUB_PARKS
from marketplace.reference.taxonomy import load_taxonomy
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

BATCH_SIZES = (130, 120, 150)


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
                           verified=True, contact_name="联系人", contact_email=f"contact{len(used_uscc)}@demo.techbridge.cn",
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


def _offers(session, rng: random.Random, orgs: dict, fields: dict[str, Field], batches: list[Batch]) -> list[Offer]:
    makers = orgs["firm"] + orgs["lab"] + orgs["university"] + orgs["institute"] + orgs["agency"]
    offers: list[Offer] = []
    serial = 0
    total_needed = sum(BATCH_SIZES)
    while len(offers) < total_needed:
        for template in OFFER_TEMPLATES:
            if len(offers) >= total_needed:
                break
            code, kind, tzh, ten, szh, sen, tags, regulatory, trl = template
            variant_zh, variant_en = VARIANTS[(serial // len(OFFER_TEMPLATES)) % len(VARIANTS)]
            maker = makers[(serial * 7 + len(offers)) % len(makers)]
            if kind == "product" and maker.kind in ("university", "institute", "lab"):
                kind = "technology"
            offer = Offer(
                organization=maker, kind=kind, status="published", visibility="public",
                title_zh=tzh + variant_zh, title_en=ten + variant_en, summary_zh=szh, summary_en=sen,
                description_zh=f"{szh}\n由{maker.name_zh}提供。", description_en=f"{sen}\nOffered by {maker.name_en}.",
                problem_zh=f"解决{fields[code].name_zh}领域的一线需求。",
                problem_en=f"Built for front-line use in {fields[code].name_en.lower()}.",
                advantage_zh="相比同类方案速度更快、成本更低、可快速部署。",
                advantage_en="Faster, cheaper and quicker to deploy than comparable solutions.",
                scenarios_zh="医院、发热门诊、方舱医院、社区", scenarios_en="Hospitals, fever clinics, field hospitals, communities",
                tags=list(tags), trl=trl if kind != "service" else None,
                regulatory_statuses=list(regulatory) if kind == "product" else [],
                partnership_modes=(["sale"] if kind == "product" else ["licence", "co_development"] if kind == "technology"
                                   else ["sale"]),
                price_rmb=Decimal(rng.choice([20, 50, 120, 300, 800, 5000, 20000, 150000, 480000])) if kind == "product" else None,
                capacity=("日产能 %d 件" % rng.choice([500, 2000, 10000, 50000])) if kind == "product" else "",
                lead_time_days=rng.choice([3, 7, 14, 30]) if kind == "product" else None,
                ip_status="已申请发明专利 / invention patent filed" if kind == "technology" else "",
                fields=[fields[code], fields[code.split(".")[0]]], is_demo=True,
                import_key=f"demo:offer:{serial}",
            )
            serial += 1
            offers.append(offer)
    start = 0
    for batch, size in zip(batches, BATCH_SIZES):
        for offer in offers[start:start + size]:
            offer.batch = batch
            offer.published_at = datetime.combine(batch.published_on, datetime.min.time(), tzinfo=timezone.utc)
            offer.submitted_at = offer.published_at - timedelta(days=3)
        start += size
    session.add_all(offers)
    # A few drafts and submissions so the verification queue is not empty.
    for i in range(6):
        template = OFFER_TEMPLATES[i * 5]
        session.add(Offer(organization=makers[i], kind=template[1], status="submitted" if i % 2 else "draft",
                          title_zh=template[2] + "（待审核）", title_en=template[3] + " (pending)",
                          summary_zh=template[4], summary_en=template[5], tags=list(template[6]),
                          fields=[fields[template[0]]], is_demo=True, import_key=f"demo:pending:{i}",
                          submitted_at=datetime.now(timezone.utc) if i % 2 else None))
    session.flush()
    return offers


def _patents(session, rng: random.Random, orgs: dict, fields: dict[str, Field], hv_batch: Batch) -> None:
    owners = orgs["university"] + orgs["institute"] + orgs["lab"] + orgs["firm"][:8]
    today = date(2020, 4, 1)
    details = []
    for i in range(90):
        tzh, ten, ipc, code = PATENT_TOPICS[i % len(PATENT_TOPICS)]
        owner = owners[i % len(owners)]
        filing = date(2015 + i % 6, 1 + i % 12, 1 + i % 27)
        granted = i % 4 != 3
        offer = Offer(organization=owner, kind="patent", status="published", visibility="public",
                      title_zh=tzh if i < len(PATENT_TOPICS) else f"{tzh}（{i // len(PATENT_TOPICS) + 1}）",
                      title_en=ten if i < len(PATENT_TOPICS) else f"{ten} ({i // len(PATENT_TOPICS) + 1})",
                      summary_zh=f"本专利涉及{fields[code].name_zh}，{owner.name_zh}拥有，愿意以许可或转让方式合作。",
                      summary_en=f"A patent in {fields[code].name_en.lower()} held by {owner.name_en}, "
                                 f"available for licence or assignment.",
                      tags=[fields[code].name_zh, fields[code].name_en, ipc.split("/")[0]],
                      trl=rng.choice([3, 4, 5, 6, 7]), partnership_modes=["licence", "transfer"],
                      fields=[fields[code], fields[code.split(".")[0]]], is_demo=True, import_key=f"demo:patent:{i}",
                      published_at=datetime(2020, 3, 20, tzinfo=timezone.utc))
        detail = PatentDetail(
            application_number=_patent_number(filing.year, 100000 + i * 37),
            patent_type="invention", ipc_classes=[ipc], applicants=[owner.name_zh],
            inventors=[rng.choice(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏"]) for _ in range(2)],
            filing_date=filing, grant_date=filing + timedelta(days=700) if granted else None,
            legal_status="granted" if granted else "pending", claims_count=rng.randint(3, 25),
            citations=rng.randint(0, 40), family_size=rng.randint(1, 8), transfer_willingness=rng.randint(2, 5),
            market_prospect=rng.randint(2, 5), transfer_modes=["exclusive_licence", "assignment"])
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
        elif rank < 75:
            detail.curation_stage = "shortlisted"
        else:
            detail.curation_stage = "screened"
            detail.offer.status = "archived"
    session.flush()


def _financial(session, rng: random.Random, orgs: dict, fields: dict[str, Field], batch: Batch) -> None:
    products = []
    for i, bank in enumerate(orgs["bank"]):
        products.append((bank, "loan", "疫情防控专项贷款", "Epidemic prevention special loan",
                         "面向防疫物资生产企业的专项贷款，最快两天放款，利率低至2.05%起。",
                         "Special loans for makers of epidemic supplies, disbursed in as little as two days, from 2.05%.",
                         dict(amount_min_rmb=Decimal(500000), amount_max_rmb=Decimal(50000000), rate_min_pct=2.05 + 0.2 * i,
                              rate_max_pct=3.85, term_months_min=6, term_months_max=12,
                              guarantee="信用贷款，无需抵押 / unsecured")))
        products.append((bank, "loan", "科技型小微企业信用贷", "Credit loan for small tech firms",
                         "园区注册的小微科技企业可申请，最高500万元，一年期3.05%。",
                         "For small and micro tech firms registered in the park: up to 5 million RMB, one year at 3.05%.",
                         dict(amount_min_rmb=Decimal(100000), amount_max_rmb=Decimal(5000000), rate_min_pct=3.05,
                              rate_max_pct=4.35, term_months_min=3, term_months_max=12, guarantee="信用 / unsecured")))
    for g in orgs["guarantee"]:
        products.append((g, "guarantee", "防疫企业融资担保", "Financing guarantee for epidemic-related firms",
                         "担保费率不超过0.8%，药品和疫苗生产企业免收担保费。",
                         "Guarantee fee at most 0.8%, waived for drug and vaccine makers.",
                         dict(amount_min_rmb=Decimal(1000000), amount_max_rmb=Decimal(20000000), guarantee_fee_pct=0.8,
                              term_months_min=6, term_months_max=24, guarantee="担保 / guaranteed")))
    for v in orgs["vc"]:
        products.append((v, "investment", "抗疫投资行动", "Anti-epidemic investment action",
                         "聚焦生命健康、数字经济、协同办公、无人配送领域的早期和成长期企业。",
                         "Early and growth-stage firms in life health, digital economy, collaborative office and unmanned delivery.",
                         dict(invest_fields=["生命健康", "数字经济", "协同办公", "无人配送", "life health", "digital economy"],
                              invest_stages=["early", "growth"], ticket_min_rmb=Decimal(5000000),
                              ticket_max_rmb=Decimal(50000000))))
    for i, (org, ptype, tzh, ten, szh, sen, detail) in enumerate(products):
        offer = Offer(organization=org, kind="financial", status="published", visibility="public", title_zh=tzh,
                      title_en=ten, summary_zh=szh, summary_en=sen, tags=["融资", "financing", tzh[:4]],
                      partnership_modes=["investment"] if ptype == "investment" else [], batch=batch,
                      fields=[fields["D1"]], is_demo=True, import_key=f"demo:financial:{i}",
                      published_at=datetime.combine(batch.published_on, datetime.min.time(), tzinfo=timezone.utc))
        offer.financial = FinancialDetail(product_type=ptype, eligibility_zh="园区注册企业，防疫相关业务。",
                                          eligibility_en="Firms registered in the park with epidemic-related business.",
                                          **detail)
        session.add(offer)
    session.flush()


def _needs(session, rng: random.Random, orgs: dict, fields: dict[str, Field]) -> int:
    hospitals, firms = orgs["hospital"], orgs["firm"]
    count = 0
    for round_no in range(4):
        for i, (kind, code, tzh, ten, dzh, den, tags, certs, qty, unit, budget) in enumerate(NEED_TEMPLATES):
            if kind in ("procurement",) or (kind in ("technology_cooperation", "testing_lab") and i % 2 == 0):
                owner = hospitals[(i + round_no * 3) % len(hospitals)]
            else:
                owner = firms[(i + round_no * 5) % len(firms)]
            suffix_zh, suffix_en = ("", "") if round_no == 0 else (f"（{owner.short_name or owner.name_zh[:4]}）",
                                                                   f" ({owner.name_en.split(' ')[0]})")
            session.add(Need(
                organization=owner, kind=kind, status="open" if (i + round_no) % 9 else "matched",
                visibility="confidential" if (i * 3 + round_no) % 17 == 0 else "public",
                title_zh=tzh + suffix_zh, title_en=ten + suffix_en, description_zh=dzh, description_en=den,
                tags=list(tags), quantity=qty, unit=unit,
                budget_max_rmb=Decimal(budget) if budget else None,
                budget_min_rmb=Decimal(budget) * Decimal("0.5") if budget else None,
                deadline=date(2020, 3, 1) + timedelta(days=20 + 7 * i + round_no * 30),
                required_certifications=list(certs), urgency=("critical", "high", "normal")[(i + round_no) % 3],
                min_trl=6 if kind == "technology_cooperation" else None,
                fields=[fields[code], fields[code.split(".")[0]]], is_demo=True, import_key=f"demo:need:{round_no}:{i}"))
            count += 1
    session.flush()
    return count


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


def _events(session) -> int:
    """Five finished high-value patent roadshows (37 projects), Spark events, and one upcoming roadshow."""
    from marketplace.models import AgendaItem, Event, EventSeries

    organiser = session.scalar(select(User).where(User.email == "organiser@demo.techbridge.cn"))
    patents = list(session.scalars(select(Offer).join(PatentDetail).where(
        PatentDetail.curation_stage == "high_value", Offer.status == "published").order_by(Offer.id)))
    projects = list(session.scalars(select(Offer).where(Offer.kind == "technology", Offer.status == "published")
                                    .order_by(Offer.id).limit(40)))
    roadshows = EventSeries(kind="roadshow", name_zh="高价值专利线上路演", name_en="Online high-value patent roadshows",
                            created_by_id=organiser.id if organiser else None)
    spark = EventSeries(kind="spark", name_zh="火花活动：线上技术转移", name_en="Spark: online technology transfer",
                        created_by_id=organiser.id if organiser else None)
    session.add_all([roadshows, spark])
    per_session = (8, 7, 8, 7, 7)  # 37 projects over 5 sessions, as the park reported
    start = 0
    count = 0

    def add_event(series, kind, n, starts, items, status, title_zh, title_en):
        event = Event(series=series, organiser_id=organiser.id if organiser else None, kind=kind, status=status,
                      title_zh=title_zh, title_en=title_en,
                      description_zh="面向投资机构、企业、医院、银行和孵化器的线上对接活动（演示数据）。",
                      description_en="Online matchmaking for investors, firms, hospitals, banks and incubators (demo data).",
                      starts_at=starts, ends_at=starts + timedelta(hours=2), timezone="Asia/Shanghai",
                      meeting_url="https://meeting.example.cn/demo", capacity=200,
                      registration_deadline=starts - timedelta(hours=2),
                      audience=["investors", "firms", "hospitals", "banks", "incubators"],
                      meetings_start_at=starts + timedelta(hours=1), meeting_minutes=15, meeting_slots=4,
                      meeting_tables=4, published_at=starts - timedelta(days=7), is_demo=True)
        for i, offer in enumerate(items):
            slot = starts + timedelta(minutes=10 * i)
            event.items.append(AgendaItem(offer_id=offer.id, organization_id=offer.organization_id, starts_at=slot,
                                          ends_at=slot + timedelta(minutes=10), meeting_capacity=4))
        session.add(event)

    for n, size in enumerate(per_session, start=1):
        starts = datetime(2020, 4, 14, 6, 0, tzinfo=timezone.utc) + timedelta(days=7 * (n - 1))
        add_event(roadshows, "roadshow", n, starts, patents[start:start + size], "finished",
                  f"高价值专利线上路演第{n}场", f"Online high-value patent roadshow {n}")
        start += size
        count += 1
    for n in range(1, 5):
        starts = datetime(2020, 3, 3 + 5 * n, 7, 0, tzinfo=timezone.utc)
        add_event(spark, "spark", n, starts, projects[(n - 1) * 4:n * 4], "finished",
                  f"火花活动第{n}期", f"Spark event {n}")
        count += 1
    upcoming = datetime.combine(date.today() + timedelta(days=21), datetime.min.time(), tzinfo=timezone.utc) \
        + timedelta(hours=6)
    add_event(roadshows, "roadshow", 6, upcoming, patents[37:43], "published", "高价值专利线上路演第6场（报名中）",
              "Online high-value patent roadshow 6 (registration open)")
    session.flush()
    return count + 1


def load_demo(session, *, reset_passwords: bool = False, seed: int = 2020) -> dict:
    """Load the demo dataset unless it is already there (idempotent). Flushes; the caller commits."""
    rng = random.Random(seed)
    load_taxonomy(session)
    fields = {f.code: f for f in session.scalars(select(Field))}
    already = session.scalar(select(func.count(Organization.id)).where(Organization.is_demo.is_(True))) or 0
    if already:
        orgs: dict[str, list[Organization]] = {}
        for org in session.scalars(select(Organization).where(Organization.is_demo.is_(True)).order_by(Organization.id)):
            orgs.setdefault(org.kind, []).append(org)
        return {"created": False, "accounts": _accounts(session, orgs, reset_passwords)}
    orgs = _organizations(session, rng)
    batches = []
    next_number = (session.scalar(select(func.max(Batch.number))) or 0) + 1
    for n, (size, day) in enumerate(zip(BATCH_SIZES, (date(2020, 2, 14), date(2020, 3, 2), date(2020, 3, 25)))):
        batch = Batch(number=next_number + n, kind="regular", published_on=day,
                      title_zh=f"第{next_number + n}批：{size}项抗疫新技术、新产品、新服务",
                      title_en=f"Batch {next_number + n}: {size} anti-epidemic technologies, products and services",
                      note_zh="经园区核验后发布，涵盖五大重点支持方向。",
                      note_en="Published after verification by the park, across the five key support directions.")
        session.add(batch)
        batches.append(batch)
    hv_batch = Batch(number=next_number + 3, kind="high_value", published_on=date(2020, 4, 10),
                     title_zh="高价值专利第一批：50项", title_en="High-value patents, first batch: 50 patents",
                     note_zh="从10万余件专利中筛选出400余件，择优发布转化意愿强、市场前景好的50件。",
                     note_en="From 100,000+ patents screened, 400+ shortlisted; the 50 with strong willingness to transfer "
                             "and good market prospects are published.")
    session.add(hv_batch)
    session.flush()
    offers = _offers(session, rng, orgs, fields, batches)
    _patents(session, rng, orgs, fields, hv_batch)
    _financial(session, rng, orgs, fields, batches[0])
    needs = _needs(session, rng, orgs, fields)
    accounts = _accounts(session, orgs, reset_passwords)
    events = _events(session)
    return {"created": True, "events": events, "organizations": sum(len(v) for v in orgs.values()), "offers": len(offers),
            "needs": needs, "accounts": accounts}
