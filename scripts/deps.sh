#!/usr/bin/env bash
# Installs the Debian packages nbhd's tests and tools use when they are
# missing: scripts/deps.sh test (gdal-bin, chromium, poppler-utils: pdfinfo and
# pdftotext check the printable doorstep page), bench (wrk), scale
# (nginx, chromium: make test-scale, make run-replicated), postgis (see
# below), or scripts/deps.sh PACKAGE... As root it runs apt-get; otherwise
# it prints the command.
#
# scripts/deps.sh postgis brings PostGIS and GEOS to the newest versions the
# system's apt sources offer for the installed PostgreSQL (apt-cache policy:
# a candidate newer than what is installed is installed), and says which
# versions are in use. A crash in the composite tile query under a storm of
# cancels (issue 11) was seen with PostGIS 3.3.2 and GEOS 3.11.1, Debian 12's
# own versions.
set -euo pipefail

# newer PKG: prints PKG when apt offers a newer version than the installed
# one (or it is not installed but offered).
newer() {
	local inst cand
	inst=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true)
	cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
	if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then return 0; fi
	if [ -z "$inst" ] || dpkg --compare-versions "$cand" gt "$inst"; then echo "$1"; fi
}

installed() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

postgis() {
	local pgbin v pkgs=()
	pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$pgbin" ]; then
		echo "deps.sh: no PostgreSQL installed yet (scripts/pg.sh start installs it)" >&2
		return 0
	fi
	v=$(basename "$(dirname "$pgbin")")
	# PostGIS for this PostgreSQL, and the GEOS libraries installed (a newer
	# GEOS comes as a new package, pulled in by a newer PostGIS).
	for p in "postgresql-$v-postgis-3" $(dpkg-query -W -f='${Package}\n' 'libgeos-c1*' 'libgeos3*' 2>/dev/null); do
		while read -r n; do [ -n "$n" ] && pkgs+=("$n"); done < <(newer "$p")
	done
	if [ ${#pkgs[@]} -gt 0 ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "deps.sh: newer PostGIS/GEOS packages are available. Run: sudo apt-get install -y ${pkgs[*]}" >&2
			return 1
		fi
		echo "deps.sh: installing ${pkgs[*]} (apt-get)" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
	fi
	echo "deps.sh: PostgreSQL $v ($(installed "postgresql-$v")), PostGIS $(installed "postgresql-$v-postgis-3"), GEOS $(installed libgeos-c1v5):" \
		"PostGIS and GEOS are the newest the apt sources offer for PostgreSQL $v" >&2
	# The server itself is not upgraded here: that restarts clusters.
	if [ -n "$(newer "postgresql-$v")" ]; then
		echo "deps.sh: note: PostgreSQL $v $(apt-cache policy "postgresql-$v" | awk '/Candidate:/ {print $2}') is offered;" \
			"minor releases fix crashes: apt-get install postgresql-$v when its clusters may restart" >&2
	fi
}

case "${1:-test}" in
test) pkgs=(gdal-bin chromium poppler-utils) ;;
bench) pkgs=(wrk util-linux) ;;
scale) pkgs=(nginx chromium) ;;
postgis)
	postgis
	exit
	;;
*) pkgs=("$@") ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing ${missing[*]}. Run: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
