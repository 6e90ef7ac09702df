#!/usr/bin/env bash
# synapse.sh — a throwaway Synapse homeserver on loopback for wxbridge's tests, with the
# interface of homeserver.sh (which runs this script when HS_KIND=synapse):
#
#   synapse.sh install                   install Synapse once into the cache dir (reused afterwards)
#   synapse.sh start DIR REG [REG...]    write a config, start Synapse on 127.0.0.1 with these
#                                        appservice registrations, wait for the client API, print
#                                        HS_* lines for `eval`
#   synapse.sh stop DIR                  stop the Synapse started from DIR (by its PID only)
#
# Synapse is Debian sid's matrix-synapse package (no stable Debian release ships it) in a
# debootstrap chroot under the cache dir, so nothing of sid reaches the host; the chroot shares
# the host's network, so Synapse listens on the host's 127.0.0.1. Installing needs root (or
# passwordless sudo) for debootstrap and chroot, and Debian's mirror; a cold install takes a
# few minutes and about 520 MB. Sid moves: the version installed is printed and kept until the
# cache dir is removed.
#
# Environment (all optional; the HS_* ones as in homeserver.sh):
#   SYNAPSE_CACHE_DIR   default ${XDG_CACHE_HOME:-$HOME/.cache}/wxbridge-test/synapse-sid
#   HS_SERVER_NAME      server_name, must equal the bridge's homeserver.domain (default localhost)
#   HS_PORT             fixed port instead of a free one picked at random
#   HS_SHARED_SECRET    registration_shared_secret (default test_shared_secret)
#   HS_KEEP_STATE=1     start keeps the database and media of a previous run from DIR
#   HS_LOG_LEVEL        Python log level (default WARNING); the log is DIR/synapse.log
#   HS_START_TIMEOUT    seconds to wait for the client API (default 90)
#   HS_DATABASE         a postgres://USER@HOST:PORT/DB URI (test/e2e/postgres.sh prints one):
#                       Synapse keeps everything in that (empty, C-locale) PostgreSQL database
#                       instead of SQLite in the chroot; Debian's matrix-synapse brings psycopg2
set -euo pipefail

CACHE_DIR=${SYNAPSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wxbridge-test/synapse-sid}
ROOT="$CACHE_DIR/root"

log() { printf 'synapse.sh: %s\n' "$*" >&2; }
# shellcheck disable=SC2034 # what the messages of test/lib.sh (die, stop_pid) start with
MSG_PREFIX=synapse.sh
# shellcheck source-path=SCRIPTDIR source=../lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() {
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# as_root CMD...: runs CMD as root (directly, or through passwordless sudo).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		die "Synapse runs in a chroot: run as root, or allow passwordless sudo"
	fi
}

installed_version() {
	[ -x "$ROOT/usr/bin/python3" ] || return 1
	as_root chroot "$ROOT" python3 -c 'import synapse; print(synapse.__version__)' 2>/dev/null
}

cmd_install() {
	mkdir -p "$CACHE_DIR"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$CACHE_DIR/.lock"
		flock 9
	fi
	local v
	if v=$(installed_version); then
		log "Synapse $v already installed in $ROOT"
		release_lock
		return 0
	fi
	command -v curl >/dev/null 2>&1 || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >&2
	if ! command -v debootstrap >/dev/null 2>&1; then
		log "installing debootstrap"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
	fi
	local tmp="$CACHE_DIR/root.tmp" start=$SECONDS
	as_root rm -rf "$tmp"
	log "installing Synapse from Debian sid into a chroot (cold: a few minutes, ~520 MB); log $CACHE_DIR/install.log"
	if ! as_root debootstrap --variant=minbase sid "$tmp" >"$CACHE_DIR/install.log" 2>&1; then
		tail -n 20 "$CACHE_DIR/install.log" >&2
		die "debootstrap sid failed (see $CACHE_DIR/install.log)"
	fi
	# No daemons started by package scripts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' | as_root tee "$tmp/usr/sbin/policy-rc.d" >/dev/null
	as_root chmod +x "$tmp/usr/sbin/policy-rc.d"
	printf 'matrix-synapse matrix-synapse/server-name string localhost\nmatrix-synapse matrix-synapse/report-stats boolean false\n' |
		as_root chroot "$tmp" debconf-set-selections
	if ! as_root env DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get install -y --no-install-recommends matrix-synapse \
		>>"$CACHE_DIR/install.log" 2>&1; then
		tail -n 20 "$CACHE_DIR/install.log" >&2
		die "apt-get install matrix-synapse in the sid chroot failed (sid may be uninstallable today; see $CACHE_DIR/install.log)"
	fi
	as_root chroot "$tmp" apt-get clean
	as_root rm -rf "$ROOT"
	as_root mv "$tmp" "$ROOT"
	v=$(installed_version) || die "installed matrix-synapse, but python3 cannot import synapse"
	log "installed Synapse $v in $((SECONDS - start))s"
	release_lock
}

