#!/usr/bin/env bash
# Set up, create or upgrade the SQLite database in instance/, load the demo data, serve (gunicorn and
# a job worker).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p instance
# A secret key made once per installation and kept in instance/ (never committed).
[ -s instance/secret_key ] || .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" > instance/secret_key
export SECRET_KEY="$(cat instance/secret_key)"
export FLASK_APP=app
.venv/bin/flask db upgrade
.venv/bin/flask demo load
# The fragment translations' model (about 10 s on the demo; says "current" when nothing is new).
.venv/bin/flask tm fragments train
# The lookup index's snapshot, which gunicorn's workers map instead of building their own (a few
# seconds on the demo; says "current" when nothing changed since the last).
.venv/bin/flask tm index snapshot
export HOST=${HOST:-127.0.0.1} PORT=${PORT:-5000}
echo "Duizhao on http://$HOST:$PORT/  (demo users admin, editor, translator; password duizhao-demo)"
# The job worker (imports, fragment training: jobs/ and docs/jobs.md) beside the web processes,
# both stopped together: Ctrl-C or SIGTERM stops both, and either one ending stops the other.
# A job a stop interrupts is failed (nothing of it stored) when a worker starts again.
.venv/bin/flask jobs worker &
worker=$!
# gunicorn.conf.py: --preload with WARM_UP=1 (the index is built once, before the workers fork),
# the request line tmserver clients need, the timeout, and the metrics folder.
.venv/bin/gunicorn -c gunicorn.conf.py &
web=$!
stop() {
  kill -TERM "$web" "$worker" 2>/dev/null || true
  wait "$web" "$worker" 2>/dev/null || true
}
trap 'stop; exit 0' INT TERM
status=0
wait -n "$web" "$worker" || status=$?
stop
exit "$status"
