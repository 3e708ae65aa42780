"""Read an edit page's form as a browser would submit it (inputs, checked boxes, selected options, text areas)."""
from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select: tuple[str, bool] | None = None  # (name, multiple)
        self._options: list[tuple[str, bool]] = []
        self._option_value: str | None = None
        self._option_selected = False
        self._option_text = ""
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._fields = []
        if self._fields is None:
            return
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._fields.append((a["name"], a.get("value") or "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._fields.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select, self._options = (a["name"], "multiple" in a), []
        elif tag == "option" and self._select is not None:
            self._option_value, self._option_selected, self._option_text = a.get("value"), "selected" in a, ""
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data
        if self._option_value is None and self._select is not None:
            self._option_text += data

    def handle_endtag(self, tag):
        if self._fields is None:
            return
        if tag == "option" and self._select is not None:
            value = self._option_value if self._option_value is not None else self._option_text.strip()
            self._options.append((value, self._option_selected))
            self._option_value = None
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [v for v, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            self._fields.extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self.forms.append(self._fields)
            self._fields = None


def edit_form(html: str) -> dict[str, list[str]]:
    """The fields of the page's form that carries a ``version``, as {name: [values]}."""
    reader = _FormReader()
    reader.feed(html)
    for fields in reader.forms:
        if any(name == "version" for name, _ in fields):
            data: dict[str, list[str]] = {}
            for name, value in fields:
                data.setdefault(name, []).append(value)
            return data
    raise AssertionError("no edit form with a version on the page")


def edited_record(app, make, kind: str):
    """A record of ``kind`` (offer, need, organization, event) and someone who may edit it: (e-mail, edit path,
    model, id, title field)."""
    from datetime import datetime, timedelta, timezone

    from marketplace.extensions import db
    from marketplace.models import Event, Need, Offer, Organization
    if kind == "offer":
        org, _, email = make.member()
        offer = make.offer(org, status="draft")
        return email, f"/offers/{offer}/edit", Offer, offer, "title_zh"
    if kind == "need":
        org, _, email = make.member("hospital")
        need = make.need(org)
        return email, f"/needs/{need}/edit", Need, need, "title_zh"
    if kind == "organization":
        org, _, email = make.member()
        return email, f"/orgs/{org}/edit", Organization, org, "name_zh"
    organiser, email = make.staff("organiser")
    start = datetime.now(timezone.utc) + timedelta(days=10)
    with app.app_context():
        event = Event(kind="spark", status="draft", title_zh="火花活动", title_en="Spark", starts_at=start,
                      ends_at=start + timedelta(hours=2), capacity=20, organiser_id=organiser)
        db.session.add(event)
        db.session.commit()
        return email, f"/events/{event.id}/edit", Event, event.id, "title_zh"
