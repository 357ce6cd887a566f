#!/usr/bin/env bash
# Run a command (the test suite) with a throwaway PostgreSQL cluster.
#
#   tools/with-postgres.sh .venv/bin/python -m pytest -n 2
#
# Finds the PostgreSQL server binaries (initdb, pg_ctl, postgres) of the system;
# as root, installs the Debian package `postgresql` when they are missing
# (`apt-get update` only when the package lists do not know it). Then it creates a
# cluster in a new temporary directory (as the `postgres` system user when run as
# root: initdb refuses root), listening only on a unix socket inside that
# directory (no TCP port, so no clash with anything else), trust authentication,
# no fsync. The command runs with
#
#   COVERPLAN_TEST_PG_URL=postgresql+psycopg://postgres@/postgres?host=<dir>&port=<port>
#   COVERPLAN_TEST_PG_REQUIRED=1   (a PostgreSQL test then fails instead of skipping)
#
# and the cluster is stopped and its directory deleted afterwards, whatever the
# command's outcome (its exit status is passed on).
#
# When PostgreSQL cannot be had, the command runs without it (the PostgreSQL tests
# skip) and the reason is printed on stderr. Already set COVERPLAN_TEST_PG_URL:
# that server is used as is. COVERPLAN_TEST_PG=0: no PostgreSQL at all.
set -uo pipefail

PG_PORT=5432 # in a private socket directory: the port only names the socket file

say() { echo "with-postgres: $*" >&2; }

run_without() { # REASON COMMAND...
	say "$1; the PostgreSQL tests will be skipped."
	shift
	exec "$@"
}

if [[ $# -eq 0 ]]; then
	say "usage: tools/with-postgres.sh COMMAND [ARG...]"
	exit 64
fi

if [[ -n "${COVERPLAN_TEST_PG_URL:-}" ]]; then
	say "using the server of COVERPLAN_TEST_PG_URL as given."
	exec "$@"
fi
if [[ "${COVERPLAN_TEST_PG:-1}" == "0" ]]; then
	say "COVERPLAN_TEST_PG=0; the PostgreSQL tests will be skipped."
	exec "$@"
fi

# The directory holding initdb, pg_ctl and postgres (newest version first).
find_bindir() {
	local dir candidates=()
	if command -v pg_config >/dev/null 2>&1; then
		candidates+=("$(pg_config --bindir 2>/dev/null)")
	fi
	while IFS= read -r dir; do
		candidates+=("$dir")
	done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)
	for dir in $(command -v initdb 2>/dev/null) $(command -v postgres 2>/dev/null); do
		candidates+=("$(dirname "$(readlink -f "$dir")")")
	done
	for dir in "${candidates[@]}"; do
		if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
			echo "$dir"
			return 0
		fi
	done
	return 1
}

install_server() {
	local candidate
	if [[ $EUID -ne 0 ]]; then
		why="the PostgreSQL server is not installed (initdb, pg_ctl, postgres not found) and only root may install it (apt-get install postgresql)"
		return 1
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		why="the PostgreSQL server is not installed and there is no apt-get to install it"
		return 1
	fi
	candidate=$(apt-cache policy postgresql 2>/dev/null | awk '/Candidate:/ {print $2}')
	if [[ -z "$candidate" || "$candidate" == "(none)" ]]; then
		say "the package lists do not know postgresql; running apt-get update."
		if ! apt-get update -qq >&2; then
			why="apt-get update failed (offline?)"
			return 1
		fi
	fi
	say "installing the PostgreSQL server: apt-get install postgresql."
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		postgresql >&2; then
		why="apt-get install postgresql failed"
		return 1
	fi
	return 0
}

why=""
if ! bindir=$(find_bindir); then
	install_server || run_without "$why" "$@"
	bindir=$(find_bindir) || run_without "apt-get installed postgresql but initdb/pg_ctl/postgres are still missing" "$@"
fi

# As root, the cluster belongs to the postgres system user (initdb refuses root).
as_owner=()
owner=$(id -un)
if [[ $EUID -eq 0 ]]; then
	if ! id postgres >/dev/null 2>&1; then
		run_without "running as root and there is no 'postgres' system user to own the cluster" "$@"
	fi
	if ! command -v runuser >/dev/null 2>&1; then
		run_without "running as root and there is no runuser to act as the 'postgres' user" "$@"
	fi
	owner=postgres
	as_owner=(runuser -u postgres --)
fi

# Under /tmp whatever TMPDIR says: the owner must reach it, and a unix socket path
# must stay short (about 100 bytes).
workdir=$(mktemp -d /tmp/coverplan-pg.XXXXXX) || run_without "cannot create a temporary directory in /tmp" "$@"
started=0
cleanup() {
	if [[ $started -eq 1 ]]; then
		(cd / && "${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate -w stop >/dev/null 2>&1)
	fi
	rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

chmod 0700 "$workdir"
[[ $EUID -eq 0 ]] && chown postgres: "$workdir"

# cd /: the owner may not be allowed into the current directory.
if ! (cd / && "${as_owner[@]}" "$bindir/initdb" -D "$workdir/data" -U postgres \
	--auth=trust -E UTF8 --locale=C --no-sync --no-instructions >"$workdir/initdb.log" 2>&1); then
	cat "$workdir/initdb.log" >&2
	rm -rf "$workdir"
	trap - EXIT
	run_without "initdb failed (as $owner, output above)" "$@"
fi
opts="-c listen_addresses='' -c unix_socket_directories='$workdir' -p $PG_PORT"
opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
if ! (cd / && "${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" \
	-w -t 60 -o "$opts" start >/dev/null 2>&1); then
	cat "$workdir/server.log" >&2
	(cd / && "${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1)
	rm -rf "$workdir"
	trap - EXIT
	run_without "the throwaway PostgreSQL server did not start (log above)" "$@"
fi
started=1

export COVERPLAN_TEST_PG_URL="postgresql+psycopg://postgres@/postgres?host=$workdir&port=$PG_PORT"
export COVERPLAN_TEST_PG_REQUIRED=1
say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') throwaway cluster in $workdir (stopped and deleted afterwards)."
"$@"
exit $?
