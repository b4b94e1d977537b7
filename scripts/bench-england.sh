#!/usr/bin/env bash
# Benchmarks nbhd on an England-sized synthetic data set (make bench-england).
#
#  1. Generates England with bin/nbhd-synth (cached in var/england-SEED, made
#     again when the generator's source or the flags change).
#  2. Loads it into its own database (NBHD_PG_DB_ENGLAND, default
#     nbhd_england) with `nbhd migrate` and `nbhd load-sample --dir` (one
#     transaction), timing each import; LOAD_MODE=import runs one
#     `nbhd import` per manifest entry instead, each with its own timeout, so
#     a slow import leaves the earlier ones loaded. A database already loaded
#     from the same data is reused; SKIP_LOAD=1 reuses whatever it holds.
#  3. Runs wrk on loopback against `nbhd serve` (server on CPU 1, wrk on CPU
#     0, PostgreSQL unpinned): tiles and search cold (--tile-cache-mb 0
#     --search-answers 0) and warm, items by bbox, pages of 1,000 and
#     profiles, ROUNDS interleaved
#     rounds, and prints a markdown table of medians (with the server's and
#     PostgreSQL's CPU per request, scripts/cpu.sh) and the server's peak
#     RSS.
#
# Every step has a timeout and every wrk run a fixed duration: it ends by
# itself.
#
#   make bench-england
#   SCALE=0.1 ROUNDS=1 DURATION=5s scripts/bench-england.sh
#   SKIP_LOAD=1 scripts/bench-england.sh            # bench what is loaded
#   SKIP_BENCH=1 LOAD_MODE=import scripts/bench-england.sh   # time the load only
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seed=${SEED:-1}
scale=${SCALE:-1}
postcodes=${POSTCODES:-0}
db=${NBHD_PG_DB_ENGLAND:-nbhd_england}
duration=${DURATION:-15s}
conns=${CONNS:-32}
rounds=${ROUNDS:-3}
load_mode=${LOAD_MODE:-sample}
load_timeout=${LOAD_TIMEOUT:-3600}
step_timeout=${STEP_TIMEOUT:-1800}
skip_load=${SKIP_LOAD:-0}
skip_bench=${SKIP_BENCH:-0}
data=var/england-$seed
[ "$scale" != 1 ] && data=$data-s$scale
[ "$postcodes" != 0 ] && data=$data-p$postcodes
mkdir -p var
work=$(mktemp -d "$root/var/bench-england.XXXXXX") # not /tmp: the machine may be shared
server=
base=
floor=
floor_base=

log() { printf 'bench-england: %s\n' "$*" >&2; }
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	if [ -n "$floor" ]; then kill "$floor" 2>/dev/null || true; wait "$floor" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

scripts/deps.sh bench
[ "$load_mode" = import ] && scripts/deps.sh jq
for tool in wrk taskset curl psql timeout; do command -v "$tool" >/dev/null || { log "$tool is missing"; exit 1; }; done
scripts/pg.sh start
postmaster=$(scripts/pg.sh pid)
# The URLs carry the passfile: ask pg.sh for each database's own.
admin=$(scripts/pg.sh url)
db_url=$(NBHD_PG_DB=$db scripts/pg.sh url)
postgres_url=$(NBHD_PG_DB=postgres scripts/pg.sh url)
port=${NBHD_PG_PORT:-54329}
go build -o bin/nbhd ./cmd/nbhd
go build -o bin/nbhd-synth ./cmd/nbhd-synth
go build -o bin/nbhd-floor ./cmd/nbhd-floor
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$postgres_url" "$@"; }
# shellcheck source=scripts/cpu.sh
. scripts/cpu.sh
psql_db() { psql -X -q -At -v ON_ERROR_STOP=1 "$db_url" "$@"; }

# now_ms and secs_since print wall time without bc.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%d' $((d / 1000)) $((d % 1000 / 100)); }

