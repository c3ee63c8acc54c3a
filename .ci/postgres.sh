#!/usr/bin/env bash
# Start a local PostgreSQL (Debian's package) for the multi-worker search test, with a user and
# a database of its own; prints the URL the test reads from NETCANVAS_TEST_POSTGRES_URL.
# Idempotent: safe to run on a machine where the server already runs.
set -euo pipefail
if ! dpkg -s postgresql >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >&2 2>/dev/null || true
pg_lsclusters -h | grep "^$version main" | grep -q online
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
psql_() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -tAq $*" >&2; }
if ! su postgres -c "psql -p $port -tAc \"SELECT 1 FROM pg_roles WHERE rolname='netcanvas'\"" | grep -q 1; then
  psql_ "-c \"CREATE ROLE netcanvas LOGIN PASSWORD 'netcanvas'\""
fi
if ! su postgres -c "psql -p $port -tAc \"SELECT 1 FROM pg_database WHERE datname='netcanvas_test'\"" | grep -q 1; then
  psql_ "-c \"CREATE DATABASE netcanvas_test OWNER netcanvas\""
fi
echo "postgresql://netcanvas:netcanvas@localhost:$port/netcanvas_test"