release_lock() {
	if { true >&9; } 2>/dev/null; then
		exec 9>&-
	fi
}

# instance DIR: the directory inside the chroot that holds DIR's Synapse (config, database,
# media, copies of the registrations), as a path inside the chroot.
instance() {
	printf '/srv/wxbridge-%s' "$(printf '%s' "$1" | sha256sum | cut -c1-16)"
}

# database_yaml INST: Synapse's database section, SQLite in INST unless HS_DATABASE is set.
database_yaml() {
	local inst=$1
	if [ -z "${HS_DATABASE:-}" ]; then
		printf 'database: {name: sqlite3, args: {database: %s/homeserver.db}}\n' "$inst"
		return
	fi
	# The chroot shares the host's network, so the host's loopback cluster is reachable.
	local re='^postgres(ql)?://([a-z_][a-z0-9_]*)@([0-9.]+|localhost):([0-9]+)/([a-z][a-z0-9_]*)(\?.*)?$'
	[[ "$HS_DATABASE" =~ $re ]] || die "HS_DATABASE must be postgres://USER@HOST:PORT/DB without a password (its value is not printed: it may hold one)"
	# Synapse's default pool (cp_min 5, cp_max 10), as a user gets it.
	printf 'database: {name: psycopg2, args: {user: %s, host: %s, port: %s, database: %s}}\n' \
		"${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}"
}

write_config() {
	local inst=$1 port=$2 regs=$3
	local lim='{per_second: 1000, burst_count: 1000}'
	as_root tee "$ROOT$inst/log.yaml" >/dev/null <<YAML
version: 1
formatters: {precise: {format: '%(asctime)s %(name)s %(levelname)s %(request)s %(message)s'}}
handlers: {console: {class: logging.StreamHandler, formatter: precise}}
root: {level: ${HS_LOG_LEVEL}, handlers: [console]}
disable_existing_loggers: false
YAML
	as_root tee "$ROOT$inst/homeserver.yaml" >/dev/null <<YAML
# Written by test/e2e/synapse.sh — a loopback-only test homeserver. Do not expose it.
server_name: ${HS_SERVER_NAME}
pid_file: ${inst}/homeserver.pid
listeners:
  - {port: ${port}, bind_addresses: ['127.0.0.1'], type: http, tls: false, x_forwarded: false,
     resources: [{names: [client], compress: false}]}
$(database_yaml "$inst")
log_config: ${inst}/log.yaml
media_store_path: ${inst}/media
signing_key_path: ${inst}/signing.key
report_stats: false
enable_registration: true
enable_registration_without_verification: true
registration_shared_secret: "${HS_SHARED_SECRET}"
macaroon_secret_key: test_macaroon_secret
form_secret: test_form_secret
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
app_service_config_files: [${regs}]
# What bridgev2's end-to-bridge encryption can use from an appservice (MSC2409 to-device
# events, MSC3202 device lists and key counts, MSC3983 key claims); MSC4190 is per
# registration (io.element.msc4190).
experimental_features:
  msc2409_to_device_messages_enabled: true
  msc3202_transaction_extensions: true
  msc3983_appservice_otk_claims: true
# Test users send quickly; appservice users are exempt anyway (rate_limited: false).
rc_message: ${lim}
rc_registration: ${lim}
rc_login: {address: ${lim}, account: ${lim}, failed_attempts: ${lim}}
rc_joins: {local: ${lim}, remote: ${lim}}
rc_invites: {per_room: ${lim}, per_user: ${lim}}
rc_media_create: ${lim}
YAML
}

# our_pid DIR: prints the PID from DIR/synapse.pid if it is the Synapse started from DIR.
our_pid() {
	local dir=$1 pid
	[ -f "$dir/synapse.pid" ] || return 1
	pid=$(cat "$dir/synapse.pid")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	pid_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-c $(instance "$dir")/homeserver.yaml" || return 1
	echo "$pid"
}

