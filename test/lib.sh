# test/lib.sh — the error exit, the process and port helpers and the start of wxsim shared by
# the test scripts (test/e2e/run, test/chaos/run, test/bench/run, test/docker/run,
# test/e2e/homeserver.sh, test/e2e/synapse.sh, test/e2e/postgres.sh), sourced by each. The sourcing script sets MSG_PREFIX first: its
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

# start_wxsim BIN RUN [ARGS...]: starts the wxsim binary BIN on a free port of 127.0.0.1 with
# its output in RUN/wxsim.out and RUN/wxsim.log, and sets WXSIM_PID and WXSIM_URL once it has
# printed its address (within 10 s, or the script dies).
start_wxsim() {
	local bin=$1 run=$2
	shift 2
	# The file exists before the loop reads it: the background job may open it later.
	: >"$run/wxsim.out"
	(exec "$bin" -listen 127.0.0.1:0 "$@") </dev/null >"$run/wxsim.out" 2>"$run/wxsim.log" &
	WXSIM_PID=$!
	WXSIM_URL=""
	for _ in $(seq 1 100); do
		WXSIM_URL=$(sed -n 's/^wxsim listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$run/wxsim.out")
		[ -n "$WXSIM_URL" ] && return 0
		pid_alive "$WXSIM_PID" || {
			cat "$run/wxsim.log" >&2
			die "wxsim exited"
		}
		sleep 0.1
	done
	die "wxsim did not print its address within 10s"
}

# The command line shared by homeserver.sh and synapse.sh. Each defines cmd_install,
# cmd_start and our_pid DIR (the PID from DIR/PIDFILE if it is the server started from DIR),
# then calls server_commands NAME PIDFILE EXE "$@"; EXE is what the server's argv[0] is.
server_commands() {
	local name=$1 pidfile=$2 exe=$3
	shift 3
	[ $# -ge 1 ] || usage
	local sub=$1
	shift
	case "$sub" in
	install)
		[ $# -eq 0 ] || usage
		cmd_install
		;;
	start) cmd_start "$@" ;;
	stop)
		[ $# -eq 1 ] || usage
		local dir=$1 pid
		[ -d "$dir" ] || die "no such directory: $dir"
		dir=$(cd "$dir" && pwd -P)
		if ! pid=$(our_pid "$dir"); then
			printf '%s: no running %s from %s\n' "$MSG_PREFIX" "$name" "$dir" >&2
			rm -f "$dir/$pidfile"
			return 0
		fi
		stop_pid "$name" "$pid" "$exe"
		rm -f "$dir/$pidfile"
		printf '%s: stopped %s (pid %s)\n' "$MSG_PREFIX" "$name" "$pid" >&2
		;;
	*) usage ;;
	esac
}
