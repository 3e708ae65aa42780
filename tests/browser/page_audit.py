"""What a person must never meet on a rendered page: sideways scrolling, a wrapped navigation label, an
internal code. Used by test_browser_pages.py; kept apart so a developer can run it against any server."""
from __future__ import annotations

import re

# Measured in the page: horizontal overflow, navigation labels broken over lines, the bar's height.
MEASURE_JS = """() => {
  const wide = document.documentElement.scrollWidth - window.innerWidth;
  const wrapped = [];
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  document.querySelectorAll('nav.site-nav .nav-link, nav.site-nav .navbar-brand, nav.site-nav .dropdown-item')
    .forEach(el => {
      if (!visible(el)) return;
      // The label's text boxes (screen-reader-only text is a 1 px box and does not count) span more than one
      // line when they reach further down than one and a half lines.
      const range = document.createRange();
      range.selectNodeContents(el);
      const boxes = Array.from(range.getClientRects()).filter(r => r.width > 1 && r.height > 1);
      if (!boxes.length) return;
      const style = getComputedStyle(el);
      const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
      const top = Math.min(...boxes.map(r => r.top)), bottom = Math.max(...boxes.map(r => r.bottom));
      if (bottom - top > line * 1.5) wrapped.push(el.textContent.trim());
    });
  const bar = document.querySelector('nav.site-nav');
  const collapsed = bar && bar.querySelector('.navbar-toggler') && getComputedStyle(bar.querySelector('.navbar-toggler')).display !== 'none';
  return {wide, wrapped, barHeight: bar ? bar.offsetHeight : 0, collapsed,
          text: document.body.innerText};
}"""

# Internal codes that must not reach a page: taxonomy codes, identifiers with underscores, backend names,
# raw time-zone names, arrows between raw values (as audit summaries once showed).
INTERNAL_PATTERNS = [
    ("field code", re.compile(r"\bD\d\.")),
    ("identifier with an underscore", re.compile(r"\b[A-Za-z]+_[A-Za-z_]+\b")),
    ("search backend", re.compile(r"\b(?:sqlite|postgresql|meilisearch|embedded|bm25s?)\b", re.IGNORECASE)),
    ("time-zone name", re.compile(r"\b(?:Asia|Europe|America)/[A-Z][a-z]+")),
    ("raw transition", re.compile(r"\b[a-z]+ -> [a-z]+\b")),
    ("timing", re.compile(r"\b\d+ ms\b")),
]
# Status and role codes that are plain lower-case words: on a Chinese page no English word of this list
# may appear on its own (the English page shows labels, which are capitalised phrases).
RAW_VALUES = {
    "proposed", "declined", "expired", "accepted", "contacted", "pilot", "negotiation", "signed", "lost",
    "draft", "submitted", "published", "rejected", "archived", "open", "matched", "closed", "pending",
    "approved", "granted", "lapsed", "confirmed", "waitlisted", "cancelled", "finished", "scheduled",
    "requested", "held", "introduced", "operator", "broker", "organiser", "admin", "owner", "member",
    "hospital", "firm", "lab", "university", "institute", "bank", "vc", "agency", "nmpa", "ce", "fda",
    "technology", "product", "service", "patent", "financial", "procurement", "financing", "space",
    "low", "normal", "high", "critical", "public", "teaser", "confidential", "sale", "licence", "transfer",
}
WORD = re.compile(r"[A-Za-z][A-Za-z_.]*")


def internal_codes(text: str, lang: str) -> list[str]:
    """The internal codes found in a page's visible ``text`` (empty when it reads cleanly)."""
    found = []
    for name, pattern in INTERNAL_PATTERNS:
        for match in pattern.finditer(text):
            found.append(f"{name}: {match.group(0)!r}")
    if lang == "zh":
        for match in WORD.finditer(re.sub(r"\S+@\S+", " ", text)):
            if match.group(0) in RAW_VALUES:
                start = max(0, match.start() - 20)
                found.append(f"raw value: {match.group(0)!r} in {text[start:match.end() + 20]!r}")
    return found


def audit(page, lang: str) -> list[str]:
    """Everything wrong with the page as rendered now (an empty list when nothing is)."""
    m = page.evaluate(MEASURE_JS)
    problems = []
    if m["wide"] > 1:
        problems.append(f"scrolls sideways by {m['wide']} px")
    if m["wrapped"]:
        problems.append(f"navigation labels wrap: {m['wrapped']}")
    if not m["collapsed"] and m["barHeight"] > 80:
        problems.append(f"navigation bar is {m['barHeight']} px high (its items wrap onto a second row)")
    problems.extend(internal_codes(m["text"], lang))
    return problems


# --- reaching the menus (links in the Workspace and account menus are hidden until the menu opens) -------

def _open_collapsed_nav(page) -> None:
    from playwright.sync_api import expect
    page.wait_for_load_state("load")  # the menu button works once Bootstrap's script has run
    toggler = page.locator("nav .navbar-toggler")
    if (page.viewport_size or {}).get("width", 1366) < 992 and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
        expect(page.locator("nav #nav")).to_have_class(re.compile(r"\bshow\b"))


def open_dropdown(page, toggle_id: str) -> None:
    """Open the navigation's dropdown ``toggle_id`` (opening the phone menu first); nothing if already open."""
    from playwright.sync_api import expect
    from playwright.sync_api import Error as PlaywrightError
    _open_collapsed_nav(page)  # waits for Bootstrap's script, which opens the dropdown
    # A click landing before that script ran did nothing on a busy machine: click again if it was lost.
    toggle = page.locator(f"#{toggle_id}")
    for _ in range(3):
        if toggle.get_attribute("aria-expanded") == "true":
            break
        toggle.click()
        try:
            expect(toggle).to_have_attribute("aria-expanded", "true", timeout=3000)
        except (AssertionError, PlaywrightError):
            continue
    expect(toggle).to_have_attribute("aria-expanded", "true")


def open_workspace(page) -> None:
    """Open the signed-in person's Workspace menu (My docking requests, Introductions, operator pages...)."""
    open_dropdown(page, "nav-workspace")


def open_account_menu(page) -> None:
    """Open the account menu (My account, Log out)."""
    open_dropdown(page, "nav-account")
