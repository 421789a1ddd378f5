#!/usr/bin/env bash
# Prints a PostgreSQL URL for the tests, starting the machine's cluster when one is installed.
# Prints nothing (and the PostgreSQL tests are skipped) where there is no PostgreSQL.
set -u
url="${TEST_POSTGRES_URL:-}"
if [ -n "$url" ]; then echo "$url"; exit 0; fi
command -v pg_lsclusters >/dev/null 2>&1 || exit 0
cluster=$(pg_lsclusters --no-header 2>/dev/null | head -n 1)
[ -n "$cluster" ] || exit 0
read -r version name port status _ <<<"$cluster"
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$name" start >/dev/null 2>&1 || exit 0
fi
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sh -c "$1"; fi; }
as_postgres "psql -p $port -qtAc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || exit 0
as_postgres "psql -p $port -qtAc \"SELECT 1 FROM pg_database WHERE datname='notifications_test'\"" \
  | grep -q 1 || as_postgres "createdb -p $port notifications_test" >/dev/null 2>&1 || exit 0
echo "postgresql+psycopg://postgres:postgres@127.0.0.1:$port/notifications_test"
