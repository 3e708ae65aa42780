"""Chinese identifier checks: unified social credit codes (GB 32100-2015) and patent application numbers."""
from __future__ import annotations

import re

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code for its first 17 characters."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(code: str) -> str:
    return (code or "").strip().upper()


def is_valid_uscc(code: str) -> bool:
    """True when ``code`` is 18 characters from the GB 32100 alphabet with a correct check character."""
    code = normalise_uscc(code)
    if not _USCC_RE.match(code):
        return False
    return uscc_check_character(code[:17]) == code[17]


# "ZL" is how a granted patent is usually written (ZL202010123456.2); "CN" how offices print it.
_PATENT_RE = re.compile(r"^(?:CN|ZL)?(\d{12}|\d{8})\.?([0-9X])$")
PATENT_TYPE_DIGITS = {"1": "invention", "2": "utility_model", "3": "design", "8": "pct_invention",
                      "9": "pct_utility_model"}


def patent_check_character(digits: str) -> str:
    """Check character of a CNIPA application number: weights 2..9 cycling, sum mod 11, 10 -> X."""
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    total = sum(int(d) * weights[i % 8] for i, d in enumerate(digits))
    rem = total % 11
    return "X" if rem == 10 else str(rem)


def normalise_patent_number(number: str) -> str:
    """Canonical form ``202010123456.X`` (upper case, dot before the check character, no CN prefix)."""
    raw = re.sub(r"\s+", "", (number or "")).upper()
    m = _PATENT_RE.match(raw)
    if not m:
        return raw
    return f"{m.group(1)}.{m.group(2)}"


def is_valid_patent_number(number: str) -> bool:
    """True when a Chinese application number has a plausible year, type digit and correct check character."""
    raw = re.sub(r"\s+", "", (number or "")).upper()
    m = _PATENT_RE.match(raw)
    if not m:
        return False
    digits, check = m.groups()
    if len(digits) == 12:
        year = int(digits[:4])
        if not 1985 <= year <= 2100 or digits[4] not in PATENT_TYPE_DIGITS:
            return False
    return patent_check_character(digits) == check


def patent_type_of(number: str) -> str | None:
    """Patent type from the type digit of a 12-digit application number."""
    norm = normalise_patent_number(number)
    if len(norm) == 14:
        return PATENT_TYPE_DIGITS.get(norm[4])
    return None
