#!/bin/sh
# The JavaScript SDK the client tests drive (tests/clients/test_js_sdk.py): `npm ci` in
# tests/clients/js when its installed packages are not those of the lock file. The test's own
# fixture checks the same stamp, so running pytest alone still works; doing it here keeps the
# download and install out of the tests' time. Without npm it says so and exits 0: the test
# then fails with how to install Node.js and npm.
cd "$(dirname "$0")/../tests/clients/js" || exit 1
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is not installed: the JavaScript SDK tests will fail (apt-get install nodejs npm)." >&2
  exit 0
fi
wanted=$(sha256sum package-lock.json | cut -d' ' -f1)
[ "$(cat node_modules/.installed-lock-sha256 2>/dev/null)" = "$wanted" ] && exit 0
echo "Installing the JavaScript SDK for the client tests (npm ci in tests/clients/js)..."
npm ci --no-audit --no-fund --loglevel=error || exit 1
printf '%s' "$wanted" > node_modules/.installed-lock-sha256
