# test/lib.sh — the error exit and the process and port helpers shared by the test scripts
# (test/e2e/run, test/chaos/run, test/bench/run, test/e2e/homeserver.sh,
# test/e2e/postgres.sh), sourced by each. The sourcing script sets MSG_PREFIX first: its
# name in the messages, so that the output of one script that runs another says who failed.
# shellcheck shell=bash

# die MESSAGE: print MESSAGE as the script's error and exit 1.
die() {
	printf '%s: error: %s\n' "$MSG_PREFIX" "$*" >&2
	exit 1
}

# pid_alive PID: true when PID is a live (non-zombie) process.
pid_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	local state
	state=$(sed -E 's/^.*\) ([A-Z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ] && [ "$state" != X ]
}

# stop_pid NAME PID EXE: SIGTERM, then SIGKILL after 10 s, only if PID still runs EXE.
stop_pid() {
	local name=$1 pid=$2 exe=$3
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	pid_alive "$pid" || return 0
	# The PID file may be stale and the number reused since: never signal anything else.
	tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1 | grep -qxF -- "$exe" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	echo "$MSG_PREFIX: $name (pid $pid) ignored SIGTERM for 10s, sending SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
}

# port_in_use PORT: true when something listens on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a port on 127.0.0.1 nobody listens on, below the Linux ephemeral range (32768+)
# so that outgoing connections do not take it before the server binds it.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + (RANDOM % 12000)))
		port_in_use "$p" || {
			echo "$p"
			return 0
		}
	done
	die "no free port on 127.0.0.1"
}
