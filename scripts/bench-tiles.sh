#!/usr/bin/env bash
# Benchmarks vector tiles: builds bin/nbhd, makes sure the sample is loaded,
# starts a server on 127.0.0.1 pinned to CPU 1, and runs wrk pinned to CPU 0
# over every tile covering the borough at z8, z12 and z14, for one layer
# (small-areas, polygons) and the composite (all), cold (--tile-cache-mb 0:
# every request is a database query) and warm (every tile cached). Each run
# has a fixed duration, so the script stops by itself. PostgreSQL is not
# pinned: it shares both CPUs with wrk and the server.
#
#   scripts/bench-tiles.sh            (or: make bench-tiles)
#   DURATION=10s CONNS=64 LAYERS="small-areas all" ZOOMS="8 12 14" scripts/bench-tiles.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
duration=${DURATION:-10s}
conns=${CONNS:-64}
layers=${LAYERS:-small-areas all}
zooms=${ZOOMS:-8 12 14}
base=
work=$(mktemp -d)
server=
declare -A rss

cleanup() {
	local status=$?
	if [ "$status" -ne 0 ] && [ -s "$work/server.err" ]; then
		echo "bench-tiles: failed ($status); the server said:" >&2
		tail -n 20 "$work/server.err" >&2
		[ -n "$server" ] && ! kill -0 "$server" 2>/dev/null && echo "bench-tiles: the server is gone" >&2
	fi
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

scripts/deps.sh bench
for tool in wrk taskset curl; do command -v "$tool" >/dev/null || { echo "bench-tiles: $tool is missing" >&2; exit 1; }; done
scripts/pg.sh start
db=$(scripts/pg.sh url)
go build -o bin/nbhd ./cmd/nbhd
NBHD_DATABASE_URL=$db bin/nbhd migrate >/dev/null
NBHD_DATABASE_URL=$db bin/nbhd load-sample --if-empty >/dev/null

# start_server CACHE_MB: a server on CPU 1 with the given tile cache, on a
# free port (it prints its URL).
start_server() {
	[ -n "$server" ] && { kill "$server"; wait "$server" 2>/dev/null || true; }
	NBHD_DATABASE_URL=$db taskset -c 1 bin/nbhd serve --addr 127.0.0.1:0 \
		--tile-cache-mb "$1" --log-level warn >"$work/server.out" 2>"$work/server.err" &
	server=$!
	for _ in $(seq 100); do
		base=$(sed -nE 's/^nbhd is serving on (http:[^ ]+)$/\1/p' "$work/server.out")
		[ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$work/server.err" >&2
	echo "bench-tiles: server did not start" >&2
	exit 1
}

metric() { curl -fs "$base/metrics" | awk -v m="$1" '$1 == m { printf "%d", $2 }'; }

# tile_list Z LAYER: every tile at zoom Z covering the bounds in the
# layer's TileJSON.
tile_list() {
	curl -fs "$base/tiles/$2.json" | grep -o '"bounds":\[[^]]*\]' | tr -d '"bounds:[]' | awk -F, -v z="$1" -v l="$2" '
	function tx(lon) { return int((lon + 180) / 360 * 2^z) }
	function ty(lat,  r) { r = lat * 3.141592653589793 / 180; return int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / 3.141592653589793) / 2 * 2^z) }
	{ for (x = tx($1); x <= tx($3); x++) for (y = ty($4); y <= ty($2); y++) printf "/tiles/%s/%d/%d/%d.mvt\n", l, z, x, y }'
}

# field NAME LINE: one key=value field of a RESULT line.
field() { sed -E "s/.*[ ]$1=([^ ]+).*/\1/" <<<"$2"; }

# run NAME LIST: one wrk run, printed as a table row with the server's tile
# renders (database queries) per second during it.
run() {
	local before after out line secs=${duration%s}
	before=$(metric nbhd_tile_renders_total)
	out=$(taskset -c 0 wrk -t1 -c"$conns" -d"$duration" --latency -s scripts/bench-tiles.lua "$base" -- "$2")
	after=$(metric nbhd_tile_renders_total)
	line=$(grep '^RESULT' <<<"$out") || { echo "$out" >&2; exit 1; }
	printf '| %-22s | %5d | %7s | %7s | %7s | %8.1f | %7d | %6s |\n' "$1" "$(wc -l <"$2")" \
		"$(field rps "$line")" "$(field p50_ms "$line")" "$(field p99_ms "$line")" \
		"$(awk -v b="$(field bytes_per_s "$line")" 'BEGIN { print b / 1e6 }')" \
		$(((after - before) / secs)) "$(field errors "$line")"
}

echo "nbhd tile benchmark, $(date -u +%FT%TZ): $(nproc) CPUs; server on CPU 1, wrk -t1 -c$conns -d$duration on CPU 0"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run                    | tiles |   req/s | p50 ms  | p99 ms  |     MB/s | DB q/s  | errors |"
echo "|------------------------|------:|--------:|--------:|--------:|---------:|--------:|-------:|"
for mode in cold warm; do
	if [ "$mode" = cold ]; then start_server 0; else start_server 256; fi
	for layer in $layers; do
		for z in $zooms; do
			list=$work/$layer-$z.txt
			tile_list "$z" "$layer" >"$list"
			if [ "$mode" = warm ]; then
				while read -r p; do curl -fs -o /dev/null -H 'Accept-Encoding: gzip' "$base$p" || true; done <"$list"
			fi
			run "$mode $layer z$z" "$list"
		done
	done
	rss[$mode]=$(awk '/VmHWM/ { print $2, $3 }' "/proc/$server/status")
done
echo
echo "peak RSS (VmHWM): cold server ${rss[cold]}, warm server ${rss[warm]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
