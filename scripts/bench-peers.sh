#!/usr/bin/env bash
# Benchmarks nbhd side by side with pg_tileserv and pg_featureserv
# (CrunchyData) on the same loaded database (make bench-peers), the way
# issue 14 measured them.
#
#  1. Reads the database bench-england loaded (NBHD_PG_DB_ENGLAND, default
#     nbhd_england; NBHD_DATABASE_URL names another) and derives the request
#     lists from its data exactly as scripts/bench-england.sh does: small
#     areas at z8 (every tile with postcodes), z12 and z14 (the tiles of 600
#     postcodes), schools at z12 and z14, 100 bboxes with limit=100, pages of
#     1,000 by offset. It never writes to the database.
#  2. Writes the same requests for the peers: pg_tileserv reads the base
#     tables nbhd.small_areas and nbhd.schools (/nbhd.small_areas/z/x/y.pbf),
#     pg_featureserv nbhd.small_areas
#     (/collections/nbhd.small_areas/items.json?bbox=..&limit=..).
#  3. Each round starts nbhd cold (--tile-cache-mb 0, no pre-rendering) and
#     each peer, all on CPU 1 on free loopback ports, checks that every server
#     answers 200 with real tiles and features, then runs wrk on CPU 0 for
#     each test, nbhd then its peer (PostgreSQL unpinned), and stops them.
#  4. Prints a markdown table of medians over ROUNDS rounds, with each
#     server's and PostgreSQL's CPU per request (scripts/cpu.sh), and the
#     sizes of one z8 and one z12 small-area tile from each server.
#
# The peers are not part of nbhd and are never vendored: build them into a
# scratch folder and pass their paths (docs/performance.md). A peer left
# unset is skipped. Every wrk run has a fixed duration and every curl a
# timeout: the script ends by itself, and stops every server it started.
#
#   PG_TILESERV=/path/pg_tileserv PG_FEATURESERV=/path/pg_featureserv make bench-peers
#   DURATION=2s ROUNDS=1 PG_TILESERV=... scripts/bench-peers.sh
#
# ROUNDS (3), DURATION (15s) and CONNS (32) are wrk's; PEER_MAX_CONNS sets
# the peers' database pools (default: their own, 4, as nbhd's --max-conns).
set -euo pipefail

# Peer paths are resolved before the cd, so relative ones work.
resolve() { [ -z "$1" ] && return 0; readlink -f "$(command -v "$1" || echo "$1")"; }
tileserv=$(resolve "${PG_TILESERV:-}")
featureserv=$(resolve "${PG_FEATURESERV:-}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
db=${NBHD_PG_DB_ENGLAND:-nbhd_england}
duration=${DURATION:-15s}
conns=${CONNS:-32}
rounds=${ROUNDS:-3}
peer_conns=${PEER_MAX_CONNS:-}
mkdir -p var
work=$(mktemp -d "$root/var/bench-peers.XXXXXX") # not /tmp: the machine may be shared
servers=()

log() { printf 'bench-peers: %s\n' "$*" >&2; }
stop_servers() {
	local pid
	for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
	servers=()
}
cleanup() {
	stop_servers
	rm -rf "$work"
}
trap cleanup EXIT

for p in "$tileserv" "$featureserv"; do
	[ -z "$p" ] || [ -x "$p" ] || { log "$p is not an executable"; exit 1; }
done
[ -n "$tileserv" ] || log "PG_TILESERV is unset: the tile tests run on nbhd alone"
[ -n "$featureserv" ] || log "PG_FEATURESERV is unset: the feature tests run on nbhd alone"
scripts/deps.sh bench
for tool in wrk taskset curl psql timeout; do command -v "$tool" >/dev/null || { log "$tool is missing"; exit 1; }; done
scripts/pg.sh start
# The URL carries the passfile (both peers' drivers read it): the password
# is never printed.
db_url=$(NBHD_PG_DB=$db scripts/pg.sh url)
go build -o bin/nbhd ./cmd/nbhd
psql_db() { psql -X -q -At -v ON_ERROR_STOP=1 "$db_url" "$@"; }
# shellcheck source=scripts/cpu.sh
. scripts/cpu.sh
postmaster=$(scripts/pg.sh pid)
declare -A pid_of # each running server's process, by name

if [ "$(psql_db -c "SELECT count(*) FROM nbhd.small_areas" 2>/dev/null || echo 0)" = 0 ]; then
	echo "no small areas are loaded in $db: nothing to benchmark (make bench-england loads it)"
	exit 0
fi

echo "# nbhd side by side with pg_tileserv and pg_featureserv, $(date -u +%FT%TZ)"
echo
echo "$(nproc) CPUs; PostgreSQL $(psql_db -c 'SHOW server_version' | cut -d' ' -f1), PostGIS $(psql_db -c 'SELECT postgis_lib_version()'); database $(psql_db -c 'SELECT current_database()'): $(psql_db -c 'SELECT count(*) FROM nbhd.small_areas') small areas, $(psql_db -c 'SELECT count(*) FROM nbhd.schools') schools; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "- nbhd $(git describe --always --dirty 2>/dev/null || echo '?'): serve --tile-cache-mb 0 --prerender-max-zoom -1 (pool of $(bin/nbhd serve --help 2>&1 | grep -A1 -e '--max-conns N' | sed -nE 's/.*\(default ([0-9]+)\).*/\1/p'))"
[ -n "$tileserv" ] && echo "- $("$tileserv" --version 2>&1 | head -n 1) ($tileserv), pool of ${peer_conns:-4}"
[ -n "$featureserv" ] && echo "- $("$featureserv" --version 2>&1 | head -n 1) ($featureserv), pool of ${peer_conns:-4}"

# 1. Request lists, drawn from the data as scripts/bench-england.sh draws
# them (postcodes stand for where people live).
psql_db -c "SELECT format('/tiles/small-areas/8/%s/%s.mvt', x, y) FROM (SELECT DISTINCT floor((ST_X(geom) + 180) / 360 * 256)::int AS x,
	floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 256)::int AS y FROM nbhd.postcodes) t ORDER BY 1" >"$work/sa8"
