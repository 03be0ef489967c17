#!/usr/bin/env bash
# The demo: the reference platform with seeded data and one report walked through end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m report_service.demo --out demo-output "$@"
