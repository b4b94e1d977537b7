#!/usr/bin/env bash
# Provisions nbhd's private PostGIS cluster: installs the Debian packages when
# missing, creates a cluster under var/pg and starts it on a unix socket and on
# 127.0.0.1:$NBHD_PG_PORT. Used by `make run` and `make test`; idempotent.
#
# Nobody else on the machine can read it: the superuser (postgres) logs in
# only through the socket as the cluster's OS owner (peer); everything else,
# on the socket or TCP, needs a password (scram-sha-256). nbhd connects as
# the role `nbhd`, which owns its databases and is not a superuser; its
# generated password is in var/pgpass (mode 0600, PostgreSQL's passfile
# format), which nbhd finds itself when run from the repository (or set
# PGPASSFILE).
#
#   scripts/pg.sh start    install if needed, init if needed, start if stopped
#   scripts/pg.sh stop     stop the cluster (and its replica, if one runs)
#   scripts/pg.sh url      print the owner's connection URL (its password stays in var/pgpass)
#   scripts/pg.sh status   say whether it runs
#   scripts/pg.sh pid      print the postmaster's process id (the benchmarks read
#                          PostgreSQL's CPU time from it: scripts/cpu.sh)
#
# A streaming hot standby of it, for nbhd's read replicas (docs/deploy.md):
#
#   scripts/pg.sh replica        start the primary, make the standby if there is
#                                none (pg_basebackup -R, as the role nbhd_replicator,
#                                whose password is in var/pgpass too) and start it
#                                on 127.0.0.1:$NBHD_PG_REPLICA_PORT (default: the
#                                primary's port + 1)
#   scripts/pg.sh replica-url    print the owner's URL on the standby (reads only)
#   scripts/pg.sh replica-stop   stop the standby
#   scripts/pg.sh replica-drop   stop and delete the standby (the next `replica`
#                                clones the primary afresh)
#
# With NBHD_DATABASE_URL set, nothing is provisioned: that database is used.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${NBHD_PG_PORT:-54329}
dbname=${NBHD_PG_DB:-nbhd}
hash=$(printf '%s' "$root" | sha1sum | cut -c1-10)
passfile=$root/var/pgpass
owner=nbhd
replicator=nbhd_replicator
replica_port=${NBHD_PG_REPLICA_PORT:-$((port + 1))}

log() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

am_root() { [ "$(id -u)" -eq 0 ]; }

# as_pg runs a command as the cluster's owner: postgres when we are root
# (PostgreSQL refuses to run as root), else the current user.
as_pg() {
	if am_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_bindir finds the newest installed PostgreSQL server binaries.
pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && printf '%s' "$d"
}

pg_version() { basename "$(dirname "$(pg_bindir)")"; }

have_postgis() {
	local v
	v=$(pg_version) || return 1
	[ -f "/usr/share/postgresql/$v/extension/postgis.control" ]
}

install_packages() {
	if [ -n "$(pg_bindir)" ] && have_postgis; then return 0; fi
	local pkgs="postgresql"
	[ -n "$(pg_bindir)" ] && pkgs="postgresql-$(pg_version)-postgis-3"
	if ! am_root; then
		if [ -n "$(pg_bindir)" ]; then
			die "PostGIS is missing. Run: sudo apt-get install -y postgresql-$(pg_version)-postgis-3"
		fi
		die "PostgreSQL is missing. Run: sudo apt-get install -y postgresql postgis"
	fi
	log "installing $pkgs (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "$pkgs" >&2
	if ! have_postgis; then
		apt-get install -y -qq --no-install-recommends "postgresql-$(pg_version)-postgis-3" >&2
	fi
	have_postgis || die "PostGIS still missing after apt-get install"
}

# Directories: the cluster lives under the repo unless the postgres user cannot
# reach it (a checkout under /root, say); the socket lives in the repo unless
# the path would pass the ~100-byte unix socket limit.
pgroot=${NBHD_PG_ROOT:-$root/var/pg}
sockdir=${NBHD_PG_SOCKET_DIR:-$pgroot/run}

