"""Financial products of the demo banks, guarantee companies and investors: one distinct product each, with
terms from the source documents (epidemic loans from 2.05%, guarantee fees at most 0.8%, the anti-epidemic
investment action)."""
from __future__ import annotations

from decimal import Decimal

from marketplace.models import Field, FinancialDetail, Offer

# (title zh, title en, summary zh, summary en, amount min, amount max, rate min, rate max, term min, term max)
LOANS = [
    ("疫情防控专项贷款", "Epidemic prevention special loan", "面向防疫物资生产企业，最快两天放款，利率低至2.05%起。",
     "For makers of epidemic supplies, disbursed in as little as two days, from 2.05%.", 500000, 50000000, 2.05, 3.85, 6, 12),
    ("科技型小微企业信用贷", "Credit loan for small tech firms", "园区注册的小微科技企业可申请，最高500万元，一年期3.05%。",
     "For small and micro tech firms registered in the park: up to 5 million RMB, one year at 3.05%.",
     100000, 5000000, 3.05, 4.35, 3, 12),
    ("知识产权质押贷款", "Intellectual-property pledge loan", "以发明专利质押，评估后放款，适合轻资产研发企业。",
     "Invention patents as collateral after valuation, for asset-light R&D firms.", 1000000, 20000000, 3.2, 4.5, 12, 36),
    ("首贷贴息贷款", "First-loan interest-subsidised credit", "首次贷款企业享受贴息，综合成本低于3%。",
     "Interest subsidy for a firm's first loan; all-in cost below 3%.", 300000, 10000000, 2.5, 3.6, 6, 24),
    ("供应链应收账款融资", "Supply-chain receivables financing", "以医院和大型企业订单应收账款融资，随借随还。",
     "Finance receivables from hospital and large-firm orders; draw and repay at will.", 500000, 30000000, 3.0, 4.2, 3, 12),
    ("医疗设备融资租赁", "Medical equipment financial leasing", "新建产线与检测设备可以融资租赁方式取得。",
     "New production lines and test equipment by financial lease.", 2000000, 80000000, 3.8, 5.2, 12, 60),
    ("复工复产流动资金贷款", "Working-capital loan for restarting production", "保障复工复产期间工资和原材料支出。",
     "Covers wages and materials while production restarts.", 500000, 20000000, 2.8, 4.0, 6, 12),
    ("科创订单贷", "Order-backed loan for tech firms", "凭政府和医院采购订单放款。", "Lending against government and hospital orders.",
     200000, 8000000, 3.1, 4.3, 3, 12),
    ("研发费用贷", "R&D expense loan", "覆盖临床试验和注册检验等研发支出。", "Covers R&D spending such as clinical trials and registration tests.",
     1000000, 15000000, 3.3, 4.6, 12, 36),
    ("人才创业贷", "Start-up loan for returning talent", "面向高层次人才创办企业，免抵押。",
     "For firms founded by high-level talent; no collateral.", 500000, 5000000, 3.0, 4.0, 12, 36),
    ("应急转贷资金", "Emergency bridge refinancing", "到期贷款续贷过桥，三天内到账。", "Bridge refinancing of maturing loans within three days.",
     500000, 10000000, 2.9, 3.9, 1, 3),
    ("出口信用保险保单融资", "Export credit insurance policy financing", "呼吸机、防护用品出口企业凭保单融资。",
     "For exporters of ventilators and PPE, financed against the insurance policy.", 1000000, 30000000, 3.2, 4.4, 3, 12),
]
GUARANTEES = [
    ("防疫企业融资担保", "Financing guarantee for epidemic-related firms", "担保费率不超过0.8%，药品和疫苗生产企业免收担保费。",
     "Guarantee fee at most 0.8%, waived for drug and vaccine makers."),
    ("知识产权融资担保", "Guarantee for IP-backed financing", "为专利质押贷款提供担保，费率0.8%以内。",
     "Guarantees patent-pledge loans, fee within 0.8%."),
    ("中小企业应急转贷担保", "Emergency refinancing guarantee for SMEs", "到期续贷担保，担保费减半。",
     "Guarantee for refinancing maturing loans, fee halved."),
]
INVESTMENTS = [
    ("生命健康早期投资", "Early-stage life-health investment", ["生命健康", "life health"], ["early"]),
    ("数字经济成长基金", "Digital-economy growth fund", ["数字经济", "digital economy"], ["growth"]),
    ("科创天使投资", "Angel investment in tech start-ups", ["人工智能", "医疗器械"], ["seed", "early"]),
    ("协同办公赛道投资", "Collaborative-office investment", ["协同办公", "collaborative office"], ["early", "growth"]),
    ("医疗器械产业投资", "Medical-device industry investment", ["医疗器械", "medical devices"], ["growth"]),
    ("无人配送硬科技投资", "Hard-tech investment in unmanned delivery", ["无人配送", "unmanned delivery"], ["early", "growth"]),
]


def financial_products(orgs: dict, fields: dict[str, Field]) -> list[Offer]:
    """One distinct product per bank (two each), guarantee company and investor; not yet in a batch."""
    rows = []
    for i, (tzh, ten, szh, sen, amin, amax, rmin, rmax, tmin, tmax) in enumerate(LOANS):
        bank = orgs["bank"][i % len(orgs["bank"])]
        rows.append((bank, "loan", tzh, ten, szh, sen, dict(
            amount_min_rmb=Decimal(amin), amount_max_rmb=Decimal(amax), rate_min_pct=rmin, rate_max_pct=rmax,
            term_months_min=tmin, term_months_max=tmax, guarantee="信用贷款，无需抵押 / unsecured")))
    for i, (tzh, ten, szh, sen) in enumerate(GUARANTEES):
        rows.append((orgs["guarantee"][i % len(orgs["guarantee"])], "guarantee", tzh, ten, szh, sen, dict(
            amount_min_rmb=Decimal(1000000), amount_max_rmb=Decimal(20000000), guarantee_fee_pct=0.8,
            term_months_min=6, term_months_max=24, guarantee="担保 / guaranteed")))
    for i, (tzh, ten, focus, stages) in enumerate(INVESTMENTS):
        rows.append((orgs["vc"][i % len(orgs["vc"])], "investment", tzh, ten,
                     f"抗疫投资行动的一部分，关注{'、'.join(focus[:2])}领域。",
                     f"Part of the anti-epidemic investment action, focused on {', '.join(focus[-1:])}.",
                     dict(invest_fields=focus, invest_stages=stages, ticket_min_rmb=Decimal(5000000),
                          ticket_max_rmb=Decimal(50000000))))
    offers = []
    for i, (org, ptype, tzh, ten, szh, sen, detail) in enumerate(rows):
        offer = Offer(organization=org, kind="financial", status="published", visibility="public", title_zh=tzh,
                      title_en=ten, summary_zh=szh, summary_en=sen, tags=["融资", "financing", tzh[:4]],
                      partnership_modes=["investment"] if ptype == "investment" else [],
                      fields=[fields["D1"]], is_demo=True, import_key=f"demo:financial:{i}")
        offer.financial = FinancialDetail(product_type=ptype, eligibility_zh="园区注册企业，防疫相关业务。",
                                          eligibility_en="Firms registered in the park with epidemic-related business.",
                                          **detail)
        offers.append(offer)
    return offers