tiles() { # LAYER Z N
	psql_db -c "SELECT DISTINCT format('/tiles/$1/$2/%s/%s.mvt', floor((ST_X(geom) + 180) / 360 * 2^$2)::int,
		floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 2^$2)::int)
		FROM (SELECT geom FROM nbhd.postcodes ORDER BY md5(postcode) LIMIT $3) p"
}
tiles small-areas 12 600 >"$work/sa12"
tiles small-areas 14 600 >"$work/sa14"
tiles schools 12 600 >"$work/sc12"
# Composites on the same z12 tiles: all, and the map's with small areas shown (small areas and
# the first set), each against pg_tileserv's single small-area layer, as
# issue 14 asks.
map_set=$(psql_db -c "SELECT id FROM nbhd.neighbourhood_sets ORDER BY id LIMIT 1")
sed 's#^/tiles/small-areas/#/tiles/all/#' "$work/sa12" >"$work/all12"
sed "s#^/tiles/small-areas/#/tiles/small-areas,neighbourhoods-$map_set/#" "$work/sa12" >"$work/map12"
tiles schools 14 600 >"$work/sc14"
psql_db -c "SELECT format('/collections/small-areas/items?bbox=%s,%s,%s,%s&limit=100', round((ST_X(geom) - d)::numeric, 4), round((ST_Y(geom) - d / 2)::numeric, 4),
	round((ST_X(geom) + d)::numeric, 4), round((ST_Y(geom) + d / 2)::numeric, 4))
	FROM (SELECT geom, (ARRAY[0.005, 0.02, 0.05, 0.2])[1 + (row_number() OVER (ORDER BY md5(postcode)) % 4)::int] AS d
	      FROM nbhd.postcodes ORDER BY md5(postcode) LIMIT 100) p" >"$work/bbox"
psql_db -c "SELECT format('/collections/small-areas/items?limit=1000&offset=%s', o) FROM generate_series(0, (SELECT count(*) - 1 FROM nbhd.small_areas), 1000) o" >"$work/pages"
# The busiest z8 and z12 tiles (most postcodes), for the sizes.
busiest() { # Z
	psql_db -c "SELECT format('/tiles/small-areas/$1/%s/%s.mvt', x, y) FROM (SELECT floor((ST_X(geom) + 180) / 360 * 2^$1)::int AS x,
		floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 2^$1)::int AS y FROM nbhd.postcodes) t
		GROUP BY x, y ORDER BY count(*) DESC, x, y LIMIT 1"
}
size_tiles=("$(busiest 8)" "$(busiest 12)")

# The peers' lists: the same requests in their URL layouts.
for l in sa8 sa12 sa14 sc12 sc14; do
	sed -E 's#^/tiles/small-areas/(.*)\.mvt$#/nbhd.small_areas/\1.pbf#; s#^/tiles/schools/(.*)\.mvt$#/nbhd.schools/\1.pbf#' "$work/$l" >"$work/$l.peer"
