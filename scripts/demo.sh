#!/usr/bin/env bash
# The demo: the reference platform with seeded data and the kiosk on simulated devices. With a display
# it opens the kiosk's window; without one it runs the scripted walk-through into demo-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/kiosk demo --out demo-output "$@"
