"""Test data builders. Each call commits in its own app context and returns plain ids."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from werkzeug.security import generate_password_hash

from marketplace.extensions import db
from marketplace.identifiers import USCC_ALPHABET, patent_check_character, uscc_check_character
from marketplace.models import Field, Membership, Need, Offer, Organization, PatentDetail, User, UserRole

_counter = itertools.count(1)


def _commit() -> None:
    """Commit like the app's unit of work does: then run the jobs it enqueued (the search relay)."""
    from marketplace import jobs
    db.session.commit()
    jobs.dispatch_pending(db.session)


def valid_uscc(n: int) -> str:
    body = "91110108" + "".join(USCC_ALPHABET[(n * 7 + i) % 31] for i in range(9))
    return body + uscc_check_character(body)


def other_uscc(n: int) -> str:
    """A valid credit code that no factory organisation has (another region prefix, ``n`` spelt in base 31)."""
    digits = ""
    for _ in range(9):
        n, rest = divmod(n, 31)
        digits = USCC_ALPHABET[rest] + digits
    body = "92310000" + digits
    return body + uscc_check_character(body)


def valid_patent_number(n: int, year: int = 2020) -> str:
    digits = f"{year}1{n:07d}"
    return f"{digits}.{patent_check_character(digits)}"


class Factory:
    def __init__(self, app, password: str):
        self.app = app
        self.password = password
        # Hashing is slow on purpose; tests share one hash for the common password.
        self._hash = generate_password_hash(password, method="pbkdf2:sha256:1000")

    def org(self, kind: str = "firm", name: str | None = None, **kw) -> int:
        n = next(_counter)
        with self.app.app_context():
            org = Organization(kind=kind, name_zh=name or f"测试机构{n}", name_en=kw.pop("name_en", f"Test org {n}"),
                               uscc=kw.pop("uscc", valid_uscc(n)), **kw)
            db.session.add(org)
            _commit()
            return org.id

    def user(self, email: str | None = None, org_id: int | None = None, roles: tuple[str, ...] = (),
             password: str | None = None) -> int:
        n = next(_counter)
        with self.app.app_context():
            user = User(email=email or f"user{n}@example.com", display_name=f"用户{n}",
                        password_hash=generate_password_hash(password, method="pbkdf2:sha256:1000")
                        if password else self._hash)
            db.session.add(user)
            for role in roles:
                user.roles.append(UserRole(role=role))
            if org_id:
                db.session.add(Membership(user=user, organization_id=org_id, role="owner"))
            _commit()
            return user.id

    def member(self, kind: str = "firm", roles: tuple[str, ...] = ()) -> tuple[int, int, str]:
        """A new organisation with one owner; returns (org id, user id, e-mail)."""
        org_id = self.org(kind)
        n = next(_counter)
        email = f"member{n}@example.com"
        user_id = self.user(email, org_id, roles)
        return org_id, user_id, email

    def staff(self, role: str = "operator") -> tuple[int, str]:
        n = next(_counter)
        email = f"{role}{n}@example.com"
        return self.user(email, roles=(role,)), email

    def offer(self, org_id: int, kind: str = "product", status: str = "published", field_codes=("D1.ivd",),
              **kw) -> int:
        n = next(_counter)
        with self.app.app_context():
            offer = Offer(organization_id=org_id, kind=kind, status=status,
                          title_zh=kw.pop("title_zh", f"测试产品{n}"), title_en=kw.pop("title_en", f"Test offer {n}"),
                          summary_zh=kw.pop("summary_zh", "摘要"), summary_en=kw.pop("summary_en", "Summary"), **kw)
            offer.fields = [db.session.query(Field).filter_by(code=c).one() for c in field_codes]
            if kind == "patent":
                offer.patent = PatentDetail(application_number=valid_patent_number(n), legal_status="granted",
                                            filing_date=date(2019, 1, 1), claims_count=10, citations=5)
            db.session.add(offer)
            _commit()
            return offer.id

    def need(self, org_id: int, kind: str = "procurement", status: str = "open", visibility: str = "public",
             **kw) -> int:
        n = next(_counter)
        with self.app.app_context():
            need = Need(organization_id=org_id, kind=kind, status=status, visibility=visibility,
                        title_zh=kw.pop("title_zh", f"测试需求{n}"), title_en=kw.pop("title_en", f"Test need {n}"),
                        description_zh=kw.pop("description_zh", "描述"),
                        budget_max_rmb=kw.pop("budget_max_rmb", Decimal(100000)), **kw)
            db.session.add(need)
            _commit()
            return need.id

    def get(self, model, id_):
        """Fresh copy of a row's column values as a dict (read in its own context)."""
        with self.app.app_context():
            obj = db.session.get(model, id_)
            if obj is None:
                return None
            return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}
