"""Display labels (translatable) for the coded values of the domain model."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

ORG_KIND_LABELS = {
    "hospital": _l("Hospital"), "firm": _l("Firm / manufacturer"), "lab": _l("Laboratory"),
    "university": _l("University"), "institute": _l("Research institute"), "bank": _l("Bank"),
    "guarantee": _l("Guarantee company"), "vc": _l("Venture capital"), "agency": _l("Service agency"),
    "operator": _l("Park operator"),
}
SIZE_CLASS_LABELS = {"micro": _l("Micro"), "small": _l("Small"), "medium": _l("Medium"), "large": _l("Large")}
SUB_PARK_LABELS = {
    "haidian": _l("Haidian Park"), "changping": _l("Changping Park"), "shunyi": _l("Shunyi Park"),
    "daxing_yizhuang": _l("Daxing-Yizhuang Park"), "fangshan": _l("Fangshan Park"), "tongzhou": _l("Tongzhou Park"),
    "chaoyang": _l("Chaoyang Park"), "dongcheng": _l("Dongcheng Park"), "xicheng": _l("Xicheng Park"),
    "fengtai": _l("Fengtai Park"), "shijingshan": _l("Shijingshan Park"), "mentougou": _l("Mentougou Park"),
    "pinggu": _l("Pinggu Park"), "huairou": _l("Huairou Park"), "miyun": _l("Miyun Park"),
    "yanqing": _l("Yanqing Park"),
}
OFFER_KIND_LABELS = {
    "technology": _l("New technology"), "product": _l("New product"), "service": _l("New service"),
    "patent": _l("Patent"), "financial": _l("Financial product"),
}
OFFER_STATUS_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Awaiting verification"), "changes_requested": _l("Changes requested"),
    "approved": _l("Approved"),
    "published": _l("Published"), "rejected": _l("Rejected"), "archived": _l("Archived"),
}
REGULATORY_LABELS = {
    "nmpa": _l("NMPA registration"), "ce": _l("CE marking"), "fda": _l("FDA"),
    "emergency": _l("Emergency approval"), "none": _l("No registration needed"),
}
PARTNERSHIP_LABELS = {
    "sale": _l("Sale"), "licence": _l("Licence"), "transfer": _l("Transfer"),
    "co_development": _l("Co-development"), "investment": _l("Investment"),
}
VISIBILITY_LABELS = {
    "public": _l("Public"), "teaser": _l("Summary public, details on request"),
    "confidential": _l("Confidential (brokers and operators only)"),
}
NEED_KIND_LABELS = {
    "procurement": _l("Procurement"), "technology_cooperation": _l("Technology / R&D cooperation"),
    "manufacturing_supply": _l("Manufacturing / supply"), "testing_lab": _l("Testing / lab"),
    "financing": _l("Financing"), "space": _l("Space"),
}
NEED_STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Open"), "matched": _l("Matched"), "closed": _l("Closed")}
URGENCY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "critical": _l("Critical")}
LEGAL_STATUS_LABELS = {
    "pending": _l("Pending examination"), "granted": _l("Granted"), "lapsed": _l("Lapsed"),
    "invalid": _l("Invalidated"), "expired": _l("Expired"),
}
TRANSFER_MODE_LABELS = {
    "assignment": _l("Assignment"), "exclusive_licence": _l("Exclusive licence"),
    "non_exclusive_licence": _l("Non-exclusive licence"), "licence": _l("Licence"), "pledge": _l("Pledge financing"),
    "equity": _l("Equity contribution"),
}
FINANCIAL_TYPE_LABELS = {
    "loan": _l("Loan"), "guarantee": _l("Guarantee"), "leasing": _l("Leasing"), "investment": _l("Equity investment"),
}
INVEST_STAGE_LABELS = {
    "seed": _l("Seed"), "angel": _l("Angel"), "early": _l("Early stage"), "growth": _l("Growth stage"),
    "late": _l("Late stage"),
}
ROLE_LABELS = {
    "operator": _l("Platform operator"), "broker": _l("Technology manager"), "organiser": _l("Event organiser"),
    "admin": _l("Administrator"),
}
MEMBERSHIP_ROLE_LABELS = {"owner": _l("Owner"), "member": _l("Member")}
VERIFICATION_STATUS_LABELS = {"pending": _l("Waiting for an operator"), "approved": _l("Approved"),
                              "rejected": _l("Rejected")}
TRL_LABELS = {str(n): _l("TRL %(n)d", n=n) for n in range(1, 10)}

INTRODUCTION_STAGE_LABELS = {
    "proposed": _l("Proposed"), "declined": _l("Declined"), "expired": _l("Expired"),
    "accepted": _l("Accepted"), "contacted": _l("Contacted"), "meeting_held": _l("Meeting held"),
    "nda_signed": _l("NDA signed"), "pilot": _l("Trial / pilot"), "negotiation": _l("Negotiation"),
    "signed": _l("Signed"), "lost": _l("Lost"),
}
INTRODUCTION_RESPONSE_LABELS = {"pending": _l("Waiting for an answer"), "accepted": _l("Accepted"), "declined": _l("Declined")}
INTRODUCTION_SIDE_LABELS = {"need": _l("Need side"), "offer": _l("Offer side")}
MATCH_BAND_LABELS = {"strong": _l("Strong match"), "good": _l("Good match"), "possible": _l("Possible match")}
MATCH_PART_LABELS = {
    "text": _l("Similar wording"), "graph": _l("Connections (fields, partners, past deals)"),
    "graph_text": _l("Related to other close matches"), "tags": _l("Shared tags"),
    "rules": _l("Requirements met (kind, certification, maturity, budget, deadline)"),
    "fit": _l("Financing fit (amount, term, rate, eligibility)"),
}
MATCH_FLAG_LABELS = {"not_certified": _l("Not certified")}
MATCH_VERDICT_LABELS = {"accepted": _l("Accepted"), "dismissed": _l("Not relevant"), "signed": _l("Signed")}

# Event time zones as people name them (the IANA name stays the stored value).
TIMEZONE_LABELS = {
    "Asia/Shanghai": _l("Beijing time"), "Asia/Hong_Kong": _l("Hong Kong time"), "Asia/Taipei": _l("Taipei time"),
    "Asia/Tokyo": _l("Tokyo time"), "Asia/Seoul": _l("Seoul time"), "Asia/Singapore": _l("Singapore time"),
    "Europe/London": _l("London time"), "Europe/Berlin": _l("Central European time"),
    "America/New_York": _l("US Eastern time"), "America/Los_Angeles": _l("US Pacific time"),
    "UTC": _l("Coordinated Universal Time (UTC)"),
}
IMPORT_RUN_STATUS_LABELS = {"queued": _l("Waiting to start"), "running": _l("Importing"), "done": _l("Finished"),
                            "failed": _l("Nothing imported")}

REQUEST_PURPOSE_LABELS = {
    "purchase": _l("Purchase"), "licence": _l("Licence"), "transfer": _l("Technology transfer"),
    "co_development": _l("Co-development"), "investment": _l("Investment or financing"), "trial": _l("Trial / pilot"),
    "testing": _l("Testing"),
}

POLICY_PART_STATUS_LABELS = {
    "received": _l("Received"), "in_review": _l("In review"), "info_requested": _l("More information requested"),
    "supported": _l("Supported"), "declined": _l("Declined"),
}
POLICY_MEASURE_STATUS_LABELS = {"active": _l("In force"), "archived": _l("No longer in force")}
LIAISON_TOPIC_LABELS = {
    "materials": _l("Materials and supplies"), "supply_chain": _l("Supply chain"), "logistics": _l("Logistics"),
    "staff_return": _l("Staff returning to work"), "financing": _l("Financing"), "legal": _l("Legal matters"),
    "space": _l("Space"), "measures_taken": _l("Measures we took"),
}
LIAISON_STATUS_LABELS = {"open": _l("Waiting for an answer"), "answered": _l("Answered"),
                         "routed": _l("Passed to an office"), "need_posted": _l("Posted as a need"),
                         "closed": _l("Closed")}

SUPPLIER_STATUS_LABELS = {"blocked": _l("Blocked"), "import_delayed": _l("Imported, delayed"),
                          "running": _l("Running")}
SURVEY_STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Open for answers"), "closed": _l("Closed")}
SURVEY_QUESTION_KIND_LABELS = {"number": _l("A number"), "single": _l("One choice among several"),
                               "text": _l("A short text")}

ALL_LABELS = {
    "org_kind": ORG_KIND_LABELS, "size_class": SIZE_CLASS_LABELS, "sub_park": SUB_PARK_LABELS,
    "offer_kind": OFFER_KIND_LABELS, "offer_status": OFFER_STATUS_LABELS, "regulatory": REGULATORY_LABELS,
    "partnership": PARTNERSHIP_LABELS, "visibility": VISIBILITY_LABELS, "need_kind": NEED_KIND_LABELS,
    "need_status": NEED_STATUS_LABELS, "urgency": URGENCY_LABELS, "legal_status": LEGAL_STATUS_LABELS,
    "transfer_mode": TRANSFER_MODE_LABELS, "financial_type": FINANCIAL_TYPE_LABELS,
    "invest_stage": INVEST_STAGE_LABELS, "purpose": REQUEST_PURPOSE_LABELS, "role": ROLE_LABELS, "trl": TRL_LABELS,
    "match_verdict": MATCH_VERDICT_LABELS, "match_band": MATCH_BAND_LABELS, "match_part": MATCH_PART_LABELS,
    "match_flag": MATCH_FLAG_LABELS, "growth_stage": INVEST_STAGE_LABELS, "import_status": IMPORT_RUN_STATUS_LABELS,
    "membership_role": MEMBERSHIP_ROLE_LABELS, "verification_status": VERIFICATION_STATUS_LABELS,
    "policy_part_status": POLICY_PART_STATUS_LABELS, "policy_measure_status": POLICY_MEASURE_STATUS_LABELS,
    "liaison_topic": LIAISON_TOPIC_LABELS, "liaison_status": LIAISON_STATUS_LABELS,
    "supplier_status": SUPPLIER_STATUS_LABELS, "survey_status": SURVEY_STATUS_LABELS,
    "survey_question_kind": SURVEY_QUESTION_KIND_LABELS,
}
# Open challenges (issue 17): statuses of challenges and proposals, the list's filter, answers, the panel.
CHALLENGE_STATUS_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Waiting for verification"), "sent_back": _l("Sent back for changes"),
    "rejected": _l("Rejected"), "published": _l("Open for proposals"), "closed": _l("Deadline passed"),
    "in_evaluation": _l("In evaluation"), "awarded": _l("Awarded"), "delivered": _l("Delivered"),
    "withdrawn": _l("Withdrawn"),
}
PROPOSAL_STATUS_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Submitted"), "withdrawn": _l("Withdrawn"), "shortlisted": _l("Shortlisted"),
    "awarded": _l("Awarded"), "not_selected": _l("Not selected"),
}
CHALLENGE_FILTER_LABELS = {"open": _l("Open for proposals"), "closed": _l("Deadline passed"), "awarded": _l("Awarded")}
ANSWER_VISIBILITY_LABELS = {"public": _l("Public clarification"), "private": _l("Private answer")}
PANEL_ROLE_LABELS = {"chair": _l("Panel chair"), "evaluator": _l("Evaluator"), "expert": _l("Park expert")}
MILESTONE_STATUS_LABELS = {"due": _l("Due"), "delivered": _l("Delivered"), "accepted": _l("Accepted")}
ALL_LABELS.update({"challenge_status": CHALLENGE_STATUS_LABELS, "proposal_status": PROPOSAL_STATUS_LABELS,
                   "challenge_filter": CHALLENGE_FILTER_LABELS, "answer_visibility": ANSWER_VISIBILITY_LABELS,
                   "panel_role": PANEL_ROLE_LABELS, "milestone_status": MILESTONE_STATUS_LABELS})
# Groups added for issue 20 (people saw these codes): time zones and introduction stages.
ALL_LABELS.update({"timezone": TIMEZONE_LABELS, "introduction_stage": INTRODUCTION_STAGE_LABELS})


# Translated labels by (locale, group, code): a page draws dozens of labels and resolving a lazy string finds the
# request's catalogue again each time; the catalogues do not change while the process runs. Bounded by the codes
# above times the languages.
_TRANSLATED: dict[tuple[str, str, str], str] = {}


def label(group: str, value) -> str:
    """Translated label of ``value`` in ``group`` (the raw value when unknown)."""
    if value is None:
        return ""
    code = value if not isinstance(value, int) else str(value)
    text = ALL_LABELS.get(group, {}).get(code)
    if text is None:
        return str(value)
    locale = get_locale()
    if locale is None:  # outside a request: untranslated, never kept
        return str(text)
    key = (str(locale) if locale.territory or locale.script else locale.language, group, code)
    found = _TRANSLATED.get(key)
    if found is None:
        found = _TRANSLATED[key] = str(text)
    return found


def options(group: str) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a select or checkbox group."""
    return [(value, str(text)) for value, text in ALL_LABELS[group].items()]
