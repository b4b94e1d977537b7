#!/usr/bin/env bash
# make run-replicated: nbhd scaled out on one machine, as docs/deploy.md
# describes it for production. The private cluster is the primary;
# `scripts/pg.sh replica` makes it a streaming hot standby; two nbhd
# servers read from the standby (staff requests, keys and audit go to the
# primary); nginx (Debian package nginx) in front balances them round
# robin, retries a failed request on the other server and caches what
# nbhd's Cache-Control allows. Everything listens on 127.0.0.1:
#
#   nginx       $NBHD_PROXY_PORT (default 8080)       http://127.0.0.1:8080/map/
#   nbhd        $NBHD_SERVER_PORTS (default 8081 8082), /metrics on each port + 1100
#   PostgreSQL  $NBHD_PG_PORT (primary), $NBHD_PG_REPLICA_PORT (standby)
#
# With PMTILES=1 the borough is exported to var/nginx/static/nbhd.pmtiles
# first and the map draws its boundaries from there (--pmtiles-url).
# Config is written to var/nginx (git-ignored). Ctrl-C stops nginx and the
# servers; the clusters keep running (scripts/pg.sh stop stops both).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
proxy_port=${NBHD_PROXY_PORT:-8080}
read -r -a server_ports <<<"${NBHD_SERVER_PORTS:-8081 8082}"
prefix=$root/var/nginx
log() { printf 'replicated.sh: %s\n' "$*" >&2; }

scripts/deps.sh nginx
scripts/pg.sh replica
primary=$(scripts/pg.sh url)
replica=$(scripts/pg.sh replica-url)
bin/nbhd migrate --database-url "$primary"
bin/nbhd load-sample --if-empty --database-url "$primary"

mkdir -p "$prefix"/{cache,tmp,static}
pmtiles_flag=()
if [ "${PMTILES:-}" = 1 ]; then
	log "exporting the tiles to $prefix/static/nbhd.pmtiles"
	bin/nbhd export pmtiles --database-url "$primary" "$prefix/static/nbhd.pmtiles"
	pmtiles_flag=(--pmtiles-url /static/nbhd.pmtiles)
fi

# nginx's workers drop root: they must reach the cache and temp directories.
user_line=""
if [ "$(id -u)" -eq 0 ]; then
	worker=www-data
	id "$worker" >/dev/null 2>&1 || worker=nobody
	user_line="user $worker;"
	chown -R "$worker" "$prefix/cache" "$prefix/tmp"
fi
upstreams=""
for p in "${server_ports[@]}"; do upstreams+="server 127.0.0.1:$p max_fails=1 fail_timeout=2s; "; done
sed -e "s|@USER@|$user_line|" -e "s|@PREFIX@|$prefix|g" -e "s|@UPSTREAMS@|$upstreams|" \
	-e "s|@LISTEN@|127.0.0.1:$proxy_port|" -e "s|@STATIC@|$prefix/static|" scripts/nginx.conf.tmpl >"$prefix/nginx.conf"
nginx -t -q -c "$prefix/nginx.conf" -p "$prefix"

pids=()
stop() {
	trap - EXIT INT TERM
	log "stopping nginx and the servers"
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop EXIT INT TERM

for p in "${server_ports[@]}"; do
	NBHD_DATABASE_URL=$primary bin/nbhd serve --addr "127.0.0.1:$p" --read-database-url "$replica" \
		--metrics-addr "127.0.0.1:$((p + 1100))" --trusted-proxies 127.0.0.1 --base-url "http://127.0.0.1:$proxy_port" \
		--cache-s-maxage 10s --cache-stale-while-revalidate 30s "${pmtiles_flag[@]}" >/dev/null &
	pids+=($!)
done
nginx -c "$prefix/nginx.conf" -p "$prefix" -g 'daemon off;' &
pids+=($!)
log "nginx on http://127.0.0.1:$proxy_port/map/ in front of nbhd on ports ${server_ports[*]}, reading from the standby"
log "try: curl -sI http://127.0.0.1:$proxy_port/tiles/all/10/504/331.mvt (X-Cache-Status), curl -s http://127.0.0.1:$proxy_port/readyz"
wait -n
