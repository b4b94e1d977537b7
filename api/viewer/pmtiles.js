// Static tiles: with `nbhd serve --pmtiles-url URL`, the map draws its
// boundary layers from a PMTiles archive (made by `nbhd export pmtiles`)
// on any web server or bucket that answers HTTP range requests, instead of
// from this server's /tiles. The archive holds the very tiles /tiles
// serves, and its metadata the same layers and attribution as
// /tiles/all.json. The reader (the pmtiles package) is loaded only then.
let registered = false;

// tileSource is the MapLibre source of the boundary layers.
export async function tileSource(maplibregl, config, base) {
  if (!config.pmtiles) return { type: 'vector', url: base + '/tiles/all.json' };
  const { Protocol } = await import('./vendor/pmtiles.mjs');
  if (!registered) {
    maplibregl.addProtocol('pmtiles', new Protocol({ metadata: true }).tile);
    registered = true;
  }
  return { type: 'vector', url: 'pmtiles://' + new URL(config.pmtiles, location.href).href };
}
