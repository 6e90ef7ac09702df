#!/bin/sh
# docker-run.sh — the entrypoint of the wxbridge image (the mautrix bridges' convention).
#
# Everything the bridge keeps lives in the /data volume:
#   1. no /data/config.yaml        → write the example config there, say what to edit, exit
#   2. no /data/registration.yaml  → generate the appservice registration, say how to give it
#                                    to the homeserver, exit
#   3. otherwise                   → chown -R /data to UID:GID and run the bridge as UID:GID:
#                                    wxbridge -c /data/config.yaml -r /data/registration.yaml "$@"
# so extra arguments reach the bridge (e.g. --ignore-unsupported-server for Dendrite).
# A first argument that is not an option is a command, run as it is (e.g. `wxbridge -c
# /config/config.yaml -r /config/registration.yaml --no-update`, as orchestrators do).
# `-v`/`--version`, `--version-json` and `-h`/`--help` as the first argument just run the
# binary. UID and GID (default 1337) select the user; the bridge never runs as root. When the
# container itself is started as a non-root user (docker run --user), that user is used and
# nothing is chowned. Files the bridge writes are private to that user (umask 077, 0600).
set -eu

BIN=/usr/bin/wxbridge
DATA=/data
CONFIG=$DATA/config.yaml
REGISTRATION=$DATA/registration.yaml
# UID/GID come from the environment (the image sets 1337); the script's own names avoid
# clashing with shells where UID is a read-only variable.
# shellcheck disable=SC3028 # UID is an environment variable here, not a shell builtin
RUN_UID=${UID:-1337}
RUN_GID=${GID:-1337}

case "${1:-}" in
-v | --version | --version-json | -h | --help) exec "$BIN" "$@" ;;
-*) ;;
?*)
	# A command instead of bridge options, the way orchestrators start mautrix bridges
	# (matrix-docker-ansible-deploy: --user UID:GID --cap-drop=ALL, config and registration
	# mounted read-only, --workdir=/data):
	#   wxbridge -c /config/config.yaml -r /config/registration.yaml --no-update
	# It runs as given, as the container's user, in the container's working directory:
	# nothing is written, chowned or generated here.
	exec "$@"
	;;
esac

for n in "$RUN_UID" "$RUN_GID"; do
	case "$n" in
	'' | *[!0-9]*)
		echo "docker-run.sh: UID and GID must be numbers (got UID='$RUN_UID' GID='$RUN_GID')" >&2
		exit 2
		;;
	esac
done
if [ "$RUN_UID" = 0 ] || [ "$RUN_GID" = 0 ]; then
	echo "docker-run.sh: refusing to run the bridge as root (UID=$RUN_UID GID=$RUN_GID)" >&2
	exit 2
fi

umask 077
cd "$DATA"
# The bridge's home is its volume (root's /root is not readable after the switch).
export HOME="$DATA"

# $RUN_AS CMD…: runs CMD as RUN_UID:RUN_GID (unquoted on purpose: a word list of numbers and flags).
if [ "$(id -u)" = 0 ]; then
	# Root only for this script: the bridge runs as UID:GID without supplementary groups
	# or capabilities (setpriv is in util-linux, which every Debian image has).
	fix_perms() { chown -R "$RUN_UID:$RUN_GID" "$DATA"; }
	RUN_AS="setpriv --reuid=$RUN_UID --regid=$RUN_GID --clear-groups --no-new-privs --"
else
	fix_perms() { :; }
	RUN_AS=""
fi

if [ ! -f "$CONFIG" ]; then
	fix_perms
	$RUN_AS "$BIN" -c "$CONFIG" -e >/dev/null
	chmod 600 "$CONFIG"
	cat <<MSG
Didn't find a config file: wrote the example config to $CONFIG.

Edit it, then start the container again (it then writes $REGISTRATION):
  homeserver.address, homeserver.domain   your homeserver (e.g. http://synapse:8008, example.org)
  appservice.address                      how the homeserver reaches this container (e.g. http://wxbridge:29350)
  appservice.hostname                     0.0.0.0 (listen on the container's network)
  database                                type: sqlite3-fk-wal, uri: file:/data/wxbridge.db?_txlock=immediate
                                          (or type: postgres with a postgres:// URI)
  bridge.permissions                      who may use the bridge
MSG
	exit 0
fi

if [ ! -f "$REGISTRATION" ]; then
	fix_perms
	if ! $RUN_AS "$BIN" -g -c "$CONFIG" -r "$REGISTRATION" >/dev/null; then
		echo "docker-run.sh: could not generate $REGISTRATION; fix $CONFIG (see the error above) and start again" >&2
		exit 1
	fi
	chmod 600 "$REGISTRATION" "$CONFIG"
	cat <<MSG
Didn't find a registration file: generated $REGISTRATION (the tokens are also in $CONFIG).

Give it to your homeserver and restart the homeserver, then start this container again:
  Synapse   app_service_config_files: [/path/to/registration.yaml]  in homeserver.yaml
  Dendrite  app_service_api.config_files: [/path/to/registration.yaml] in dendrite.yaml
            (and start the bridge with --ignore-unsupported-server)
  Conduit   send "@conduit:<server>: register-appservice" followed by the file's contents
            in a code block to the admin room
MSG
	exit 0
fi

fix_perms
exec $RUN_AS "$BIN" -c "$CONFIG" -r "$REGISTRATION" "$@"
