#!/usr/bin/env bash
# Headless Chromium + chromedriver from Debian, for the Selenium browser test.
# Idempotent: does nothing when both binaries are already installed.
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "chromium and chromedriver already installed"
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium chromium-driver fonts-dejavu-core fonts-noto-color-emoji
/usr/bin/chromium --version
/usr/bin/chromedriver --version