done
cp "$work/sa12.peer" "$work/all12.peer"
cp "$work/sa12.peer" "$work/map12.peer"
for l in bbox pages; do
	sed -E 's#^/collections/small-areas/items\?#/collections/nbhd.small_areas/items.json?#' "$work/$l" >"$work/$l.peer"
done
peer_path() { sed -E 's#^/tiles/small-areas/(.*)\.mvt$#/nbhd.small_areas/\1.pbf#' <<<"$1"; }

# free_port prints a loopback port nothing listens on.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	log "no free port"
	exit 1
}

# ready NAME PID URL LOG: waits up to 30 s for URL to answer 200.
ready() {
	for _ in $(seq 300); do
		kill -0 "$2" 2>/dev/null || break
		curl -fs --max-time 5 -o /dev/null "$3" && return 0
		sleep 0.1
	done
	tail -n 20 "$4" >&2
	log "$1 did not start"
	exit 1
}

# start_nbhd, start_tileserv and start_featureserv start a server on CPU 1
# and set its base URL (the peers pass their arguments on).
start_nbhd() {
	NBHD_DATABASE_URL=$db_url taskset -c 1 bin/nbhd serve --addr 127.0.0.1:0 --tile-cache-mb 0 \
		--prerender-max-zoom -1 --log-level warn >"$work/nbhd.out" 2>"$work/nbhd.err" &
	servers+=("$!")
	pid_of[nbhd]=$!
	for _ in $(seq 300); do
		nbhd_base=$(sed -nE 's/^nbhd is serving on (http:[^ ]+)$/\1/p' "$work/nbhd.out")
		[ -n "$nbhd_base" ] && break
		kill -0 "${servers[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$nbhd_base" ]; then
		# Say what the server said and whether it is still running: one
		# run stopped here with nothing on stderr (docs/performance.md).
		cat "$work/nbhd.out" "$work/nbhd.err" >&2
		if kill -0 "${servers[-1]}" 2>/dev/null; then
			log "nbhd did not start: running but not serving after 30 s"
		else
			log "nbhd did not start: it exited"
		fi
		exit 1
	fi
	ready nbhd "${servers[-1]}" "$nbhd_base/readyz" "$work/nbhd.err"
}
# pg_tileserv: configuration file only (no ./config or /etc lookup), the
# database in DATABASE_URL, no Cache-Control header (CacheTTL 0, its
# default); its CORS headers only answer requests with an Origin, which wrk
# does not send.
start_tileserv() {
	local port
	port=$(free_port)
	{
		echo "HttpHost = \"127.0.0.1\""
		echo "HttpPort = $port"
		echo "CacheTTL = 0"
		if [ -n "$peer_conns" ]; then echo "DbPoolMaxConns = $peer_conns"; fi
	} >"$work/pg_tileserv.toml"
	DATABASE_URL=$db_url taskset -c 1 "$tileserv" --config "$work/pg_tileserv.toml" "$@" >"$work/pg_tileserv.log" 2>&1 &
	servers+=("$!")
	pid_of[pg_tileserv]=$!
	tileserv_base=http://127.0.0.1:$port
	ready pg_tileserv "${servers[-1]}" "$tileserv_base/health" "$work/pg_tileserv.log"
}
# pg_featureserv: publishes nbhd.small_areas alone; LimitMax 1000 (its
# default) lets the pages of 1,000 through whole.
start_featureserv() {
	local port
	port=$(free_port)
	{
		echo "[Server]"
		echo "HttpHost = \"127.0.0.1\""
		echo "HttpPort = $port"
		echo "[Database]"
		echo "TableIncludes = [\"nbhd.small_areas\"]"
		if [ -n "$peer_conns" ]; then echo "DbPoolMaxConns = $peer_conns"; fi
		echo "[Paging]"
		echo "LimitMax = 1000"
	} >"$work/pg_featureserv.toml"
	DATABASE_URL=$db_url taskset -c 1 "$featureserv" --config "$work/pg_featureserv.toml" "$@" >"$work/pg_featureserv.log" 2>&1 &
	servers+=("$!")
	pid_of[pg_featureserv]=$!
	featureserv_base=http://127.0.0.1:$port
	ready pg_featureserv "${servers[-1]}" "$featureserv_base/conformance.json" "$work/pg_featureserv.log"
}

