#!/usr/bin/env bash
# homeserver.sh — a throwaway Dendrite v0.13.8 homeserver on loopback for wxbridge's tests
# (HS_KIND=synapse: Synapse instead, through synapse.sh, with the same commands and output).
#
#   homeserver.sh install                   build Dendrite once into the cache dir (reused afterwards)
#   homeserver.sh start DIR REG [REG...]    write a config in DIR, start Dendrite on 127.0.0.1 with
#                                           these appservice registrations, wait for the client
#                                           API, print HS_* lines for `eval`
#   homeserver.sh stop DIR                  stop the Dendrite started from DIR (by its PID only)
#
#   eval "$(test/e2e/homeserver.sh start /tmp/hs registration.yaml)"   # sets HS_URL, HS_PID, ...
#
# Environment (all optional):
#   DENDRITE_CACHE_DIR  where the binary lives; default
#                       ${XDG_CACHE_HOME:-$HOME/.cache}/wxbridge-test/dendrite-v0.13.8
#   HS_SERVER_NAME      server_name, must equal the bridge's homeserver.domain (default localhost)
#   HS_PORT             fixed port instead of a free one picked at random
#   HS_SHARED_SECRET    registration_shared_secret (default test_shared_secret)
#   HS_KEEP_STATE=1     start keeps DIR/data from a previous run instead of wiping it
#   HS_DATABASE         a postgres:// URI: Dendrite keeps everything in that (empty) PostgreSQL
#                       database instead of SQLite files in DIR/data (see test/e2e/postgres.sh);
#                       HS_KEEP_STATE does not wipe it
#   HS_LOG_LEVEL        Dendrite log level (default warn); the log is DIR/dendrite.log
#   HS_START_TIMEOUT    seconds to wait for the client API (default 60)
#
# Needs: go (Dendrite is built with `go install` from the Go module proxy), curl and the CA
# certificates. If curl or ca-certificates is missing and apt-get is usable (as root, or through
# passwordless sudo), the script installs them with apt-get.
# Everything listens on 127.0.0.1 only; federation is off.
# See test/e2e/README.md ("What to know about Dendrite") for the pitfalls handled here.
set -euo pipefail

case "${HS_KIND:-dendrite}" in
dendrite) ;;
synapse) exec "$(dirname "${BASH_SOURCE[0]}")/synapse.sh" "$@" ;;
*)
	echo "homeserver.sh: error: HS_KIND must be dendrite or synapse, not '$HS_KIND'" >&2
	exit 1
	;;
esac

readonly DENDRITE_VERSION=v0.13.8
readonly DENDRITE_PKG=github.com/matrix-org/dendrite/cmd/dendrite
CACHE_DIR=${DENDRITE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wxbridge-test/dendrite-${DENDRITE_VERSION}}
DENDRITE_BIN="$CACHE_DIR/bin/dendrite"

