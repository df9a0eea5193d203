#!/usr/bin/env bash
# Set up and run the whole test suite, on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
# Lint and types first (both, so one run shows every finding): a finding fails the run before the
# long suite starts.
checks=0
.venv/bin/ruff check . || checks=1
.venv/bin/mypy || checks=1
if [ "$checks" -ne 0 ]; then
  echo "ruff or mypy found problems (above): fix them first; the tests did not run." >&2
  exit 1
fi
# Browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
# PostgreSQL runs on every machine of this project; start it if it is down.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
# Two processes (pytest-xdist), one per core: the suite spends much of its time waiting for
# PostgreSQL, servers and the browser, and would outgrow its 15-minute budget run serially. Each
# process has its own PostgreSQL database and SQLite files; a module's tests stay in one process
# (--dist loadfile), so module fixtures (a live server, a trained model) are built once.
# TEST_WORKERS=0 runs serially (for a debugger or -x on one failure).
workers="${TEST_WORKERS:-2}"
if [ "$workers" = "0" ]; then
  exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