# check NAME BASE LIST KIND: the requests of LIST answer 200 until one
# carries data (a tile of some bytes, or a GeoJSON feature for KIND
# features), within the first 50, so the comparison is between servers that
# do the work. Notes how many it took, the bytes (inflated) and features.
check() {
	local code n=0 bytes features p
	while read -r p; do
		n=$((n + 1))
		code=$(curl -s --compressed --max-time 60 -o "$work/body" -w '%{http_code}' "$2$p") || code=000
		if [ "$code" != 200 ]; then
			log "$1 answered $code to $p: $(head -c 300 "$work/body" 2>/dev/null)"
			exit 1
		fi
		bytes=$(stat -c %s "$work/body")
		features=$({ grep -o '"type": *"Feature"' "$work/body" || true; } | wc -l)
		if [ "$bytes" -gt 0 ] && { [ "$4" = tiles ] || [ "$features" -gt 0 ]; }; then
			printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$(basename "$3" .peer)" "$n" "$bytes" "$features" >>"$work/checks"
			return 0
		fi
	done < <(head -n 50 "$3")
	log "$1 answered empty to the first $n requests of $(basename "$3")"
	exit 1
}

field() { sed -E "s/.*[ ]$1=([^ ]+).*/\1/" <<<"$2"; }

# run SERVER TEST BASE LIST: one wrk run; appends
# "server|test|rps|p50|p99|errors|server_ms|pg_ms", the last two the CPU
# milliseconds per request of the server and of PostgreSQL (the other
# servers are idle meanwhile).
run() {
	local out line rps p50 p99 s0 p0 s1 p1 n
	s0=$(proc_ticks "${pid_of[$1]}") p0=$(pg_ticks "$postmaster")
	out=$(taskset -c 0 wrk -t2 -c"$conns" -d"$duration" --timeout 30s --latency -s scripts/bench-tiles.lua "$3" -- "$4" 2>&1) || true
	s1=$(proc_ticks "${pid_of[$1]}") p1=$(pg_ticks "$postmaster")
	line=$(grep '^RESULT' <<<"$out") || { log "wrk failed for $1 $2: $out"; echo "$1|$2|0|0|0|1|–|–" >>"$work/results"; return; }
	n=$(field requests "$line")
	rps=$(sed -nE 's/^Requests\/sec: *([0-9.]+).*/\1/p' <<<"$out")
	p50=$(field p50_ms "$line") p99=$(field p99_ms "$line")
	# No request finished within the run (slow pages, a short DURATION):
	# there is no latency to report.
	if [ "$(field requests "$line")" = 0 ]; then p50=– p99=–; fi
	echo "$1|$2|${rps:-$(field rps "$line")}|$p50|$p99|$(field errors "$line")|$(ms_per $((s1 - s0)) "$n")|$(ms_per $((p1 - p0)) "$n")" >>"$work/results"
}

# geometry_of LOG TABLE: which geometry column of nbhd.TABLE a peer's --debug
# log shows it reading. Both peers publish one layer per table and, on a
# table with several geometry columns (nbhd.small_areas has geom, geom_bng
# and geom_3857), keep whichever their catalogue query happens to list last.
geometry_of() {
	sed -nE 's/.*FROM \\"nbhd\\"\.\\"'"$2"'\\".*ST_Intersects\((t\.)?\\"([^\\"]+)\\".*/\2/p' "$1" | head -n 1
}

# TEST:LIST:PEER
tests=("small-areas z8:sa8:pg_tileserv" "small-areas z12:sa12:pg_tileserv" "small-areas z14:sa14:pg_tileserv"
	"schools z12:sc12:pg_tileserv" "schools z14:sc14:pg_tileserv"
	"all z12 against small areas:all12:pg_tileserv" "map+areas z12 against small areas:map12:pg_tileserv"
	"items bbox limit=100:bbox:pg_featureserv" "pages of 1000:pages:pg_featureserv")
peer_of() { case $1 in pg_tileserv) echo "$tileserv" ;; pg_featureserv) echo "$featureserv" ;; esac; }
peer_base() { case $1 in pg_tileserv) echo "$tileserv_base" ;; pg_featureserv) echo "$featureserv_base" ;; esac; }
: >"$work/results"
: >"$work/checks"
: >"$work/sizes"
nbhd_base='' tileserv_base='' featureserv_base=''
# Which columns the peers read, from one request each with --debug.
if [ -n "$tileserv" ]; then
	start_tileserv --debug
	for l in sa12 sc12; do curl -s --max-time 120 -o /dev/null "$tileserv_base$(head -n 1 "$work/$l.peer")" || true; done
	stop_servers
	echo "- pg_tileserv reads nbhd.small_areas.$(geometry_of "$work/pg_tileserv.log" small_areas) and nbhd.schools.$(geometry_of "$work/pg_tileserv.log" schools)"
fi
if [ -n "$featureserv" ]; then
	start_featureserv --debug
	curl -s --max-time 120 -o /dev/null "$featureserv_base$(head -n 1 "$work/bbox.peer")" || true
	stop_servers
	echo "- pg_featureserv reads nbhd.small_areas.$(geometry_of "$work/pg_featureserv.log" small_areas)"