echo "# nbhd on synthetic England, $(date -u +%FT%TZ)"
echo
echo "$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo); PostgreSQL $(psql -X -At "$admin" -c 'SHOW server_version' | cut -d' ' -f1); seed $seed, scale $scale; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# 1. Generate, unless the cached copy came from the same generator and flags.
stamp=$( { find cmd/nbhd-synth -name '*.go' -print0 | sort -z | xargs -0 cat; echo "$seed $scale $postcodes"; } | sha1sum | cut -c1-16)
if [ "$(cat "$data/.stamp" 2>/dev/null)" != "$stamp" ]; then
	log "generating $data"
	rm -rf "$data.tmp"
	t0=$(now_ms)
	timer=()
	[ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%M' -o "$work/gen.rss")
	"${timer[@]}" bin/nbhd-synth england --seed "$seed" --scale "$scale" --postcodes "$postcodes" --out "$data.tmp" >/dev/null 2>"$work/gen.log"
	rss=unknown
	[ -s "$work/gen.rss" ] && rss="$(($(cat "$work/gen.rss") / 1024)) MB"
	echo "generated $data in $(secs_since "$t0") s (peak RSS $rss, $(du -sh "$data.tmp" | cut -f1))"
	echo "$stamp" >"$data.tmp/.stamp"
	rm -rf "$data"
	mv "$data.tmp" "$data"
else
	echo "reusing $data (same generator and flags)"
fi
echo

# 2. Load.
loaded=$(psql_admin -At -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'" 2>/dev/null || true)
datasets() { psql_db -c "SELECT count(*) FROM nbhd.datasets" 2>/dev/null || echo 0; }
if [ "$skip_load" = 1 ]; then
	echo "SKIP_LOAD=1: benchmarking $db as it is ($(datasets) datasets)"
elif [ "$loaded" = "nbhd-synth $stamp loaded" ]; then
	echo "reusing $db: already loaded from this data ($(datasets) datasets)"
else
	psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
	t0=$(now_ms)
	bin/nbhd migrate --database-url "$db_url" >/dev/null
	echo "## Load ($load_mode mode)"
	echo
	echo "migrate: $(secs_since "$t0") s"
	echo
	echo '```'
	t0=$(now_ms)
	status=0
	if [ "$load_mode" = import ]; then
		# One transaction per import, each with its own timeout.
		jq -r '.imports[] | ([.kind, .file] + (.spec | to_entries | map("--" + (.key | gsub("_"; "-")) + "=" + (.value | tostring)))
			+ ["--title=" + .dataset.title, "--source=" + .dataset.source, "--licence=" + .dataset.licence,
			   "--attribution=" + .dataset.attribution, "--data-vintage=" + (.dataset.vintage // "")]) | @sh' "$data/manifest.json" >"$work/imports"
		while IFS= read -r line; do
			eval "args=($line)"
			kind=${args[0]} file=${args[1]}
			ts=$(now_ms)
			if timeout --signal=INT --kill-after=30 "$step_timeout" bin/nbhd import "$kind" "$data/$file" "${args[@]:2}" \
				--database-url "$db_url" >"$work/import.out" 2>&1; then
				printf '%8s s  %-13s %-60s %s\n' "$(secs_since "$ts")" "$kind" "$file" "$(grep -o 'imported [0-9]* rows' "$work/import.out")"
			else
				rc=$?
				printf '%8s s  %-13s %-60s FAILED (exit %d%s)\n' "$(secs_since "$ts")" "$kind" "$file" "$rc" "$([ $rc = 124 ] && echo ": timed out after ${step_timeout}s")"
				tail -n 3 "$work/import.out"
				status=1
			fi
		done <"$work/imports"
	else
		# load-sample prints a line as each import finishes and refreshes
		# the derived statistics once at the end, all in one transaction.
		prev=$(now_ms)
		set +e
		timeout --signal=INT --kill-after=30 "$load_timeout" bin/nbhd load-sample --dir "$data" --database-url "$db_url" 2>&1 |
			while IFS= read -r line; do
				case "$line" in
				" "*) printf '%10s  %s\n' "" "$line" ;;
				*) printf '%8s s  %s\n' "$(secs_since "$prev")" "$line"; prev=$(now_ms) ;;
				esac
			done
		status=${PIPESTATUS[0]}
		set -e
		[ "$status" = 124 ] && echo "load-sample did not finish within ${load_timeout}s (LOAD_TIMEOUT): nothing was loaded (one transaction)"
	fi
	echo '```'
	echo
	echo "load total: $(secs_since "$t0") s, exit status $status"
	echo
	[ "$status" = 0 ] && psql_admin -c "COMMENT ON DATABASE $db IS 'nbhd-synth $stamp loaded'"
fi
[ "$skip_bench" = 1 ] && exit 0
if [ "$(psql_db -c "SELECT count(*) FROM nbhd.small_areas" 2>/dev/null || echo 0)" = 0 ]; then
	echo "no small areas are loaded in $db: nothing to benchmark"
	exit 0
fi

# 3. Request lists, drawn deterministically from the loaded data (postcodes
# stand for where people live, so busy places get more requests).
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
tiles schools 14 600 >"$work/sc14"
tiles all 12 600 >"$work/all12"
# The map's tiles: at first the first set alone, and with small areas shown.
map_set=$(psql_db -c "SELECT id FROM nbhd.neighbourhood_sets ORDER BY id LIMIT 1")
tiles "neighbourhoods-$map_set" 12 600 >"$work/mapset12"
tiles "small-areas,neighbourhoods-$map_set" 12 600 >"$work/map12"
psql_db -c "SELECT format('/collections/small-areas/items?bbox=%s,%s,%s,%s&limit=100', round((ST_X(geom) - d)::numeric, 4), round((ST_Y(geom) - d / 2)::numeric, 4),
	round((ST_X(geom) + d)::numeric, 4), round((ST_Y(geom) + d / 2)::numeric, 4))
	FROM (SELECT geom, (ARRAY[0.005, 0.02, 0.05, 0.2])[1 + (row_number() OVER (ORDER BY md5(postcode)) % 4)::int] AS d
	      FROM nbhd.postcodes ORDER BY md5(postcode) LIMIT 100) p" >"$work/bbox"
psql_db -c "SELECT format('/collections/small-areas/items?limit=1000&offset=%s', o) FROM generate_series(0, (SELECT count(*) - 1 FROM nbhd.small_areas), 1000) o" >"$work/pages"
psql_db -c "(SELECT format('/neighbourhoods/%s/%s', set_id, code) FROM nbhd.neighbourhoods ORDER BY md5(code) LIMIT 300)" >"$work/profiles"
psql_db -c "(SELECT format('/search?q=%s', replace(postcode, ' ', '%20')) FROM nbhd.postcodes ORDER BY md5(postcode) LIMIT 100)
	UNION ALL (SELECT format('/search?q=%s', split_part(postcode, ' ', 1)) FROM nbhd.postcodes ORDER BY md5(postcode || 'o') LIMIT 100)
	UNION ALL (SELECT format('/search?q=%s', replace(name, ' ', '%20')) FROM nbhd.neighbourhoods ORDER BY md5(name) LIMIT 100)" >"$work/search"

# start_server CACHE_MB: a server on CPU 1 on a free port. Pre-rendering
# is off: warm runs fill the cache themselves, and a background render
# would share the CPU with the run being measured. A cold server (0) keeps
# no search answers either: every request is a query.
start_server() {
	[ -n "$server" ] && { kill "$server"; wait "$server" 2>/dev/null || true; }
	local answers=4096
	[ "$1" = 0 ] && answers=0
	NBHD_DATABASE_URL=$db_url taskset -c 1 bin/nbhd serve --addr 127.0.0.1:0 \
		--tile-cache-mb "$1" --search-answers "$answers" --prerender-max-zoom -1 --log-level warn >"$work/server.out" 2>"$work/server.err" &
	server=$!
	for _ in $(seq 300); do
		base=$(sed -nE 's/^nbhd is serving on (http:[^ ]+)$/\1/p' "$work/server.out")
		[ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$work/server.err" >&2
	log "server did not start"
	exit 1
}

# start_floor LIST...: bin/nbhd-floor on CPU 1 beside the server, serving
# copies of the server's answers to LIST's paths (headers included) with
# bare net/http: the rate Go's HTTP server and the kernel allow for the
# same bytes, the yardstick of the warm runs.
start_floor() {
	[ -n "$floor" ] && { kill "$floor"; wait "$floor" 2>/dev/null || true; }
	taskset -c 1 bin/nbhd-floor --from "$base" "$@" >"$work/floor.out" 2>"$work/floor.err" &
	floor=$!
	for _ in $(seq 600); do
		floor_base=$(sed -nE 's/^nbhd-floor is serving on (http:[^ ]+)$/\1/p' "$work/floor.out")
		[ -n "$floor_base" ] && return 0
		kill -0 "$floor" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/floor.err" >&2
	log "nbhd-floor did not start"
	exit 1
}

field() { sed -E "s/.*[ ]$1=([^ ]+).*/\1/" <<<"$2"; }

# run NAME LIST [plain]: one wrk run (plain: without Accept-Encoding:
# gzip); appends "name rps p50 p99 errors server_ms pg_ms", the last two
# the CPU milliseconds per request of the server and of PostgreSQL (the
# whole cluster: nothing else should run on it). TARGET=floor runs it
# against nbhd-floor instead of the server.
run() {
	local out line s0 p0 s1 p1 n pid=$server url=$base
	[ "${TARGET:-}" = floor ] && pid=$floor url=$floor_base
	s0=$(proc_ticks "$pid") p0=$(pg_ticks "$postmaster")
	out=$(taskset -c 0 wrk -t2 -c"$conns" -d"$duration" --timeout 30s --latency -s scripts/bench-tiles.lua "$url" -- "$2" ${3:-} 2>&1) || true
	s1=$(proc_ticks "$pid") p1=$(pg_ticks "$postmaster")
	line=$(grep '^RESULT' <<<"$out") || { log "wrk failed for $1: $out"; echo "$1 0 0 0 1 – –" >>"$work/results"; return; }
	n=$(field requests "$line")
	echo "$1 $(field rps "$line") $(field p50_ms "$line") $(field p99_ms "$line") $(field errors "$line") $(ms_per $((s1 - s0)) "$n") $(ms_per $((p1 - p0)) "$n")" >>"$work/results"
}

cold_tests=("small-areas z8:sa8" "small-areas z12:sa12" "small-areas z14:sa14" "schools z12:sc12" "schools z14:sc14" "all z12:all12" "map z12:mapset12" "map+areas z12:map12"
	"items bbox limit=100:bbox" "pages of 1000:pages" "profiles:profiles" "search:search")
warm_tests=("small-areas z8:sa8" "small-areas z12:sa12" "small-areas z14:sa14" "schools z14:sc14" "all z12:all12" "map z12:mapset12" "map+areas z12:map12"
	"small-areas z14 plain:sa14" "all z12 plain:all12" "search:search")
# Warm runs also run against nbhd-floor, right after nbhd's own.
floor_tests=("small-areas z14:sa14" "all z12:all12" "small-areas z14 plain:sa14" "all z12 plain:all12")
: >"$work/results"
rss_cold=0 rss_warm=0
for round in $(seq "$rounds"); do
	log "round $round of $rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	start_server 0
	for t in "${cold_tests[@]}"; do run "cold ${t%%:*}" "$work/${t#*:}"; done
	rss_cold=$(awk -v r="$rss_cold" '/VmHWM/ { print ($2 > r ? $2 : r) }' "/proc/$server/status")
	start_server 512
	start_floor "$work/sa14" "$work/all12"
	for t in "${warm_tests[@]}"; do
		while read -r p; do curl -fs -o /dev/null -H 'Accept-Encoding: gzip' "$base$p" || true; done <"$work/${t#*:}"
		plain=
		case $t in *" plain:"*) plain=plain ;; esac
		run "warm ${t%%:*}" "$work/${t#*:}" $plain
		for f in "${floor_tests[@]}"; do
			if [ "$f" = "$t" ]; then TARGET=floor run "floor ${t%%:*}" "$work/${t#*:}" $plain; fi
		done
	done
	kill "$floor"; wait "$floor" 2>/dev/null || true; floor=
	rss_warm=$(awk -v r="$rss_warm" '/VmHWM/ { print ($2 > r ? $2 : r) }' "/proc/$server/status")
done

echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine moves the figures)"
echo
echo "## Requests (wrk -t2 -c$conns -d$duration --latency, wrk on CPU 0, server on CPU 1; median of $rounds interleaved rounds)"
echo
echo "| run | URLs | req/s | p50 ms | p99 ms | errors | server CPU ms/req | PostgreSQL CPU ms/req |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for t in "${cold_tests[@]/#/cold }" "${warm_tests[@]/#/warm }" "${floor_tests[@]/#/floor }"; do
	name=${t%%:*} list=$work/${t#*:}
	awk -v n="$name" '{ k = $1; for (i = 2; i <= NF - 6; i++) k = k " " $i } k == n' "$work/results" |
		sort -k$(($(wc -w <<<"$name") + 1)),$(($(wc -w <<<"$name") + 1))n |
		awk -v n="$name" -v urls="$(wc -l <"$list")" '{ r[NR] = $0 } END {
			m = split(r[int((NR + 1) / 2)], f, " ")
			e = 0; for (i = 1; i <= NR; i++) { split(r[i], g, " "); e += g[m-2] }
			printf "| %s | %d | %s | %s | %s | %d | %s | %s |\n", n, urls, f[m-5], f[m-4], f[m-3], e, f[m-1], f[m] }'
done
echo
echo "server peak RSS (VmHWM): cold $((rss_cold / 1024)) MB, warm $((rss_warm / 1024)) MB"
