#!/usr/bin/env bash
# The soak (issue 12): scripts/soak for SOAK_SECONDS (default 30 min) against
# the bench lab. Run by `make soak DURATION=...`, not by `make bench`.
set -euo pipefail
scripts/soak -d "${SOAK_SECONDS:-1800}" || true