log() { printf 'homeserver.sh: %s\n' "$*" >&2; }
# shellcheck disable=SC2034 # what the messages of test/lib.sh (die, stop_pid) start with
MSG_PREFIX=homeserver.sh
# shellcheck source-path=SCRIPTDIR source=../lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() {
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# apt_install PKG... installs Debian packages when apt-get is usable, else fails.
apt_install() {
	command -v apt-get >/dev/null 2>&1 || die "missing $*; install it (no apt-get here)"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
			die "missing $*; run: sudo apt-get install -y $*"
		fi
		sudo=(sudo -n)
	fi
	log "installing Debian packages: $*"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

need_tools() {
	command -v go >/dev/null 2>&1 || die "go is not in PATH"
	local missing=()
	command -v curl >/dev/null 2>&1 || missing+=(curl)
	# go install fetches from proxy.golang.org over HTTPS: Go reads the system CA bundle.
	[ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
	[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

installed() {
	[ -x "$DENDRITE_BIN" ] && [ "$("$DENDRITE_BIN" -version 2>/dev/null)" = "${DENDRITE_VERSION#v}" ]
}

cmd_install() {
	need_tools
	mkdir -p "$CACHE_DIR"
	# Serialise concurrent installs (two test runs on one machine).
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$CACHE_DIR/.lock"
		flock 9
	fi
	if installed; then
		log "Dendrite $DENDRITE_VERSION already installed: $DENDRITE_BIN"
		release_lock
		return 0
	fi
	log "building Dendrite $DENDRITE_VERSION (cold: several minutes on 2 cores, ~1 GB of Go caches)"
	local tmp="$CACHE_DIR/bin.tmp.$$" start=$SECONDS
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# CGO_ENABLED=0: Dendrite then uses modernc.org/sqlite (its !cgo path), so the build is the
	# same on a machine without a C compiler (where Go would turn cgo off anyway) and this one.
	# GOTOOLCHAIN=local: never download another toolchain. GOFLAGS is reset so that the
	# caller's flags (e.g. -mod=vendor) cannot break `go install pkg@version`.
	if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
		go install -trimpath "${DENDRITE_PKG}@${DENDRITE_VERSION}" >&2; then
		rm -rf "$tmp"
		die "go install ${DENDRITE_PKG}@${DENDRITE_VERSION} failed"
	fi
	mkdir -p "$CACHE_DIR/bin"
	mv -f "$tmp/dendrite" "$DENDRITE_BIN"
	rm -rf "$tmp"
	installed || die "built $DENDRITE_BIN but it does not report version ${DENDRITE_VERSION#v}"
	log "built $DENDRITE_BIN in $((SECONDS - start))s"
	release_lock
}

release_lock() {
	# Close the lock fd so that a Dendrite started afterwards does not inherit (and hold) it.
	if { true >&9; } 2>/dev/null; then
		exec 9>&-
	fi
}

# yaml_value FILE KEY prints the value of a top-level "KEY: value" line (quotes stripped).
yaml_value() {
	sed -n "s/^$2:[[:space:]]*//p" "$1" | head -n1 | sed -e 's/[[:space:]]*$//' -e "s/^['\"]//" -e "s/['\"]$//"
}

check_registration() {
	local reg=$1 key url
	for key in id as_token hs_token sender_localpart; do
		[ -n "$(yaml_value "$reg" "$key")" ] || die "$reg has no top-level '$key:' (Dendrite needs it)"
	done
	url=$(yaml_value "$reg" url)
	case "$url" in
	"") log "warning: $reg has an empty url: Dendrite will push no transactions" ;;
	http://127.0.0.1:* | http://127.0.0.1/* | http://localhost:* | http://localhost/* | http://\[::1\]:*) ;;
	*) log "warning: appservice url '$url' is not on loopback" ;;
	esac
	# Dendrite does not anchor namespace regexes (it uses MatchString).
	if grep -E '^[[:space:]-]*regex:' "$reg" | grep -vqE "regex:[[:space:]]*['\"]?\^"; then
		log "warning: $reg has a namespace regex without ^…\$; Dendrite does not anchor them"
	fi
	if ! grep -qF ":${HS_SERVER_NAME}" "$reg" && ! grep -qF ":${HS_SERVER_NAME//./\\.}" "$reg"; then
		log "warning: no namespace in $reg mentions :$HS_SERVER_NAME (server_name); check homeserver.domain"
	fi
}

# owns_listener PID PORT: true when PID holds the socket listening on 127.0.0.1:PORT, so that
# another server that grabbed the port meanwhile is not mistaken for our Dendrite.
owns_listener() {
	local pid=$1 hex inode
	hex=$(printf '%04X' "$2")
	# /proc/net/tcp: "sl local_address rem_address st ... inode"; 0A = LISTEN.
	inode=$(awk -v a="0100007F:$hex" '$2 == a && $4 == "0A" { print $10; exit }' /proc/net/tcp)
	[ -n "$inode" ] || return 1
	local fd
	for fd in "/proc/$pid/fd/"*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "socket:[$inode]" ] && return 0
	done
	return 1
}

write_config() {
	local dir=$1 regs=$2 db_yaml global_db=""
	if [ -n "${HS_DATABASE:-}" ]; then
		# One PostgreSQL database for every component (Dendrite's "global database pool"):
		# the sections below then carry no database blocks.
		global_db="  database: {connection_string: \"${HS_DATABASE}\", max_open_conns: 40, max_idle_conns: 10, conn_max_lifetime: -1}"
		db_yaml="federation_api: {key_perspectives: []}
media_api: {base_path: ./data/media}
sync_api: {search: {enabled: false}}
user_api: {bcrypt_cost: 4}"
	else
		db_yaml="key_server: {database: {connection_string: \"file:data/keyserver.db\"}}
media_api:
  base_path: ./data/media
  database: {connection_string: \"file:data/mediaapi.db\"}
room_server: {database: {connection_string: \"file:data/roomserver.db\"}}
sync_api:
  database: {connection_string: \"file:data/syncapi.db\"}
  search: {enabled: false}
user_api:
  bcrypt_cost: 4
  account_database: {connection_string: \"file:data/userapi.db\"}
relay_api: {database: {connection_string: \"file:data/relayapi.db\"}}
mscs: {database: {connection_string: \"file:data/mscs.db\"}}
federation_api:
  database: {connection_string: \"file:data/federationapi.db\"}
  key_perspectives: []"
	fi
	cat >"$dir/dendrite.yaml" <<YAML
# Written by test/e2e/homeserver.sh — a loopback-only test homeserver. Do not expose it.
version: 2
global:
  server_name: ${HS_SERVER_NAME}
  private_key: matrix_key.pem
  disable_federation: true
  trusted_third_party_id_servers: []
  presence: {enable_inbound: false, enable_outbound: false}
  jetstream: {in_memory: true, storage_path: ./data}
${global_db}
  report_stats: {enabled: false}
app_service_api:
  config_files: [${regs}]
client_api:
  # Open registration (m.login.dummy) for test users; Dendrite refuses to start with it unless
  # run with -really-enable-open-registration. The shared secret works as well.
  registration_disabled: false
  registration_shared_secret: "${HS_SHARED_SECRET}"
  guests_disabled: true
  rate_limiting: {enabled: false}
${db_yaml}
logging:
  - {type: std, level: ${HS_LOG_LEVEL}}
YAML
}

write_signing_key() {
	# "MATRIX PRIVATE KEY" PEM holding a 32-byte ed25519 seed (what generate-keys writes).
	{
		echo "-----BEGIN MATRIX PRIVATE KEY-----"
		echo "Key-ID: ed25519:auto"
		echo
		head -c 32 /dev/urandom | base64
		echo "-----END MATRIX PRIVATE KEY-----"
	} >"$1/matrix_key.pem"
	chmod 600 "$1/matrix_key.pem"
}

# our_pid DIR: prints the PID from DIR/dendrite.pid if it is the Dendrite started from DIR.
our_pid() {
	local dir=$1 pid
	[ -f "$dir/dendrite.pid" ] || return 1
	pid=$(cat "$dir/dendrite.pid")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	pid_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-config $dir/dendrite.yaml" || return 1
	echo "$pid"
}

cmd_start() {
	[ $# -ge 2 ] || usage
	local dir=$1 reg pid regs=""
	shift
	HS_SERVER_NAME=${HS_SERVER_NAME:-localhost}
	HS_SHARED_SECRET=${HS_SHARED_SECRET:-test_shared_secret}
	HS_LOG_LEVEL=${HS_LOG_LEVEL:-warn}
	local timeout=${HS_START_TIMEOUT:-60}

	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	case "$dir" in *[[:space:]\"]*) die "DIR must not contain spaces or quotes" ;; esac
	local abs=()
	for reg in "$@"; do
		[ -f "$reg" ] || die "registration file not found: $reg"
		reg=$(cd "$(dirname "$reg")" && pwd -P)/$(basename "$reg")
		case "$reg" in *[[:space:]\",]*) die "REGISTRATION paths must not contain spaces, quotes or commas" ;; esac
		abs+=("$reg")
		regs="${regs:+$regs, }\"$reg\""
	done
	if pid=$(our_pid "$dir"); then
		die "a Dendrite from $dir is already running (pid $pid); run: $0 stop $dir"
	fi

	cmd_install
	for reg in "${abs[@]}"; do
		check_registration "$reg"
	done

	if [ "${HS_KEEP_STATE:-0}" != 1 ]; then
		rm -rf "$dir/data"
	fi
	mkdir -p "$dir/data"
	[ -s "$dir/matrix_key.pem" ] || write_signing_key "$dir"
	write_config "$dir" "$regs"

	local port pid url
	for _ in 1 2 3 4 5; do
		port=${HS_PORT:-$(free_port)}
		url="http://127.0.0.1:${port}"
		rm -f "$dir/dendrite.pid"
		# New session (setsid): not killed with the caller's process group or terminal; all
		# output to the log file, stdin from /dev/null, so `eval "$(… start …)"` returns.
		# The inner shell writes its own PID and execs Dendrite, so the PID is Dendrite's.
		(
			cd "$dir"
			# shellcheck disable=SC2016 # $$ and $@ belong to the inner sh
			exec setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$dir/dendrite.pid" \
				"$DENDRITE_BIN" -config "$dir/dendrite.yaml" \
				-http-bind-address "127.0.0.1:${port}" \
				-really-enable-open-registration
		) </dev/null >"$dir/dendrite.log" 2>&1 &
		local waited=0
		while [ ! -s "$dir/dendrite.pid" ] && [ $waited -lt 50 ]; do
			sleep 0.1
			waited=$((waited + 1))
		done
		pid=$(cat "$dir/dendrite.pid" 2>/dev/null) || die "Dendrite did not start (see $dir/dendrite.log)"

		local deadline=$((SECONDS + timeout)) up=0
		while [ $SECONDS -lt $deadline ]; do
			if owns_listener "$pid" "$port" &&
				curl -fsS --max-time 2 "$url/_matrix/client/versions" >/dev/null 2>&1; then
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
			log "Dendrite $DENDRITE_VERSION up at $url (pid $pid, log $dir/dendrite.log)"
			return 0
		fi
		if pid_alive "$pid"; then
			kill "$pid" 2>/dev/null || true
			rm -f "$dir/dendrite.pid"
			die "Dendrite did not answer on $url within ${timeout}s (see $dir/dendrite.log)"
		fi
		if [ -z "${HS_PORT:-}" ] && grep -q "address already in use" "$dir/dendrite.log"; then
			log "port $port was taken meanwhile, retrying with another one"
			continue
		fi
		rm -f "$dir/dendrite.pid"
		cat "$dir/dendrite.log" >&2
		die "Dendrite exited during startup"
	done
	die "could not bind a port after 5 attempts"
}

server_commands Dendrite dendrite.pid "$DENDRITE_BIN" "$@"
