#!/usr/bin/env bash
# Installs what the demo and the tests need: Debian packages and the project's .venv.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3-venv
  poppler-utils        # pdftotext / pdffonts / pdfinfo check the rendered reports
  fonts-wqy-microhei   # the CJK TrueType font embedded in every report PDF
  fonts-hanazono       # report fallback fonts: CJK Extension A-F (HanaMinA, HanaMinB)
  fonts-babelstone-han # report fallback font: part of CJK Extension G and H
  postgresql           # the PostgreSQL run of the service's core tests
  cups                 # the private cupsd the A4 printer tests start
  cups-filters         # Generic-PDF_Printer-PDF.ppd for the file-backed test queue; pwgrast.ppd
  libcups2-dev         # pycups builds from source against cups/http.h
  libzbar0             # pyzbar's shared library (the QR scanner's second decoder)
  gettext              # msgfmt: checks the kiosk's screen-text catalogs
  libmtdev1            # Kivy's multitouch input provider
  espeak-ng            # voice prompts in elderly mode
  chromium             # the dashboard and verify pages are tested in a real headless browser
  chromium-driver      # selenium drives it (nothing downloads a browser)
  cage                 # the kiosk's compositor: `systemd-analyze verify` checks kiosk-provision's unit
)

say() { printf '[setup] %s\n' "$*"; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "Debian packages present: ${APT_PACKAGES[*]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  say "installing the project with every extra (kiosk, platform, postgres, dev) into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[kiosk,platform,postgres,dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
else
  say ".venv is up to date with pyproject.toml"
fi