cmd_start() {
	[ $# -ge 2 ] || usage
	local dir=$1 reg pid regs="" n=0
	shift
	HS_SERVER_NAME=${HS_SERVER_NAME:-localhost}
	HS_SHARED_SECRET=${HS_SHARED_SECRET:-test_shared_secret}
	HS_LOG_LEVEL=${HS_LOG_LEVEL:-WARNING}
	case "$HS_LOG_LEVEL" in warn) HS_LOG_LEVEL=WARNING ;; info) HS_LOG_LEVEL=INFO ;; debug) HS_LOG_LEVEL=DEBUG ;; error) HS_LOG_LEVEL=ERROR ;; esac
	local timeout=${HS_START_TIMEOUT:-90}

	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	case "$dir" in *[[:space:]\"]*) die "DIR must not contain spaces or quotes" ;; esac
	if pid=$(our_pid "$dir"); then
		die "a Synapse from $dir is already running (pid $pid); run: $0 stop $dir"
	fi
	cmd_install

	local inst
	inst=$(instance "$dir")
	if [ "${HS_KEEP_STATE:-0}" != 1 ]; then
		as_root rm -rf "$ROOT$inst"
	fi
	as_root mkdir -p "$ROOT$inst"
	as_root rm -f "$ROOT$inst"/registration-*.yaml
	for reg in "$@"; do
		[ -f "$reg" ] || die "registration file not found: $reg"
		n=$((n + 1))
		# Synapse reads the registrations inside the chroot: a copy, taken at each start.
		as_root cp "$reg" "$ROOT$inst/registration-$n.yaml"
		regs="${regs:+$regs, }$inst/registration-$n.yaml"
	done
	# What the test scripts read (logs, the instance) lives under DIR too.
	ln -sfn "$ROOT$inst" "$dir/synapse-instance"

	local port url
	for _ in 1 2 3 4 5; do
		port=${HS_PORT:-$(free_port)}
		url="http://127.0.0.1:${port}"
		write_config "$inst" "$port" "$regs"
		if [ ! -s "$ROOT$inst/signing.key" ]; then
			as_root chroot "$ROOT" python3 -m synapse.app.homeserver -c "$inst/homeserver.yaml" --generate-keys >/dev/null 2>&1 ||
				die "synapse --generate-keys failed"
		fi
		rm -f "$dir/synapse.pid"
		# New session (setsid), output to the log, stdin from /dev/null; chroot execs
		# python3, so the PID written is Synapse's.
		(
			# shellcheck disable=SC2016 # $$ and $@ belong to the inner sh
			exec setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$dir/synapse.pid" \
				chroot "$ROOT" python3 -m synapse.app.homeserver -c "$inst/homeserver.yaml"
		) </dev/null >"$dir/synapse.log" 2>&1 &
		local waited=0
		while [ ! -s "$dir/synapse.pid" ] && [ $waited -lt 50 ]; do
			sleep 0.1
			waited=$((waited + 1))
		done
		pid=$(cat "$dir/synapse.pid" 2>/dev/null) || die "Synapse did not start (see $dir/synapse.log)"

		local deadline=$((SECONDS + timeout)) up=0
		while [ $SECONDS -lt $deadline ]; do
			if curl -fsS --max-time 2 "$url/_matrix/client/versions" >/dev/null 2>&1 && pid_alive "$pid"; then
				up=1
				break
			fi
			pid_alive "$pid" || break
			sleep 0.2
		done
		if [ $up = 1 ]; then
			printf 'HS_URL=%s\n' "$url"
			printf 'HS_PID=%s\n' "$pid"
			printf 'HS_PORT=%s\n' "$port"
			printf 'HS_SERVER_NAME=%q\n' "$HS_SERVER_NAME"
			printf 'HS_SHARED_SECRET=%q\n' "$HS_SHARED_SECRET"
			printf 'HS_DIR=%q\n' "$dir"
			printf 'HS_KIND=synapse\n'
			log "Synapse $(installed_version) up at $url (pid $pid, log $dir/synapse.log)"
			return 0
		fi
		if pid_alive "$pid"; then
			kill "$pid" 2>/dev/null || true
			rm -f "$dir/synapse.pid"
			die "Synapse did not answer on $url within ${timeout}s (see $dir/synapse.log)"
		fi
		if [ -z "${HS_PORT:-}" ] && grep -q "Address already in use" "$dir/synapse.log"; then
			log "port $port was taken meanwhile, retrying with another one"
			continue
		fi
		rm -f "$dir/synapse.pid"
		tail -n 40 "$dir/synapse.log" >&2
		die "Synapse exited during startup"
	done
	die "could not bind a port after 5 attempts"
}

server_commands Synapse synapse.pid python3 "$@"
