#!/bin/sh
# Re-extract UI strings, merge them into the zh catalogue (keeping existing
# translations) and compile messages.mo. Run from the repository root.
set -eu

PYBABEL=${PYBABEL:-.venv/bin/pybabel}
TRANSLATIONS=marketplace/translations
POT=$TRANSLATIONS/messages.pot
LOCALE=zh

if [ ! -f babel.cfg ]; then
    echo "update-translations.sh: run this from the repository root" >&2
    exit 1
fi

"$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k "lazy_pgettext:1c,2" -k "lazy_ngettext:1,2" -k "Plural:1,2" -o "$POT" .

if [ -f "$TRANSLATIONS/$LOCALE/LC_MESSAGES/messages.po" ]; then
    "$PYBABEL" update -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE" --no-fuzzy-matching
else
    "$PYBABEL" init -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE"
fi

"$PYBABEL" compile -d "$TRANSLATIONS"
