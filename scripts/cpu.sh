# shellcheck shell=bash
# CPU time of the benchmarked server and of PostgreSQL, for the benchmarks'
# CPU per request (sourced by bench-england.sh and bench-peers.sh). Times
# are clock ticks, 1/$(getconf CLK_TCK) s, read from /proc.

# proc_ticks PID: the ticks PID has used, user and system (0 once it is gone).
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# pg_ticks POSTMASTER: the ticks the cluster has used: its live processes'
# (backends, parallel workers, background writers), then the postmaster's
# own with those of its children that have exited, which the kernel adds to
# the postmaster's cutime and cstime. Summing the live backends alone lost
# the time of every backend whose connection a pool dropped during a run
# (the earlier benchmarks saw zero and negative deltas).
pg_ticks() {
	local c
	{
		for c in $(pgrep -P "$1"); do proc_ticks "$c"; done
		awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"
	} | awk '{ s += $1 } END { print s + 0 }'
}

# ms_per TICKS REQUESTS: milliseconds of CPU per request, or – for none.
ms_per() {
	awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.2f", t * 1000 / hz / n; else print "–" }'
}
