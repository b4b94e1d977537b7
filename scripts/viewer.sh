#!/usr/bin/env bash
# Installs the map viewer's pinned MapLibre GL JS and pmtiles (the reader of
# PMTiles archives, with its one dependency fflate) from the npm registry
# (scripts/viewer/package-lock.json) and copies the files the viewer loads
# into api/viewer/vendor, which go:embed then builds into the binary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/scripts/viewer
dst=$root/api/viewer/vendor
pinned() { sed -n "s/.*\"$1\": \"\(.*\)\".*/\1/p" "$src/package.json" | head -n 1; }
want=$(pinned maplibre-gl)
wantp=$(pinned pmtiles)
stamp="maplibre-gl@$want pmtiles@$wantp"

if [ -f "$dst/VERSION" ] && [ "$(cat "$dst/VERSION")" = "$stamp" ]; then
	exit 0
fi
if ! command -v npm >/dev/null; then
	"$root/scripts/deps.sh" nodejs npm
fi
echo "viewer.sh: installing $stamp (npm ci)" >&2
(cd "$src" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
mkdir -p "$dst"
for f in maplibre-gl.mjs maplibre-gl-worker.mjs maplibre-gl.css; do
	cp "$src/node_modules/maplibre-gl/dist/$f" "$dst/$f"
done
cp "$src/node_modules/maplibre-gl/LICENSE.txt" "$dst/LICENSE.txt"
# pmtiles' ES module imports fflate by its bare package name, which a
# browser cannot resolve without an import map (an inline script the map's
# CSP refuses): point it at the copy beside it, and check that nothing else
# is imported.
pm=$src/node_modules/pmtiles/dist/esm/index.js
[ "$(grep -o 'from"fflate"' "$pm" | wc -l)" = 1 ] || { echo "viewer.sh: pmtiles@$wantp does not import fflate as expected" >&2; exit 1; }
sed 's/from"fflate"/from".\/fflate.mjs"/' "$pm" >"$dst/pmtiles.mjs"
if grep -Eo '(from|import)"[^.][^"]*"' "$dst/pmtiles.mjs"; then
	echo "viewer.sh: pmtiles@$wantp imports a package the viewer does not vendor" >&2
	exit 1
fi
cp "$src/node_modules/fflate/esm/browser.js" "$dst/fflate.mjs"
cp "$src/node_modules/fflate/LICENSE" "$dst/fflate-LICENSE.txt"
printf 'pmtiles@%s is licensed %s (its package.json; the package ships no licence file).\n' \
	"$wantp" "$(sed -n 's/.*"license": "\(.*\)".*/\1/p' "$src/node_modules/pmtiles/package.json" | head -n 1)" >"$dst/pmtiles-LICENSE.txt"
echo "$stamp" >"$dst/VERSION"
echo "viewer.sh: api/viewer/vendor has $stamp" >&2
