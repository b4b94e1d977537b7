#!/usr/bin/env bash
# Load-tests the features API on the bundled sample with wrk, on loopback,
# and prints requests/s, p50/p99 latency and the server's RSS. The server is
# pinned to CPU 1 and wrk to CPU 0 (taskset), each run lasts a fixed time.
#
#   scripts/bench-features.sh            # 10 s per URL, 32 connections
#   DURATION=30s CONNS=64 scripts/bench-features.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
PORT=${BENCH_PORT:-18090}
scripts/deps.sh bench
scripts/pg.sh start
# The URLs carry the passfile: ask pg.sh for each database's own.
db_url=$(NBHD_PG_DB=nbhd_bench scripts/pg.sh url)
psql -q "$(NBHD_PG_DB=postgres scripts/pg.sh url)" -c "DROP DATABASE IF EXISTS nbhd_bench WITH (FORCE)" -c "CREATE DATABASE nbhd_bench"
go build -o bin/nbhd ./cmd/nbhd
bin/nbhd migrate --database-url "$db_url" >/dev/null
bin/nbhd load-sample --database-url "$db_url" >/dev/null

taskset -c 1 bin/nbhd serve --database-url "$db_url" --addr 127.0.0.1:$PORT --log-level error >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

rss() { awk -v k="$1:" '$1==k {print $2/1024 " MB"}' /proc/$pid/status; }
echo "server idle RSS: $(rss VmRSS)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-58s %10s %9s %9s %12s\n' "URL (wrk -t1 -c$CONNS -d$DURATION)" "req/s" "p50" "p99" "transfer/s"
for path in "/collections/small-areas/items?limit=100" \
	"/collections/community-assets/items?limit=10000" \
	"/collections/small-areas/items?limit=10000" \
	"/collections/gp-practices/items/P92001" \
	"/neighbourhoods/ward/E05000840" \
	"/search?q=wigan" \
	"/insights/asset-gaps?set=ward"; do
	out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$PORT$path")
	printf '%-58s %10s %9s %9s %12s\n' "$path" \
		"$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1=="50%" {print $2}' <<<"$out")" \
		"$(awk '$1=="99%" {print $2}' <<<"$out")" \
		"$(awk '/Transfer\/sec/ {print $2}' <<<"$out")"
done
echo "server RSS after load: $(rss VmRSS); peak: $(rss VmHWM)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Flat memory: stream the largest collection (by bytes) 300 times in a row.
before=$(awk '$1=="VmRSS:" {print $2}' /proc/$pid/status)
for _ in $(seq 300); do curl -s "http://127.0.0.1:$PORT/collections/small-areas/items?limit=10000" >/dev/null; done
after=$(awk '$1=="VmRSS:" {print $2}' /proc/$pid/status)
echo "RSS streaming small-areas x300: before $((before / 1024)) MB, after $((after / 1024)) MB"
