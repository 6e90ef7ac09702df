#!/usr/bin/env bash
# postgres.sh — a throwaway PostgreSQL 15 cluster on loopback for wxbridge's tests (the bridge's
# database in `E2E_DB=postgres test/e2e/run`, the homeserver's with E2E_HS_DB=postgres,
# BENCH_HS_DB=postgres and in the chaos test).
#
#   postgres.sh start DB [DB...]   install Debian's postgresql-15 when missing, initdb a cluster in
#                                  a new /tmp/wxbridge-pg.* directory, start it on a free port of
#                                  127.0.0.1, create the databases, print PG_* lines for `eval`:
#                                  PG_DIR, PG_PORT and PG_URI_<DB> for each DB
#   postgres.sh stop PG_DIR        stop that cluster and remove its directory
#
# Needs root (the cluster runs as the `postgres` user through runuser, as Debian's package
# expects), which the CI machine and the test container give. Trust authentication on loopback
# only: a test cluster, never a real one.
set -euo pipefail

readonly PG_BIN=/usr/lib/postgresql/15/bin

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
# shellcheck disable=SC2034 # what the messages of test/lib.sh (die, stop_pid) start with
MSG_PREFIX=postgres.sh
# shellcheck source-path=SCRIPTDIR source=../lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() {
	sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

cmd_start() {
	[ $# -ge 1 ] || usage
	[ "$(id -u)" = 0 ] || die "needs root (runs the cluster as the postgres user)"
	if [ ! -x "$PG_BIN/initdb" ]; then
		log "installing PostgreSQL 15 (Debian)"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
	fi
	local dir port db
	dir=$(mktemp -d /tmp/wxbridge-pg.XXXXXX)
	chown postgres: "$dir"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
	# Not reachable from outside; fsync stays on (the chaos test kills processes, not machines,
	# but a test should see the same durability a user gets).
	port=$(free_port)
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null
	printf 'PG_DIR=%q\n' "$dir"
	printf 'PG_PORT=%s\n' "$port"
	for db in "$@"; do
		[[ "$db" =~ ^[a-z][a-z0-9_]*$ ]] || die "database name must be [a-z][a-z0-9_]*: $db"
		# UTF8 with the C locale: Synapse refuses any other collation, and the others do not mind.
		runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres \
			-E UTF8 --locale=C -T template0 "$db"
		printf 'PG_URI_%s=%q\n' "$db" "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
	done
	log "PostgreSQL 15 at 127.0.0.1:$port (data $dir/data, databases: $*)"
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	local dir=$1
	case "$dir" in /tmp/wxbridge-pg.*) ;; *) die "not a postgres.sh directory: $dir" ;; esac
	[ -d "$dir/data" ] || return 0
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}

[ $# -ge 1 ] || usage
sub=$1
shift
case "$sub" in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
*) usage ;;
esac
