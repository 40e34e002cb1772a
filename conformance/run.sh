#!/usr/bin/env bash
# Autobahn|Testsuite (cases 1-10) against our echo route: see conformance/run.py and docs/conformance.md.
# Needs the project venv (`make venv`); sets up .venv-autobahn/ itself on first use.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec .venv/bin/python -m conformance.run "$@"
