#!/usr/bin/env bash
# Runs a command with a private PostgreSQL cluster, then stops and removes the cluster.
#
#   Tests/Postgres/with-cluster.sh CMD [ARG…]   start a cluster, run CMD with the variables below, clean up
#   Tests/Postgres/with-cluster.sh ctl stop|start|restart
#                                               (inside CMD) stop or start that cluster, for fault tests
#
# The cluster lives in a new temporary directory, runs as the `postgres` user when started by root
# (PostgreSQL refuses to run as root), listens on a free loopback port and on a Unix socket in
# that directory, with password authentication over TCP (user tenant, password in the URL).
# CMD sees:
#   TENANT_SERVICES_TEST_POSTGRES_URL   postgresql://tenant:…@127.0.0.1:PORT/postgres (tests create
#                                       their own databases next to `postgres`)
#   TENANT_SERVICES_TEST_POSTGRES_DATA  the data directory; TENANT_SERVICES_TEST_POSTGRES_BIN: pg_ctl's directory
set -euo pipefail

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = ctl ]; then
    : "${TENANT_SERVICES_TEST_POSTGRES_DATA:?ctl runs inside with-cluster.sh}"
    data=$TENANT_SERVICES_TEST_POSTGRES_DATA
    case "${2:-}" in
        stop) as_owner "$TENANT_SERVICES_TEST_POSTGRES_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null ;;
        start) as_owner "$TENANT_SERVICES_TEST_POSTGRES_BIN/pg_ctl" -D "$data" -l "$data/../log" -w start >/dev/null ;;
        restart) as_owner "$TENANT_SERVICES_TEST_POSTGRES_BIN/pg_ctl" -D "$data" -l "$data/../log" -m fast -w restart >/dev/null ;;
        *) echo "usage: $0 ctl stop|start|restart" >&2; exit 2 ;;
    esac
    exit 0
fi

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG…]" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "error: PostgreSQL is not installed (apt-get install -y postgresql)" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/tenant-services-pg.XXXXXX")
cleanup() {
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres "$dir"
password=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' "$password" >"$dir/pwfile"
[ "$(id -u)" = 0 ] && chown postgres "$dir/pwfile"
as_owner "$bin/initdb" -D "$dir/data" -U tenant --pwfile="$dir/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
synchronous_commit = on
CONF
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null || { cat "$dir/log" >&2; exit 1; }

export TENANT_SERVICES_TEST_POSTGRES_URL="postgresql://tenant:$password@127.0.0.1:$port/postgres"
export TENANT_SERVICES_TEST_POSTGRES_DATA="$dir/data"
export TENANT_SERVICES_TEST_POSTGRES_BIN="$bin"
status=0
"$@" || status=$?
exit $status