choose_dirs() {
	if am_root && [ -z "${NBHD_PG_ROOT:-}" ]; then
		mkdir -p "$pgroot"
		chown postgres: "$pgroot" 2>/dev/null || true
		if ! runuser -u postgres -- test -w "$pgroot" 2>/dev/null; then
			pgroot=/var/tmp/nbhd-$hash/pg
			log "postgres cannot reach $root; using $pgroot"
			[ -z "${NBHD_PG_SOCKET_DIR:-}" ] && sockdir=$pgroot/run
		fi
	fi
	if [ ${#sockdir} -gt 80 ]; then sockdir=/tmp/nbhd-$hash; fi
	datadir=$pgroot/data
	logfile=$pgroot/postgres.log
}

# password prints a role's password (the owner's by default) from the
# passfile, making one on first use.
password() {
	local role=${1:-$owner}
	mkdir -p "$(dirname "$passfile")"
	if ! { [ -f "$passfile" ] && awk -F: -v r="$role" '$4 == r { found = 1 } END { exit !found }' "$passfile"; }; then
		(umask 077 && printf '*:*:*:%s:%s\n' "$role" "$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')" >>"$passfile")
	fi
	chmod 600 "$passfile"
	awk -F: -v r="$role" '$4 == r { print $5; exit }' "$passfile"
}

url() {
	if [ -n "${NBHD_DATABASE_URL:-}" ]; then
		printf '%s\n' "$NBHD_DATABASE_URL"
	else
		# The password stays in the passfile: URLs get printed and logged.
		password >/dev/null
		printf 'postgres://%s@127.0.0.1:%s/%s?sslmode=disable&passfile=%s\n' "$owner" "$port" "$dbname" "$passfile"
	fi
}

# superuser runs psql as the superuser, through the socket (peer).
superuser() {
	PGOPTIONS="-c client_min_messages=warning" as_pg "$(pg_bindir)/psql" -h "$sockdir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -Atq "$@"
}

# secure writes the cluster's authentication rules and makes the owner role,
# its database and PostGIS (in template1, so every database nbhd creates,
# tests' included, has it without a superuser).
secure() {
	local os_user
	os_user=$(as_pg id -un)
	as_pg sh -c "cat >'$datadir/pg_ident.conf'" <<-IDENT
		# the cluster's OS owner may log in as the superuser, nobody else
		owner  $os_user  postgres
	IDENT
	as_pg sh -c "cat >'$datadir/pg_hba.conf'" <<-HBA
		# nbhd's private cluster (scripts/pg.sh): peer for the superuser on the
		# socket, passwords (scram-sha-256) for everyone else.
		local   all  postgres                 peer map=owner
		local   all  all                      scram-sha-256
		host    all  all       127.0.0.1/32   scram-sha-256
		host    all  all       ::1/128        scram-sha-256
		# streaming replication, for the standby \`scripts/pg.sh replica\` makes
		host    replication  $replicator  127.0.0.1/32  scram-sha-256
	HBA
	as_pg "$(pg_bindir)/pg_ctl" -D "$datadir" reload >/dev/null
	local pw
	pw=$(password)
	superuser -d postgres <<-SQL
		SET password_encryption = 'scram-sha-256';
		DO \$\$ BEGIN
		  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$owner') THEN
		    CREATE ROLE $owner LOGIN CREATEDB CREATEROLE;
		  END IF;
		END \$\$;
		ALTER ROLE $owner LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD '$pw';
		-- request roles made by an older nbhd as the superuser
		DO \$\$ BEGIN
		  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nbhd_public') THEN GRANT nbhd_public TO $owner; END IF;
		  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nbhd_staff') THEN GRANT nbhd_staff TO $owner; END IF;
		END \$\$;
	SQL
	superuser -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
	if ! superuser -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$dbname'" | grep -q 1; then
		superuser -d postgres -c "CREATE DATABASE \"$dbname\" OWNER $owner"
	fi
	superuser -d "$dbname" -c "CREATE EXTENSION IF NOT EXISTS postgis"
	# A database made before the owner role existed (by an older nbhd, as the
	# superuser) passes to it with nbhd's schemas and everything in them.
	superuser -d postgres -c "ALTER DATABASE \"$dbname\" OWNER TO $owner"
	superuser -d "$dbname" <<-SQL
		DO \$\$
		DECLARE r record;
		BEGIN
		  FOR r IN SELECT nspname FROM pg_namespace
		           WHERE nspname IN ('nbhd', 'api', 'staff', 'logic') AND nspowner <> '$owner'::regrole LOOP
		    EXECUTE format('ALTER SCHEMA %I OWNER TO $owner', r.nspname);
		  END LOOP;
		  FOR r IN SELECT c.oid::regclass AS obj, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		           WHERE n.nspname IN ('nbhd', 'api', 'staff', 'logic') AND c.relkind IN ('r', 'v', 'm', 'S', 'p')
		             AND c.relowner <> '$owner'::regrole LOOP
		    EXECUTE format('ALTER %s %s OWNER TO $owner',
		      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.obj);
		  END LOOP;
		  FOR r IN SELECT p.oid::regprocedure AS fn, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		           WHERE n.nspname IN ('nbhd', 'api', 'staff', 'logic') AND p.proowner <> '$owner'::regrole LOOP
		    EXECUTE format('ALTER %s %s OWNER TO $owner', CASE r.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.fn);
		  END LOOP;
		END \$\$;
	SQL
}

running() { [ -d "${datadir:-/nonexistent}" ] && as_pg "$(pg_bindir)/pg_ctl" -D "$datadir" status >/dev/null 2>&1; }

# shared_buffers sizes PostgreSQL's own page cache: a quarter of the
# machine's memory, between 128 MB and 2 GB (NBHD_PG_SHARED_BUFFERS, in MB,
# overrides), as PostgreSQL's manual suggests for a dedicated server. With
# 256 MB, England's tiles, profiles and searches read their pages through
# the kernel's cache, which this machine reclaims while it is idle; cold
# tiles and p99s then swing by half from one run to the next
# (docs/performance.md, seventh round).
shared_buffers() {
	if [ -n "${NBHD_PG_SHARED_BUFFERS:-}" ]; then
		echo "${NBHD_PG_SHARED_BUFFERS}MB"
		return
	fi
	local kb mb
	kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || true)
	mb=$((${kb:-0} / 4096))
	if [ "$mb" -lt 128 ]; then mb=128; fi
	if [ "$mb" -gt 2048 ]; then mb=2048; fi
	echo "${mb}MB"
}

# huge_pages_counts prints the kernel's huge pages: total, free, reserved.
huge_pages_counts() {
	awk '/^HugePages_Total:/ {t=$2} /^HugePages_Free:/ {f=$2} /^HugePages_Rsvd:/ {r=$2} END {print t+0, f+0, r+0}' /proc/meminfo
}

# huge_pages_reserve makes room for the cluster's shared memory in 2 MB
# huge pages, when run as root and the kernel lets it (NBHD_PG_HUGE_PAGES=
# off skips it): PostgreSQL (huge_pages=try) then maps shared buffers in
# huge pages, else in 4 kB pages as before. With 4 kB pages every new
# backend pays a page fault for each page of shared memory it first
# touches: on England a composite z12 tile read 1,600 buffers and took
# 6.5 ms in a fresh connection against 4.0 ms once warm; with huge pages
# 4.1 ms from the first tile (docs/performance.md, tenth round). Pages a
# stopped cluster leaves free are given back by huge_pages_release.
huge_pages_reserve() {
	[ "${NBHD_PG_HUGE_PAGES:-on}" = off ] && return 0
	am_root && [ -w /proc/sys/vm/nr_hugepages ] || return 0
	local size_kb total free rsvd mb need want
	size_kb=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
	[ -n "$size_kb" ] && [ "$size_kb" -gt 0 ] || return 0
	read -r total free rsvd < <(huge_pages_counts)
	mb=$(shared_buffers)
	mb=${mb%MB}
	# shared buffers, plus an eighth and 64 MB for PostgreSQL's other shared memory
	need=$(((mb + mb / 8 + 64) * 1024 / size_kb))
	want=$((total - free + rsvd + need))
	[ "$want" -le "$total" ] && return 0
	# never more than half of the machine's memory
	local mem_kb
	mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
	[ $((want * size_kb)) -le $((mem_kb / 2)) ] || return 0
	echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null || return 0
	log "reserved $(($(huge_pages_counts | cut -d' ' -f1) - total)) huge pages of ${size_kb} kB for shared buffers"
}

# huge_pages_release gives back the huge pages no process holds or has
# reserved, after a cluster stops.
huge_pages_release() {
	[ "${NBHD_PG_HUGE_PAGES:-on}" = off ] && return 0
	am_root && [ -w /proc/sys/vm/nr_hugepages ] || return 0
	local total free rsvd
	read -r total free rsvd < <(huge_pages_counts)
	[ "$free" -gt "$rsvd" ] || return 0
	echo $((total - free + rsvd)) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
}

# preload names the libraries the server loads at start, those it has:
#  - pg_prewarm's autoprewarm worker records which pages are in shared
#    buffers (every 5 minutes and at shutdown) and reads them back after a
#    restart, so the first import after one does not read a borough's
#    published rows from disk (on England with the kernel's cache dropped:
#    8.1 s without it, 2.9 s with it; docs/performance.md, eighth round);
#  - PostGIS, loaded once in the postmaster instead of by every new
#    backend at its first geometry: 25-28 ms a connection otherwise, paid
#    again on each pool growth, server start and test database.
preload() {
	local lib libs=()
	for lib in pg_prewarm postgis-3; do
		[ -f "$(pg_bindir)/../lib/$lib.so" ] && libs+=("$lib")
	done
	[ ${#libs[@]} -gt 0 ] && echo "-c shared_preload_libraries=$(IFS=,; echo "${libs[*]}")"
	return 0
}

start() {
	if [ -n "${NBHD_DATABASE_URL:-}" ]; then
		log "NBHD_DATABASE_URL is set; not provisioning a cluster"
		return 0
	fi
	install_packages
	local bin
	bin=$(pg_bindir)
	choose_dirs
	mkdir -p "$pgroot" "$sockdir"
	if am_root; then chown postgres: "$pgroot" "$sockdir"; fi
	exec 9>"$pgroot/.lock"
	flock 9
	if [ ! -f "$datadir/PG_VERSION" ]; then
		log "creating cluster in $datadir"
		as_pg "$bin/initdb" -D "$datadir" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --no-locale >/dev/null
	fi
	if ! running; then
		log "starting PostgreSQL $(pg_version) on 127.0.0.1:$port (socket $sockdir)"
		# max_wal_size: with the 1 GB default a national load checkpointed
		# every 11-20 s, writing whole pages again after each checkpoint.
		as_pg touch "$logfile"
		huge_pages_reserve
		if ! as_pg "$bin/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 \
			-o "-p $port -k $sockdir -c listen_addresses=127.0.0.1 -c max_connections=300 -c synchronous_commit=off -c shared_buffers=$(shared_buffers) -c jit=off -c max_wal_size=4GB $(preload)" start >/dev/null 9>&-; then
			tail -n 20 "$logfile" >&2 || true
			die "PostgreSQL did not start (is port $port taken? set NBHD_PG_PORT)"
		fi
		huge_pages_release # what PostgreSQL did not take, if it fell back to 4 kB pages
	fi
	secure
	log "ready: postgres://$owner@127.0.0.1:$port/$dbname (password in $passfile)"
}

stop() {
	[ -n "${NBHD_DATABASE_URL:-}" ] && { log "NBHD_DATABASE_URL is set; nothing to stop"; return 0; }
	choose_dirs
	replica_stop quiet
	if [ -n "$(pg_bindir)" ] && running; then
		as_pg "$(pg_bindir)/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null
		huge_pages_release
		log "stopped"
	else
		log "not running"
	fi
}

status() {
	choose_dirs
	if running; then log "running: $(url)"; else log "not running"; return 1; fi
	if replica_running; then log "replica running: $(replica_url)"; fi
}

pid() {
	choose_dirs
	running || die "not running"
	as_pg head -n 1 "$datadir/postmaster.pid"
}

# The standby lives beside the primary's data, in $pgroot/replica.
replica_dirs() {
	choose_dirs
	replicadir=$pgroot/replica
	replicalog=$pgroot/replica.log
}

replica_running() {
	replica_dirs
	[ -f "$replicadir/PG_VERSION" ] && as_pg "$(pg_bindir)/pg_ctl" -D "$replicadir" status >/dev/null 2>&1
}

replica_url() {
	password >/dev/null
	printf 'postgres://%s@127.0.0.1:%s/%s?sslmode=disable&passfile=%s\n' "$owner" "$replica_port" "$dbname" "$passfile"
}

# replica makes (once) and starts a streaming hot standby of the cluster.
# The replication role has a password of its own in var/pgpass; the
# standby's server reads it from a copy in its own directory (the server
# runs as postgres when we are root, and var/pgpass is ours alone).
replica() {
	[ -n "${NBHD_DATABASE_URL:-}" ] && die "NBHD_DATABASE_URL is set: make your replica with your provider's tools"
	start
	replica_dirs
	local bin pw
	bin=$(pg_bindir)
	pw=$(password "$replicator")
	superuser -d postgres <<-SQL
		SET password_encryption = 'scram-sha-256';
		DO \$\$ BEGIN
		  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$replicator') THEN
		    CREATE ROLE $replicator LOGIN REPLICATION;
		  END IF;
		END \$\$;
		ALTER ROLE $replicator LOGIN REPLICATION NOSUPERUSER PASSWORD '$pw';
	SQL
	exec 9>"$pgroot/.lock"
	flock 9
	if [ ! -f "$replicadir/PG_VERSION" ]; then
		local rpass=$pgroot/replica.pgpass
		as_pg sh -c "umask 077 && cat >'$rpass'" <<<"127.0.0.1:$port:*:$replicator:$pw"
		log "cloning the cluster into $replicadir (pg_basebackup -R)"
		rm -rf "$replicadir"
		if ! as_pg env PGPASSFILE="$rpass" "$bin/pg_basebackup" -D "$replicadir" -h 127.0.0.1 -p "$port" -U "$replicator" \
			-R -X stream -c fast 9>&-; then
			rm -rf "$replicadir"
			die "pg_basebackup failed"
		fi
		# -R wrote standby.signal and primary_conninfo; name the passfile in
		# it so the standby finds the password after a restart too.
		if ! grep -q passfile "$replicadir/postgresql.auto.conf"; then
			as_pg sh -c "echo \"primary_conninfo = 'host=127.0.0.1 port=$port user=$replicator passfile=$rpass application_name=nbhd_replica'\" >>'$replicadir/postgresql.auto.conf'"
		fi
	fi
	if ! replica_running; then
		log "starting the standby on 127.0.0.1:$replica_port"
		as_pg touch "$replicalog"
		if ! as_pg "$bin/pg_ctl" -D "$replicadir" -l "$replicalog" -w -t 60 \
			-o "-p $replica_port -k $sockdir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB -c jit=off -c hot_standby=on $(preload)" start >/dev/null 9>&-; then
			tail -n 20 "$replicalog" >&2 || true
			die "the standby did not start (is port $replica_port taken? set NBHD_PG_REPLICA_PORT)"
		fi
	fi
	log "standby ready: $(replica_url | sed 's/?.*//') (streaming from port $port; reads only)"
}

replica_stop() {
	replica_dirs
	if [ -n "$(pg_bindir)" ] && replica_running; then
		as_pg "$(pg_bindir)/pg_ctl" -D "$replicadir" -m fast -w stop >/dev/null
		log "standby stopped"
	elif [ "${1:-}" != quiet ]; then
		log "standby not running"
	fi
}

replica_drop() {
	replica_stop quiet
	replica_dirs
	rm -rf "$replicadir" "$replicalog" "$pgroot/replica.pgpass"
	log "standby removed"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
url) url ;;
status) status ;;
pid) pid ;;
replica) replica ;;
replica-url) replica_url ;;
replica-stop) replica_stop ;;
replica-drop) replica_drop ;;
*) die "usage: scripts/pg.sh start|stop|url|status|pid|replica|replica-url|replica-stop|replica-drop" ;;
esac
