#!/usr/bin/env bash
# Installs the map viewer's pinned MapLibre GL JS from the npm registry
# (scripts/viewer/package-lock.json) and copies the files the viewer loads
# into api/viewer/vendor, which go:embed then builds into the binary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/scripts/viewer
dst=$root/api/viewer/vendor
want=$(sed -n 's/.*"maplibre-gl": "\(.*\)".*/\1/p' "$src/package.json" | head -n 1)

if [ -f "$dst/VERSION" ] && [ "$(cat "$dst/VERSION")" = "maplibre-gl@$want" ]; then
	exit 0
fi
if ! command -v npm >/dev/null; then
	"$root/scripts/deps.sh" nodejs npm
fi
echo "viewer.sh: installing maplibre-gl@$want (npm ci)" >&2
(cd "$src" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
mkdir -p "$dst"
for f in maplibre-gl.mjs maplibre-gl-worker.mjs maplibre-gl.css; do
	cp "$src/node_modules/maplibre-gl/dist/$f" "$dst/$f"
done
cp "$src/node_modules/maplibre-gl/LICENSE.txt" "$dst/LICENSE.txt"
echo "maplibre-gl@$want" >"$dst/VERSION"
echo "viewer.sh: api/viewer/vendor has maplibre-gl@$want" >&2
