#!/usr/bin/env bash
# Times the imports issue 14 sets targets for, on the England database that
# `make bench-england` loads (make bench-imports):
#
#  - a one-row import (target 5 s): one community asset at a postcode of a
#    borough, imported RUNS times under its own dataset key (each import
#    replaces the last), in the borough with the most small areas and in
#    the median one;
#  - a single borough's assets re-imported (target 15 s): every community
#    asset of the median borough, as the assets CSV the importer reads,
#    imported under a key of its own and then imported again (the second
#    replaces the first).
#
# Each import is one `nbhd import` (one transaction with its refresh), timed
# end to end. On the project's own cluster the refresh's steps are printed
# from the server's log (nbhd.timing). Both datasets are dropped at the
# end, so the database is left as it was.
#
#   make bench-imports
#   RUNS=5 NBHD_PG_DB_ENGLAND=nbhd_england2 scripts/bench-imports.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
db=${NBHD_PG_DB_ENGLAND:-nbhd_england}
runs=${RUNS:-3}
step_timeout=${STEP_TIMEOUT:-600}
work=$(mktemp -d "$root/var/bench-imports.XXXXXX") # not /tmp: the machine may be shared
trap 'rm -rf "$work"' EXIT
log() { printf 'bench-imports: %s\n' "$*" >&2; }

for tool in psql timeout; do command -v "$tool" >/dev/null || { log "$tool is missing"; exit 1; }; done
scripts/pg.sh start >/dev/null
db_url=$(NBHD_PG_DB=$db scripts/pg.sh url)
psql_db() { psql "$db_url" -X -At -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_db -c "SELECT count(*) FROM nbhd.small_areas" 2>/dev/null || echo 0)" = 0 ]; then
	log "no small areas are loaded in $db: run make bench-england (or SKIP_BENCH=1 scripts/bench-england.sh) first"
	exit 1
fi
[ -x bin/nbhd ] || make -s build
server_log=var/pg/postgres.log

# The boroughs: the one with the most small areas, and the median one.
read -r big big_n mid mid_n < <(psql_db -F ' ' -c "
	WITH b AS (SELECT lad_code, count(*) AS n, row_number() OVER (ORDER BY count(*) DESC, lad_code) AS r,
	                  count(*) OVER () AS boroughs
	           FROM nbhd.small_areas WHERE lad_code IS NOT NULL GROUP BY lad_code)
	SELECT (SELECT lad_code FROM b WHERE r = 1), (SELECT n FROM b WHERE r = 1),
	       (SELECT lad_code FROM b WHERE r = (boroughs + 1) / 2), (SELECT n FROM b WHERE r = (boroughs + 1) / 2)
	FROM b LIMIT 1")

header='id,name,category,address,postcode,lon,lat,phone,email,website,opening_hours'

# one_row LAD FILE: a one-asset CSV at the first postcode (by postcode) of
# the borough's first small area (by code) that holds one.
one_row() {
	{
		echo "$header"
		psql_db -c "COPY (SELECT 'BENCH1', 'Bench warm space', 'warm_space', 'Bench Street', p.postcode,
		                    round(ST_X(p.geom)::numeric, 6), round(ST_Y(p.geom)::numeric, 6), '', '', '', ''
		                  FROM nbhd.small_areas sa JOIN nbhd.postcodes p ON ST_Intersects(sa.geom, p.geom)
		                  WHERE sa.lad_code = '$1' ORDER BY sa.code, p.postcode LIMIT 1) TO STDOUT WITH (FORMAT csv)"
	} >"$2"
}

# borough_assets LAD FILE: every community asset in the borough's small
# areas, with ids of their own.
borough_assets() {
	{
		echo "$header"
		psql_db -c "COPY (SELECT 'B' || a.id, a.name, a.category, a.address, a.postcode,
		                    round(ST_X(a.geom)::numeric, 6), round(ST_Y(a.geom)::numeric, 6), a.phone, a.email, a.url, a.opening_hours
		                  FROM nbhd.community_assets a
		                  WHERE EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE sa.lad_code = '$1' AND ST_Intersects(sa.geom, a.geom))
		                  ORDER BY a.id) TO STDOUT WITH (FORMAT csv)"
	} >"$2"
}

# timed_import KEY FILE LABEL: one import, its wall time and, on the
# project's cluster, the refresh's steps.
timed_import() {
	local from=0 t0 t1
	[ -f "$server_log" ] && from=$(stat -c %s "$server_log")
	t0=$(date +%s%N)
	if ! PGOPTIONS="-c nbhd.timing=on" timeout --signal=INT --kill-after=30 "$step_timeout" \
		bin/nbhd import assets-csv "$2" --key "$1" --title "Benchmark: $3" --source "scripts/bench-imports.sh" \
		--database-url "$db_url" >"$work/import.out" 2>&1; then
		log "import of $2 failed:"
		tail -n 5 "$work/import.out" >&2
		exit 1
	fi
	t1=$(date +%s%N)
	local steps=''
	if [ -f "$server_log" ]; then
		steps=$(tail -c +"$((from + 1))" "$server_log" | sed -nE 's/.*refresh: ([a-z ]+) ([0-9.]+) s$/\1 \2/p' |
			awk '$NF >= 0.1 { n = $NF; $NF = ""; printf "%s%s%s", sep, $0, n; sep = ", " }')
	fi
	printf '| %s | %s | %.2f | %s |\n' "$3" "$(grep -o 'imported [0-9]* rows' "$work/import.out" | grep -o '[0-9]*')" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" "${steps:-–}"
}

# drop_dataset KEY: the benchmark's dataset goes, and the refresh with it.
drop_dataset() {
	local id
	id=$(psql_db -c "SELECT id FROM nbhd.datasets WHERE kind = 'community_assets' AND key = '$1'")
	[ -n "$id" ] && bin/nbhd datasets drop "$id" --database-url "$db_url" >/dev/null
}

echo "## Imports on $db ($(psql_db -c "SELECT count(*) FROM nbhd.small_areas") small areas; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| import | rows | seconds | refresh steps of 0.1 s or more |"
echo "|---|---:|---:|---|"
for lad in "$big" "$mid"; do
	n=$big_n
	[ "$lad" = "$mid" ] && n=$mid_n
	one_row "$lad" "$work/one.csv"
	for i in $(seq "$runs"); do
		timed_import bench-one-row "$work/one.csv" "one row, $lad ($n small areas), run $i"
	done
	drop_dataset bench-one-row
done
borough_assets "$mid" "$work/borough.csv"
timed_import bench-borough-assets "$work/borough.csv" "the assets of $mid ($mid_n small areas), first import"
timed_import bench-borough-assets "$work/borough.csv" "the assets of $mid, imported again"
drop_dataset bench-borough-assets
echo
echo "RUNS=$runs NBHD_PG_DB_ENGLAND=$db scripts/bench-imports.sh, $(date -u '+%Y-%m-%d %H:%M UTC')"
