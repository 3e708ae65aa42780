"""Locale selection (Simplified Chinese first, English on request) and template helpers."""
from __future__ import annotations

from decimal import Decimal

from flask import current_app, request, session
from flask_babel import format_decimal, get_locale
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup


def select_locale() -> str:
    """Session choice, then the user's saved preference, then the default (zh); never the browser's guess.

    API callers have no session: they ask with Accept-Language (or ``?lang=``), else get the default.
    """
    languages = current_app.config["LANGUAGES"]
    if request.path.startswith("/api/"):
        asked = request.args.get("lang")
        if asked in languages:
            return asked
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_lang() -> str:
    """"en" or "zh", the language of this request's pages (a page asks many times: no string building here)."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def format_rmb(amount) -> str:
    """RMB amount with 万 / 亿 in Chinese and thousands / millions in English."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    if current_lang() == "zh":
        if value >= Decimal(100_000_000):
            return f"{format_decimal(value / Decimal(100_000_000), format='#,##0.##')} 亿元"
        if value >= Decimal(10_000):
            return f"{format_decimal(value / Decimal(10_000), format='#,##0.##')} 万元"
        return f"{format_decimal(value, format='#,##0.##')} 元"
    if value >= Decimal(1_000_000):
        return f"RMB {format_decimal(value / Decimal(1_000_000), format='#,##0.##')} million"
    return f"RMB {format_decimal(value, format='#,##0.##')}"


MEMO_LIMIT = 5000  # messages kept per app and language (a template's _() of a variable must not grow it forever)


def install_message_memo(app) -> None:
    """Templates' ``_()`` looks each message up once per process and language, not once per use.

    Flask-Babel's ``_()`` finds the request's translations again on every call (the locale's identifier built,
    the catalogue looked up); a page drawn anew says some seventy messages, so this was a tenth of a need's page.
    The catalogues do not change while the app runs, so the translated text of (locale, message) is kept. Plurals and message contexts go through Flask-Babel as
    before."""
    from flask_babel import get_translations
    memo: dict[tuple[str, str], str] = {}

    def gettext(message: str) -> str:
        locale = get_locale()
        if locale is None:  # outside a request: Flask-Babel's untranslated fallback, never kept
            return get_translations().ugettext(message)
        key = (str(locale) if locale.territory or locale.script else locale.language, message)
        found = memo.get(key)
        if found is None:
            found = get_translations().ugettext(message)
            if len(memo) < MEMO_LIMIT:
                memo[key] = found
        return found
    translations = get_translations
    # The same callables Flask-Babel installs, with gettext in front of the memo.
    app.jinja_env.install_gettext_callables(
        gettext=gettext, ngettext=lambda s, p, n: translations().ungettext(s, p, n), newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n))
    shown: dict[tuple[str, str, bool], Markup | str] = {}

    @pass_context
    def page_gettext(context, message: str, /, **variables):
        """Jinja's newstyle ``gettext`` (escape the text when the template autoescapes, then always format it),
        with the result for a message without variables kept per language: most of ``_()``'s cost was the
        wrapping and formatting again, not the look-up."""
        escape = context.eval_ctx.autoescape
        locale = get_locale()
        if variables or locale is None:
            text = gettext(message)
            return (Markup(text) if escape else text) % variables
        key = (str(locale) if locale.territory or locale.script else locale.language, message, escape)
        found = shown.get(key)
        if found is None:
            text = gettext(message)
            found = (Markup(text) if escape else text) % {}
            if len(shown) < MEMO_LIMIT:
                shown[key] = found
        return found

    app.jinja_env.globals["gettext"] = page_gettext


def init_template_helpers(app) -> None:
    from marketplace.services.audit import describe as describe_audit_entry
    from marketplace.vocabulary import label, options

    # Globals (not a context processor) so imported macros see them too.
    app.jinja_env.globals.update(label=label, options=options, rmb=format_rmb, current_lang=current_lang)
    install_message_memo(app)

    def workspace_counts() -> dict[str, int]:
        """What waits for the signed-in person, for the Workspace menu (the menu never breaks a page)."""
        from flask_login import current_user as user

        from marketplace import visibility
        from marketplace.queries import workspace
        try:
            return workspace.waiting(user, visibility.viewer_of(user))
        except Exception:  # noqa: BLE001 - like the other navigation counts: a page renders without them
            return {}

    app.jinja_env.globals["workspace_counts"] = workspace_counts

    # The audit log's entries, described in the reader's language (the stored summary is for exports).
    app.jinja_env.filters["audit_text"] = describe_audit_entry

    @app.template_filter("label_rows")
    def label_rows(rows, group: str):
        """[(code, n)] -> [(translated label, n)] for charts."""
        return [(label(group, code), n) for code, n in rows]

    @app.template_filter("direction_rows")
    def direction_rows(rows):
        return [(field.name(current_lang()), n) for field, n in rows]

    @app.template_filter("batch_rows")
    def batch_rows(rows):
        return [((zh if current_lang() == "zh" else (en or zh)), n) for _number, zh, en, n in rows]

    @app.context_processor
    def inject_i18n():
        return {"lang": current_lang()}

    @app.template_filter("loc")
    def localised(obj, stem: str = "title"):
        """``{{ offer|loc('summary') }}``: the field in the current language, falling back to the other."""
        from marketplace.models.base import bilingual
        return bilingual(obj, stem, current_lang())

    @app.after_request
    def content_language(response):
        if request.endpoint and request.endpoint != "static":
            response.headers.setdefault("Content-Language", "en" if current_lang() == "en" else "zh-Hans")
        return response