fi
echo
for round in $(seq "$rounds"); do
	log "round $round of $rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	start_nbhd
	if [ -n "$tileserv" ]; then start_tileserv; fi
	if [ -n "$featureserv" ]; then start_featureserv; fi
	if [ "$round" = 1 ]; then
		for t in "${tests[@]}"; do
			IFS=: read -r _ list peer <<<"$t"
			kind=tiles
			[ "$peer" = pg_featureserv ] && kind=features
			check nbhd "$nbhd_base" "$work/$list" "$kind"
			if [ -n "$(peer_of "$peer")" ]; then check "$peer" "$(peer_base "$peer")" "$work/$list.peer" "$kind"; fi
		done
		# Sizes on the wire (gzip, as browsers ask) and inflated.
		for p in "${size_tiles[@]}"; do
			gz=$(curl -fs --max-time 120 -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$nbhd_base$p" || echo '?')
			plain=$(curl -fs --max-time 120 -o /dev/null -w '%{size_download}' "$nbhd_base$p" || echo '?')
			tgz=– tplain=–
			if [ -n "$tileserv" ]; then
				tgz=$(curl -fs --max-time 120 -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$tileserv_base$(peer_path "$p")" || echo '?')
				tplain=$(curl -fs --max-time 120 -o /dev/null -w '%{size_download}' "$tileserv_base$(peer_path "$p")" || echo '?')
			fi
			echo "| \`$p\` | $gz | $plain | $tgz | $tplain |" >>"$work/sizes"
		done
	fi
	for t in "${tests[@]}"; do
		IFS=: read -r name list peer <<<"$t"
		run nbhd "$name" "$nbhd_base" "$work/$list"
		if [ -n "$(peer_of "$peer")" ]; then run "$peer" "$name" "$(peer_base "$peer")" "$work/$list.peer"; fi
	done
	stop_servers
done

echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine moves the figures)"
echo
echo "Checked before the runs: each server answered 200 to every request of each list until one carried data"
echo
echo "| server | list | requests | bytes (inflated) | GeoJSON features |"
echo "|---|---|---:|---:|---:|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$work/checks"
echo
echo "## Side by side (wrk -t2 -c$conns -d$duration --latency, wrk on CPU 0, servers on CPU 1; median of $rounds interleaved rounds)"
echo
echo "| test | URLs | nbhd req/s (p99 ms) | peer | peer req/s (p99 ms) | nbhd / peer | errors nbhd / peer | CPU ms/req nbhd: server + PostgreSQL | peer: server + PostgreSQL |"
echo "|---|---:|---:|---|---:|---:|---:|---:|---:|"
# median SERVER TEST prints "rps p99 errors server_ms pg_ms" of the median
# round by req/s (errors summed over the rounds), or nothing.
median() {
	awk -F'|' -v s="$1" -v t="$2" '$1 == s && $2 == t { print $3, $5, $6, $7, $8 }' "$work/results" | sort -k1,1g |
		awk '{ r[NR] = $1; p[NR] = $2; e += $3; c[NR] = $4; g[NR] = $5 } END { if (NR) { m = int((NR + 1) / 2); print r[m], p[m], e, c[m], g[m] } }'
}
for t in "${tests[@]}"; do
	IFS=: read -r name list peer <<<"$t"
	read -r nr np ne nc ng <<<"$(median nbhd "$name")"
	if [ -n "$(peer_of "$peer")" ]; then
		read -r pr pp pe pc pg <<<"$(median "$peer" "$name")"
		ratio=$(awk -v a="$nr" -v b="$pr" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }')
		printf '| %s | %d | %s (%s) | %s | %s (%s) | %s | %s / %s | %s + %s | %s + %s |\n' "$name" "$(wc -l <"$work/$list")" "$nr" "$np" "$peer" "$pr" "$pp" "$ratio" "$ne" "$pe" "$nc" "$ng" "$pc" "$pg"
	else
		printf '| %s | %d | %s (%s) | %s (not run) | – | – | %s / – | %s + %s | – |\n' "$name" "$(wc -l <"$work/$list")" "$nr" "$np" "$peer" "$ne" "$nc" "$ng"
	fi
done
echo
echo "## Tile sizes (bytes; the busiest z8 and z12 tiles by postcodes; one request each, cold)"
echo
echo "| tile | nbhd gzip | nbhd plain | pg_tileserv gzip | pg_tileserv plain |"
echo "|---|---:|---:|---:|---:|"
cat "$work/sizes"
