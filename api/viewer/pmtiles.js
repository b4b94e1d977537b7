// Static tiles: with `nbhd serve --pmtiles-url URL`, the map draws its
// boundary layers from a PMTiles archive (made by `nbhd export pmtiles`)
// on any web server or bucket that answers HTTP range requests, instead of
// from this server's /tiles. The archive holds the very tiles /tiles
// serves, and its metadata the same layers and attribution as
// /tiles/all.json. The reader (the pmtiles package) is loaded only then.
let registered = false;

// liveTiles are the tile URLs of the live endpoints (from the TileJSON of
// all), for the composite of the layers named (their ids joined by commas)
// when given, with query (e.g. "borough=" and a borough code) added: the
// server then sends only those layers, and only that borough's features.
function liveTiles(tilejson, query, layers) {
  return tilejson.tiles.map((t) => {
    const u = layers ? t.replace('/tiles/all/', `/tiles/${layers}/`) : t;
    return query ? u + (u.includes('?') ? '&' : '?') + query : u;
  });
}

// liveSource is the MapLibre source of the live endpoints, as their
// TileJSON describes them, for the layers and query given.
export function liveSource(tilejson, query, layers) {
  const src = { type: 'vector', tiles: liveTiles(tilejson, query, layers), minzoom: tilejson.minzoom, maxzoom: tilejson.maxzoom,
    attribution: tilejson.attribution };
  if (tilejson.bounds) src.bounds = tilejson.bounds;
  return src;
}

// tileSource is the MapLibre source of the boundary layers: the live
// endpoints, or the archive.
export async function tileSource(maplibregl, config, tilejson, query, layers) {
  if (!config.pmtiles) return liveSource(tilejson, query, layers);
  const { Protocol } = await import('./vendor/pmtiles.mjs');
  if (!registered) {
    maplibregl.addProtocol('pmtiles', new Protocol({ metadata: true }).tile);
    registered = true;
  }
  return { type: 'vector', url: 'pmtiles://' + new URL(config.pmtiles, location.href).href };
}
