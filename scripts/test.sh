#!/usr/bin/env bash
# Set up everything the test suite needs, then run it: the README's second command and CI's job.
#  - as root with apt-get: installs the Debian programs the tests run for real (rtl_433 as a
#    third-party reference decoder and rtl_tcp client, mosquitto as an MQTT broker, openssl
#    for its TLS test certificate, chromium to open the HTML report headless);
#  - creates .venv and installs keyguard with its test extra from pyproject.toml;
#  - runs pytest on both cores. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(rtl-433 mosquitto openssl chromium)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    missing=()
    for p in "${DEBIAN_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "test.sh: installing Debian packages: ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
else
    echo "test.sh: not root: tests that need ${DEBIAN_PACKAGES[*]} skip unless already installed" >&2
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
exec .venv/bin/python -m pytest -n 2 "$@"
