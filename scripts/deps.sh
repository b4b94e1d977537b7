#!/usr/bin/env bash
# Installs the Debian packages nbhd's tests and tools use when they are
# missing: scripts/deps.sh test (gdal-bin, chromium, wrk) or scripts/deps.sh
# PACKAGE... As root it runs apt-get; otherwise it prints the command.
set -euo pipefail

case "${1:-test}" in
test) pkgs=(gdal-bin chromium) ;;
bench) pkgs=(wrk util-linux) ;;
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
