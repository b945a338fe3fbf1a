#!/usr/bin/env bash
# Headless Chromium + chromedriver from Debian, for the Selenium browser test, and axe-core
# (the pinned version of package-lock.json, into node_modules/) for its accessibility check.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=""
apt_install() {
    if [[ -z $APT_UPDATED ]]; then
        $SUDO apt-get update
        APT_UPDATED=1
    fi
    $SUDO apt-get install -y --no-install-recommends "$@"
}

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "chromium and chromedriver already installed"
else
    apt_install chromium chromium-driver fonts-dejavu-core fonts-noto-color-emoji
    /usr/bin/chromium --version
    /usr/bin/chromedriver --version
fi

# The version the lock file pins, read without node so this works before node is installed.
AXE_VERSION=$(sed -n '/"node_modules\/axe-core"/,/}/s/.*"version": "\([^"]*\)".*/\1/p' \
    package-lock.json)
installed=""
if [[ -f node_modules/axe-core/package.json ]]; then
    installed=$(sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' node_modules/axe-core/package.json \
        | head -n 1)
fi
if [[ -f node_modules/axe-core/axe.min.js && $installed == "$AXE_VERSION" ]]; then
    echo "axe-core $AXE_VERSION already installed"
    exit 0
fi
if ! command -v npm >/dev/null; then
    apt_install nodejs npm
fi
# npm ci: exactly the lock file's versions and checksums, no audit or funding calls.
npm ci --no-audit --no-fund
echo "axe-core $AXE_VERSION installed in node_modules/"
