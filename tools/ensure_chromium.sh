#!/bin/sh
# Debian's chromium for the browser test (tests/test_browser.py). Playwright drives it; it never
# downloads a browser. Installs with apt when chromium is missing and we are root with apt-get;
# otherwise says how to install it and exits 0: the browser test then fails with the same advice.
# Usage: sh tools/ensure_chromium.sh [--required]   (--required: exit 1 if it cannot be installed)
CHROMIUM="${WORKBOOK_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing chromium with apt-get (for the browser test)..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    [ -x "$CHROMIUM" ] && exit 0
  fi
fi
echo "Chromium is not at $CHROMIUM and could not be installed here: the browser test will fail." >&2
echo "Install it as root with: apt-get install chromium   (or set WORKBOOK_CHROMIUM to another build)" >&2
[ "$1" = "--required" ] && exit 1
exit 0
