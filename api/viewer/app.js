// nbhd map viewer: neighbourhoods coloured by any indicator, small areas,
// points (community assets, GP practices, schools, whatever else the API
// serves), profiles against the borough, region and England, and the staff
// outreach list, for one borough, a combined authority or all of them.
// Everything it knows comes from this nbhd server: the layers from
// /collections and TileJSON, the sets from /neighbourhoods, the boroughs
// from /boroughs, the indicators from /indicators and the profiles. No
// external basemap unless the server is configured with one.
import * as maplibregl from './vendor/maplibre-gl.mjs';
import { tileSource, liveSource } from './pmtiles.js';
import { $, el } from './dom.js';
import { fmt, labelCase } from './format.js';
import { profileNodes } from './profile.js';
import { NODATA, classify, tileExpression, codeExpression } from './classes.js';
import { methodNotes, renderLegend } from './legend.js';
import { POINT_COLOURS, SHAPES, image, swatch } from './symbols.js';
import { doorstepPanel, keepIds } from './doorstep.js';
import { startRegister } from './register.js';

const base = new URL('..', location.href).href.replace(/\/$/, '');
const state = readHash();
const nbhd = { ready: false, state, errors: [] };
window.nbhd = nbhd;

// track runs what a control starts, says in words when it fails, and lets
// nbhd.settled() wait until everything started has finished.
const pending = new Set();
function track(promise) {
  const p = Promise.resolve(promise).catch((e) => { nbhd.errors.push(e.message); showMessage(e.message); })
    .finally(() => pending.delete(p));
  pending.add(p);
  return p;
}
const on = (target, event, fn) => target.addEventListener(event, (e) => track(fn(e)));
nbhd.settled = async () => {
  while (pending.size) await Promise.all([...pending]);
  await nbhd.idle();
};

// What the API says: read once at start (the indicators a set has, per set
// and borough).
const api = {
  config: {}, tilejson: null, collections: [], sets: [], boroughs: [], cauths: [], catalogue: [], extents: new Map(),
  layers: [], // {id, title, description, kind: neighbourhoods|boundary|area|point, fields, props, setId}
};

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const view = (p.get('map') || '').split('/');
  const [z, lat, lon] = view.length === 3 && view.every((v) => v.trim() !== '') ? view.map(Number) : [NaN, NaN, NaN];
  const ok = [z, lat, lon].every(Number.isFinite);
  const list = (k) => (p.get(k) || '').split(',').filter(Boolean);
  return {
    zoom: ok ? z : null, lat: ok ? lat : null, lon: ok ? lon : null,
    borough: p.get('borough') || '',
    set: p.get('set') || '',
    indicator: p.get('ind') || '',
    layers: p.has('layers') ? new Set(list('layers')) : null, // null: the default layers
    hidden: new Set(list('hide')), // categories switched off, as layer:category
    selected: p.get('sel') || '',
  };
}

function writeHash() {
  if (!nbhd.map) return;
  const c = nbhd.map.getCenter();
  const p = new URLSearchParams();
  p.set('map', `${nbhd.map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  if (state.borough) p.set('borough', state.borough);
  p.set('set', state.set);
  p.set('ind', state.indicator);
  p.set('layers', [...state.layers].sort().join(','));
  if (state.hidden.size) p.set('hide', [...state.hidden].sort().join(','));
  if (state.selected) p.set('sel', state.selected);
  history.replaceState(null, '', '#' + p.toString().replace(/%2C/g, ',').replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%40/g, '@'));
}

function showMessage(text, kind = 'error') {
  const m = $('#message');
  m.textContent = text;
  m.className = kind === 'info' ? 'info' : '';
  m.hidden = !text;
}

// getJSON fetches from the nbhd API, turning failures into messages a
// person can act on.
async function getJSON(path, headers = {}) {
  let resp;
  try {
    resp = await fetch(path.startsWith('http') ? path : base + path, { headers: { Accept: 'application/json', ...headers }, cache: revalidate ? 'no-cache' : 'default' });
  } catch (e) {
    throw new Error('The nbhd API is not reachable. Is the server running? (' + e.message + ')');
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(body.description || `The API answered ${resp.status}`);
    err.status = resp.status;
    throw err;
  }
  return body;
}

// After a change made in this tab (the asset register), every request
// asks the server whether the copy browsers keep for a minute (max-age)
// is still current, so the map shows the new data version at once.
let revalidate = false;

// afterChange refetches what a change to the data alters: the tiles, the
// points, the colours and the open profile.
async function afterChange() {
  revalidate = true;
  nbhd.map.setTransformRequest((url) => (url.startsWith(base) ? { url, cache: 'no-cache' } : { url }));
  useTiles(true);
  await reloadPoints();
  renderLayerList();
  setFilters();
  await applyIndicator();
  if (state.selected && !$('#profile').hidden) await openProfile(state.selected, false);
}

// getFeatures reads a collection's items, every page (up to a limit).
async function getFeatures(path, maxPages = 10) {
  let url = path;
  const features = [];
  for (let page = 0; url && page < maxPages; page++) {
    const fc = await getJSON(url);
    features.push(...fc.features);
    url = (fc.links || []).find((l) => l.rel === 'next')?.href;
  }
  return features;
}

// ---- Boroughs ----

// selection is what the borough switcher has chosen: one borough, a
// combined authority's boroughs, or all of them ('').
function selection() {
  const b = api.boroughs.find((x) => x.code === state.borough);
  if (b) return { codes: [b.code], name: b.name, bbox: api.extents.get(b.code) };
  const ca = api.cauths.find((x) => x.code === state.borough);
  const list = ca ? ca.boroughs : api.boroughs;
  let name = ca ? ca.name : list.length === 1 ? list[0].name : `${list.length} boroughs`;
  if (!ca && list.length > 1) name = 'all boroughs';
  return { codes: list.map((x) => x.code), name, bbox: union(list.map((x) => api.extents.get(x.code))) };
}

function union(boxes) {
  const bs = boxes.filter(Boolean);
  if (!bs.length) return null;
  return [Math.min(...bs.map((b) => b[0])), Math.min(...bs.map((b) => b[1])), Math.max(...bs.map((b) => b[2])), Math.max(...bs.map((b) => b[3]))];
}

// boroughQuery is the ?borough= of every request: none when the selection
// is every borough loaded.
function boroughQuery() {
  const { codes } = selection();
  return codes.length === api.boroughs.length ? '' : 'borough=' + codes.join(',');
}
const withBorough = (path) => { const q = boroughQuery(); return q ? path + (path.includes('?') ? '&' : '?') + q : path; };

function boroughFilter() {
  const q = boroughQuery();
  return q ? ['in', ['get', 'lad_code'], ['literal', selection().codes]] : null;
}

const boroughName = (code) => api.boroughs.find((b) => b.code === code)?.name || code;

function fillBoroughs() {
  const box = $('#borough');
  box.replaceChildren();
  if (api.boroughs.length > 1) box.append(el('option', { value: '', text: `All boroughs (${api.boroughs.length})` }));
  const boroughOpts = api.boroughs.map((b) => el('option', { value: b.code, text: b.name === b.code ? b.code : b.name }));
  if (api.cauths.length) {
    box.append(el('optgroup', { label: 'Combined authorities' }, ...api.cauths.map((c) =>
      el('option', { value: c.code, text: `${c.name} (${c.boroughs.length} boroughs)` }))));
    box.append(el('optgroup', { label: 'Boroughs' }, ...boroughOpts));
  } else {
    box.append(...boroughOpts);
  }
  if (api.boroughs.length === 1) box.firstChild.value = '';
  box.value = state.borough;
}

// areaWords puts the chosen area's name wherever the page names it.
function areaWords() {
  const s = selection();
  const name = s.name === 'all boroughs' ? `all ${api.boroughs.length} boroughs` : s.name;
  document.title = `${name}: neighbourhood map (nbhd)`;
  $('#area-name').textContent = '· ' + name;
  const hood = headlines.find((h) => h.name)?.name;
  const postcode = pointData.flatMap((d) => d.features).find((f) => f.properties.postcode)?.properties.postcode;
  const examples = [hood, postcode].filter(Boolean);
  $('#search-input').placeholder = examples.length ? 'e.g. ' + examples.join(' or ') : '';
}

// ---- Layers ----

const layerOf = (id) => api.layers.find((l) => l.id === id);
const currentSet = () => api.sets.find((s) => s.id === state.set);
const areaLayers = () => api.layers.filter((l) => l.kind === 'area');
const pointLayers = () => api.layers.filter((l) => l.kind === 'point');
const boundaryOf = (set) => set && api.layers.find((l) => l.kind === 'boundary' && l.setId === set.id);

// highlighting is set once an outreach list outlines its small areas.
let highlighting = false;

// areaShown reports whether the map draws an area layer now: switched on,
// coloured by the chosen indicator, or outlining an outreach list.
const areaShown = (l) => state.layers.has(l.id) || choice()?.layer === l.id || (highlighting && l === areaLayers()[0]);

// tileSetName is the composite of the layers the map draws from tiles: the
// chosen set's neighbourhoods, the area layers shown and, when switched
// on, the set's official boundaries. Points come as GeoJSON, and other
// sets are not drawn, so none of their tiles is fetched: a national map of
// neighbourhoods alone is a fraction of the bytes. The server pre-renders
// each set alone and with the area layers (data.Catalogue.MapTileSets).
function tileSetName() {
  const set = currentSet();
  const ids = areaLayers().filter(areaShown).map((l) => l.id);
  if (set) ids.push(set.collection);
  if (set && state.layers.has('boundary')) ids.push(boundaryOf(set)?.id);
  return ids.filter(Boolean).join(',') || 'all';
}

// useTiles points the map's live tiles at the layers and borough shown,
// when they change, or always when force (after a change to the data, so
// the tiles are fetched again). It replaces the source and adds its layers
// back as they were: MapLibre's setTiles stopped fetching tiles once the
// map had changed borough (its layers were re-added in the same turn), and
// kept drawing the old ones. An archive holds every layer and every
// borough's features; the map's layers and their filters pick them.
let tilesShown = '';
function useTiles(force = false) {
  const want = tileSetName() + '?' + boroughQuery();
  if (api.config.pmtiles || (!force && want === tilesShown)) return;
  tilesShown = want;
  const map = nbhd.map;
  const order = map.getStyle().layers;
  const mine = order.filter((l) => l.source === 'nbhd');
  for (const l of mine) map.removeLayer(l.id);
  map.removeSource('nbhd');
  map.addSource('nbhd', liveSource(api.tilejson, boroughQuery(), tileSetName()));
  for (const l of mine) {
    const after = order.slice(order.indexOf(l) + 1).find((o) => o.source !== 'nbhd');
    map.addLayer(l, after?.id);
  }
}

// classifyLayers sorts the collections into neighbourhood sets, their
// official boundaries, other areas and points, from the API's own words:
// /neighbourhoods names each set's collection, and each collection's
// queryables say its geometry.
async function classifyLayers(collections) {
  const sets = new Map(api.sets.map((s) => [s.collection, s]));
  const vector = new Map((api.tilejson.vector_layers || []).map((v) => [v.id, v]));
  const out = [];
  await Promise.all(collections.map(async (c) => {
    const v = vector.get(c.id) || {};
    const l = { id: c.id, title: c.title, description: c.description, fields: v.fields || {}, minzoom: v.minzoom || 0, props: {} };
    const setOf = sets.get(c.id);
    const boundaryOfSet = api.sets.find((s) => c.id === s.collection + '-boundary');
    if (setOf) Object.assign(l, { kind: 'neighbourhoods', setId: setOf.id });
    else if (boundaryOfSet) Object.assign(l, { kind: 'boundary', setId: boundaryOfSet.id });
    else {
      const q = await getJSON(`/collections/${encodeURIComponent(c.id)}/queryables`);
      l.props = q.properties || {};
      l.kind = /point/i.test(l.props.geometry?.format || '') ? 'point' : 'area';
    }
    out.push(l);
  }));
  // In the order /collections lists them.
  api.layers = collections.map((c) => out.find((l) => l.id === c.id));
}

// ---- Indicators ----

let choices = []; // {id, level: n|area, layer, field, label, description, unit, group, integer}

// The catalogue entry of an indicator: its own, or its family's, with
// {detail} filled from the rest of the id, as the profiles do.
function catalogueEntry(id) {
  const own = api.catalogue.find((e) => e.id === id);
  if (own) return { ...own, position: api.catalogue.indexOf(own) };
  const fam = api.catalogue.find((e) => e.id.endsWith('*') && id.startsWith(e.id.slice(0, -1)));
  if (!fam) return null;
  const detail = id.slice(fam.id.length - 1).replaceAll('_', ' ');
  return { ...fam, id, label: fam.label.replaceAll('{detail}', detail), description: fam.description.replaceAll('{detail}', detail),
    position: api.catalogue.indexOf(fam) };
}

// buildChoices lists what the map can colour by: every indicator the set's
// neighbourhoods have (in the catalogue's order, families resolved), then
// every numeric field of each area layer's tiles.
async function buildChoices() {
  const r = await getJSON(withBorough(`/map/indicators.json?set=${encodeURIComponent(state.set)}`));
  const hood = r.indicators.map((id) => {
    const e = catalogueEntry(id) || { id, label: labelCase(id), description: '', unit: 'count', group: 'other', position: 1e6 };
    return { id, level: 'n', label: e.label, description: e.description, unit: e.unit, group: e.group, position: e.position };
  }).sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1));
  const area = areaLayers().flatMap((l) => Object.entries(l.fields)
    .filter(([f, type]) => type === 'Number' && f !== 'point_count')
    .map(([f]) => {
      const q = l.props[f] || {};
      return { id: `${f}@${l.id}`, level: 'area', layer: l.id, field: f, label: q.description || labelCase(f), description: q.description || '',
        unit: /_pct$/.test(f) ? 'percent' : q.type === 'integer' ? 'integer' : '', integer: q.type === 'integer', group: l.title };
    }));
  choices = [...hood, ...area];
  const box = $('#indicator');
  box.replaceChildren();
  const groups = [];
  for (const c of choices) {
    const g = c.level === 'n' ? `${currentSet()?.title || 'Neighbourhoods'}: ${labelCase(c.group)}` : c.group;
    let og = groups.find((x) => x.label === g);
    if (!og) { og = el('optgroup', { label: g }); groups.push(og); box.append(og); }
    og.append(el('option', { value: c.id, text: c.label }));
  }
  // A hash from before small-area fields had their layer's name still works.
  if (!choices.some((c) => c.id === state.indicator)) {
    const old = choices.find((c) => c.level === 'area' && c.field === state.indicator);
    state.indicator = old ? old.id : defaultChoice()?.id || '';
  }
  box.value = state.indicator;
}

// defaultChoice: the first rate the catalogue lists (rates compare
// neighbourhoods of different sizes fairly), else the first indicator.
function defaultChoice() {
  return choices.find((c) => c.level === 'n' && c.unit === 'rate') || choices[0];
}

const choice = () => choices.find((c) => c.id === state.indicator);

// Values of an area layer's field for the chosen boroughs, for its classes.
const areaValueCache = new Map();
async function areaValues(c) {
  const path = withBorough(`/collections/${encodeURIComponent(c.layer)}/items?limit=10000&properties=${encodeURIComponent(c.field)}`);
  if (!areaValueCache.has(path)) {
    areaValueCache.set(path, getFeatures(path, 4).then((fs) => fs.map((f) => f.properties[c.field])));
  }
  return areaValueCache.get(path);
}

let legendSeq = 0;
async function applyIndicator() {
  const c = choice();
  if (!c) { renderLegend($('#legend'), '', null); return; }
  state.indicator = c.id;
  const seq = ++legendSeq;
  const map = nbhd.map;
  let classes, values, notes = [];
  if (c.level === 'n') {
    const r = await getJSON(withBorough(`/map/values.json?set=${encodeURIComponent(state.set)}&indicator=${encodeURIComponent(c.id)}`));
    if (seq !== legendSeq) return;
    const shown = r.values.map((v) => (v.suppressed ? null : v.value));
    classes = classify({ id: c.id, description: c.description }, shown, c.unit);
    values = shown;
    map.setPaintProperty('n-fill', 'fill-color', codeExpression(classes, new Map(r.values.map((v) => [v.code, v.suppressed ? null : v.value]))));
    map.setPaintProperty('n-fill', 'fill-opacity', 0.75);
    for (const l of areaLayers()) map.setPaintProperty(`area-fill-${l.id}`, 'fill-opacity', 0);
    notes = methodNotes(r.values, c.unit);
  } else {
    values = await areaValues(c);
    if (seq !== legendSeq) return;
    classes = classify({ id: c.field, description: c.description, integer: c.integer, context: layerOf(c.layer)?.description }, values, c.unit);
    for (const l of areaLayers()) {
      map.setPaintProperty(`area-fill-${l.id}`, 'fill-color', l.id === c.layer ? tileExpression(classes, c.field) : NODATA);
      map.setPaintProperty(`area-fill-${l.id}`, 'fill-opacity', l.id === c.layer ? 0.8 : 0);
      // Below its first band a grouped layer's tiles carry merged shapes
      // with a few fields only: a colouring by another field starts there.
      const g = api.grouped[l.id];
      const from = g && l.id === c.layer && !g.fields.includes(c.field) ? g.below : 0;
      map.setLayerZoomRange(`area-fill-${l.id}`, from, 24);
      if (from) notes.push(`Shown from zoom ${from}: below it the tiles merge these areas into groups. Zoom in to see them.`);
      if (from && g.dense_below > from) notes.push(`Where areas are densest (more than ${fmt(g.dense_above, 'count')} in a tile) they are merged up to zoom ${g.dense_below - 1}.`);
    }
    map.setPaintProperty('n-fill', 'fill-opacity', 0.05);
    if (classes.kind === 'change') {
      const have = values.filter((v) => v !== null && v !== undefined).length;
      notes.push(`${fmt(have, 'count')} of ${fmt(values.length, 'count')} areas have both values to compare.`);
    }
  }
  renderLegend($('#legend'), c.level === 'n' ? (currentSet()?.title || 'Neighbourhoods') : layerOf(c.layer)?.title, c, classes, values, notes);
  setVisibility();
  writeHash();
}

// ---- Map layers ----

function combine(...filters) {
  const fs = filters.filter(Boolean);
  return fs.length === 0 ? null : fs.length === 1 ? fs[0] : ['all', ...fs];
}

function setFilters() {
  const map = nbhd.map;
  const b = boroughFilter();
  map.setFilter('n-fill', b);
  map.setFilter('n-line', b);
  map.setFilter('n-selected', combine(['==', ['get', 'code'], state.selected], b));
  if (map.getLayer('n-boundary')) map.setFilter('n-boundary', b);
  for (const l of areaLayers()) {
    map.setFilter(`area-fill-${l.id}`, b);
    map.setFilter(`area-line-${l.id}`, b);
  }
  for (const l of pointLayers()) {
    const hidden = [...state.hidden].filter((h) => h.startsWith(l.id + ':')).map((h) => h.slice(l.id.length + 1));
    map.setFilter(`pt-${l.id}`, hidden.length && l.categories ? ['!', ['in', ['get', l.categoryField], ['literal', hidden]]] : null);
  }
}

function setNeighbourhoodLayers() {
  const map = nbhd.map;
  const set = currentSet();
  if (!set) return;
  for (const id of ['n-fill', 'n-line', 'n-selected', 'n-boundary']) {
    const def = map.getStyle().layers.find((l) => l.id === id);
    if (!def) continue;
    map.removeLayer(id);
    const layer = id === 'n-boundary' ? boundaryOf(set) : layerOf(set.collection);
    if (!layer) continue;
    delete def.filter;
    map.addLayer({ ...def, 'source-layer': layer.id }, beforeOf(id));
  }
  if (!map.getLayer('n-boundary') && boundaryOf(set)) addBoundaryLayer();
  setFilters();
  renderLayerList();
  setVisibility();
}

// beforeOf keeps the layers' order when one is added again.
const ORDER = ['area-fill', 'n-fill', 'area-line', 'n-line', 'n-boundary', 'n-selected', 'sa-highlight', 'pt-'];
function beforeOf(id) {
  const rank = (lid) => ORDER.findIndex((p) => lid.startsWith(p));
  const mine = rank(id);
  return nbhd.map.getStyle().layers.find((l) => rank(l.id) > mine)?.id;
}

function addBoundaryLayer() {
  const b = boundaryOf(currentSet());
  if (!b) return;
  nbhd.map.addLayer({ id: 'n-boundary', type: 'line', source: 'nbhd', 'source-layer': b.id, layout: { visibility: 'none' },
    paint: { 'line-color': '#6a3d9a', 'line-width': 2, 'line-dasharray': [2, 1.5] } }, beforeOf('n-boundary'));
}

function setVisibility() {
  const map = nbhd.map;
  useTiles(); // the tiles of what is shown: the set, the borough, the boundaries when on
  const vis = (on) => (on ? 'visible' : 'none');
  const c = choice();
  const n = state.layers.has('neighbourhoods');
  for (const id of ['n-fill', 'n-line', 'n-selected']) map.setLayoutProperty(id, 'visibility', vis(n));
  if (map.getLayer('n-boundary')) map.setLayoutProperty('n-boundary', 'visibility', vis(state.layers.has('boundary')));
  for (const l of areaLayers()) {
    const on = state.layers.has(l.id) || c?.layer === l.id; // (areaShown also counts an outreach outline)
    map.setLayoutProperty(`area-fill-${l.id}`, 'visibility', vis(on));
    map.setLayoutProperty(`area-line-${l.id}`, 'visibility', vis(on));
  }
  for (const l of pointLayers()) map.setLayoutProperty(`pt-${l.id}`, 'visibility', vis(state.layers.has(l.id)));
  setLabels();
  for (const box of document.querySelectorAll('input[name=layer]')) box.checked = state.layers.has(box.value);
  for (const box of document.querySelectorAll('input[name=category]')) box.checked = !state.hidden.has(box.value);
}

// ---- Points ----

let pointData = []; // {layer, features}

// Each point layer has a shape of its own, and each layer without
// categories, or each category, a colour of its own: colours are handed
// out in order and never reused while there are more in the palette.
let colourCursor = 0;
const nextColour = () => POINT_COLOURS[colourCursor++ % POINT_COLOURS.length];

function stylePointLayers() {
  pointLayers().forEach((l, i) => {
    l.shape = SHAPES[i % SHAPES.length];
    // A layer whose features have a category is shown, and switched, by category.
    l.categoryField = 'category' in l.fields ? 'category' : null;
    if (l.categoryField) Object.assign(l, { categories: [], categoryColours: new Map() });
    else l.colour = nextColour();
  });
}

// noteCategories gives the categories first seen in pointData their colours.
function noteCategories() {
  for (const { layer: l, features } of pointData) {
    if (!l.categoryField) continue;
    const fresh = [...new Set(features.map((f) => f.properties[l.categoryField]).filter(Boolean))].filter((c) => !l.categoryColours.has(c)).sort();
    for (const c of fresh) l.categoryColours.set(c, nextColour());
    l.categories = [...l.categoryColours.keys()].sort();
  }
}

async function loadPoints() {
  pointData = await Promise.all(pointLayers().map(async (l) => ({ layer: l,
    features: keepIds(await getFeatures(withBorough(`/collections/${encodeURIComponent(l.id)}/items?limit=10000`))) })));
  noteCategories();
}

// icon is a point layer's icon-image, adding the images it needs.
function icon(l) {
  const map = nbhd.map;
  const add = (name, colour) => { if (!map.hasImage(name)) map.addImage(name, image(l.shape, colour), { pixelRatio: 2 }); return name; };
  if (!l.categoryField) return add(`sym-${l.id}`, l.colour);
  const other = add(`sym-${l.id}-`, '#888888');
  if (!l.categories.length) return other;
  const expr = ['match', ['to-string', ['get', l.categoryField]]];
  for (const c of l.categories) expr.push(c, add(`sym-${l.id}-${c}`, l.categoryColours.get(c)));
  expr.push(other);
  return expr;
}

function addPointLayers() {
  const map = nbhd.map;
  for (const { layer: l, features } of pointData) {
    map.addSource(`pt-${l.id}`, { type: 'geojson', data: { type: 'FeatureCollection', features } });
    map.addLayer({ id: `pt-${l.id}`, type: 'symbol', source: `pt-${l.id}`,
      layout: { 'icon-image': icon(l), 'icon-allow-overlap': true, 'icon-ignore-placement': true,
        'icon-size': ['interpolate', ['linear'], ['zoom'], 9, 0.55, 15, 1.1] } });
  }
}

// New boroughs chosen: points again, for them.
async function reloadPoints() {
  await loadPoints();
  for (const { layer: l, features } of pointData) {
    nbhd.map.getSource(`pt-${l.id}`)?.setData({ type: 'FeatureCollection', features });
    nbhd.map.setLayoutProperty(`pt-${l.id}`, 'icon-image', icon(l));
  }
}

// ---- The layer list (with each point layer's symbol: the points' legend) ----

function renderLayerList() {
  const list = $('#layer-list');
  const box = (value, text, symbol, attrs = {}) => el('label', {},
    el('input', { type: 'checkbox', name: 'layer', value, ...attrs }), ' ', symbol || '', symbol ? ' ' : '', text);
  const set = currentSet();
  const kids = [box('neighbourhoods', set ? set.title : 'Neighbourhoods', el('span', { class: 'swatch line' }))];
  const b = boundaryOf(set);
  if (b) kids.push(box('boundary', b.title + (b.minzoom ? ` (outline, from zoom ${b.minzoom})` : ' (outline)'), el('span', { class: 'swatch dashed' })));
  for (const l of areaLayers()) kids.push(box(l.id, l.title, el('span', { class: 'swatch thin' })));
  for (const l of pointLayers()) {
    const sym = swatch(l.shape, l.categories ? '#ffffff' : l.colour);
    if (!l.categories) { kids.push(box(l.id, l.title, sym)); continue; }
    const cats = el('div', { class: 'categories', role: 'group', 'aria-label': l.title + ' by category' },
      ...l.categories.map((c) => el('label', {},
        el('input', { type: 'checkbox', name: 'category', value: `${l.id}:${c}` }), ' ', swatch(l.shape, l.categoryColours.get(c)), ' ' + labelCase(c))));
    kids.push(box(l.id, l.title, swatch(l.shape, '#555555')), cats);
  }
  list.replaceChildren(...kids);
  setVisibility();
}

// ---- Neighbourhoods: headlines, labels, the list to open ----

let headlines = []; // the set's neighbourhoods (of the chosen boroughs), with their label points
const labelMarkers = new Map();

async function loadHeadlines() {
  const r = await getJSON(withBorough(`/neighbourhoods/${encodeURIComponent(state.set)}`));
  headlines = r.neighbourhoods;
  for (const m of labelMarkers.values()) m.remove();
  labelMarkers.clear();
  const hood = $('#hood');
  hood.replaceChildren(el('option', { value: '', text: `Choose one of ${fmt(headlines.length, 'count')}…` }),
    ...[...headlines].sort((a, b) => a.name.localeCompare(b.name)).map((h) =>
      el('option', { value: h.code, text: api.boroughs.length > 1 && h.borough ? `${h.name} (${h.borough})` : h.name })));
  hood.value = headlines.some((h) => h.code === state.selected) ? state.selected : '';
  setLabels();
}

// setLabels names the neighbourhoods in view (at most 300 at a time: the
// labels are page elements, as the map has no font of its own).
function setLabels() {
  const map = nbhd.map;
  const on = state.layers.has('neighbourhoods') && map.getZoom() >= 10;
  const bounds = map.getBounds();
  const want = on ? headlines.filter((h) => h.label_lon !== null && bounds.contains([h.label_lon, h.label_lat])).slice(0, 300) : [];
  const keep = new Set(want.map((h) => h.code));
  for (const [code, m] of labelMarkers) if (!keep.has(code)) { m.remove(); labelMarkers.delete(code); }
  for (const h of want) {
    if (labelMarkers.has(h.code)) continue;
    labelMarkers.set(h.code, new maplibregl.Marker({ element: el('div', { class: 'nbhd-label', 'aria-hidden': 'true', text: h.name }) })
      .setLngLat([h.label_lon, h.label_lat]).addTo(map));
  }
}

// ---- The profile ----

async function openProfile(code, focus = true) {
  state.selected = code;
  setFilters();
  writeHash();
  $('#hood').value = headlines.some((h) => h.code === code) ? code : '';
  const panel = $('#profile');
  const body = $('#profile-body');
  panel.hidden = false;
  body.replaceChildren(el('p', { text: 'Loading…' }));
  try {
    const p = await getJSON(`/neighbourhoods/${encodeURIComponent(state.set)}/${encodeURIComponent(code)}`);
    body.replaceChildren(...profileNodes(p, `${base}/neighbourhoods/${encodeURIComponent(state.set)}/${encodeURIComponent(code)}?f=csv`));
    if (focus) panel.focus();
    return p;
  } catch (e) {
    body.replaceChildren(el('p', { text: 'Could not load the profile: ' + e.message }));
    showMessage(e.message);
    return null;
  }
}

function closeProfile() {
  $('#profile').hidden = true;
  state.selected = '';
  $('#hood').value = '';
  setFilters();
  writeHash();
}

// ---- Staff: the outreach list. The key stays in this tab's session storage only. ----
function staffKey() { return sessionStorage.getItem('nbhd-staff-key') || ''; }

async function showOutreach() {
  const key = $('#staff-key').value.trim() || staffKey();
  if (!key) { showMessage('Paste a staff key first.'); $('#staff-key').focus(); return; }
  if (!state.selected) { showMessage('Choose a neighbourhood on the map (or search for one) first.'); return; }
  sessionStorage.setItem('nbhd-staff-key', key);
  $('#staff-key').value = '';
  $('#staff-key').placeholder = 'key kept for this tab';
  if ($('#profile').hidden) await openProfile(state.selected);
  const box = $('#outreach');
  box.replaceChildren(el('p', { text: 'Loading the outreach list…' }));
  const query = `/outreach?set=${encodeURIComponent(state.set)}&neighbourhood=${encodeURIComponent(state.selected)}`;
  try {
    const r = await getJSON(query, { Authorization: 'Bearer ' + key });
    showMessage('');
    const rows = r.small_areas.map((a) => el('tr', {},
      el('td', { text: a.rank }), el('td', { text: `${a.name} (${a.code})` }), el('td', { text: fmt(a.score) }),
      el('td', { text: `${fmt(a.just_coping_per_1000, 'rate')} / ${fmt(a.chaotic_per_1000, 'rate')} (${a.just_coping_source})` }),
      el('td', { text: (a.assets || []).map((x) => `${x.name} ${fmt(x.distance_m, 'integer')} m`).join('; ') }),
      el('td', { text: a.gp_name ? `${a.gp_name} ${fmt(a.gp_distance_m, 'integer')} m` : '–' })));
    const csv = el('button', { type: 'button', class: 'secondary', id: 'outreach-csv', text: 'Download CSV' });
    csv.addEventListener('click', () => downloadOutreach(query, key));
    box.replaceChildren(el('h3', { id: 'outreach-title', text: 'Outreach priority (staff only)' }),
      el('p', { class: 'hint', text: r.method }),
      el('table', { class: 'outreach', id: 'outreach-table' },
        el('thead', {}, el('tr', {}, ...['#', 'Small area', 'Score', 'Just coping / chaotic per 1,000', 'Nearest assets', 'Nearest GP'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, ...rows)), csv);
    box.scrollIntoView({ block: 'start' });
    nbhd.map.setFilter('sa-highlight', ['in', ['get', 'code'], ['literal', r.small_areas.map((a) => a.code)]]);
    nbhd.map.setLayoutProperty('sa-highlight', 'visibility', 'visible');
    highlighting = true;
    useTiles(); // the small areas' tiles, if not drawn already
  } catch (e) {
    if (e.status === 401) {
      sessionStorage.removeItem('nbhd-staff-key');
      showMessage('Key rejected: ' + e.message);
    } else if (e.status === 403) {
      showMessage('This key may not see this neighbourhood: ' + e.message);
    } else if (e.status === 429) {
      showMessage('Too many failed key attempts from here; wait a minute and try again.');
    } else {
      showMessage(e.message);
    }
    box.replaceChildren(el('p', { id: 'outreach-error', text: 'No outreach list: ' + e.message }));
  }
}

async function downloadOutreach(query, key) {
  try {
    const resp = await fetch(base + query + '&f=csv', { headers: { Authorization: 'Bearer ' + key } });
    if (!resp.ok) throw new Error(`The API answered ${resp.status}`);
    const url = URL.createObjectURL(await resp.blob());
    const a = el('a', { href: url, download: `outreach-${state.set}-${state.selected}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) {
    showMessage('Could not download the list: ' + e.message);
  }
}

// ---- Popups ----

const HIDDEN_PROPS = new Set(['id', 'cluster', 'point_count', 'lad_code', 'label_lon', 'label_lat']);

// popupFor shows a feature's properties, named as the API describes them,
// numbers whole where the field is whole.
function popupFor(f, layer) {
  const p = f.properties;
  const title = p.name || p.code || layer.title;
  const c = choice();
  const rows = Object.entries(p).filter(([k, v]) => v !== null && v !== '' && !HIDDEN_PROPS.has(k) && k !== 'name');
  // The API's description names a field, up to its first aside.
  const name = (k) => (layer.props[k]?.description || labelCase(k)).split(/ \(|, where/)[0];
  const value = (k, v) => {
    if (typeof v !== 'number') return String(v);
    if (/(^|_)(release|year|vintage)$/.test(k)) return String(v); // a year, not a quantity
    return fmt(v, layer.props[k]?.type === 'integer' || Number.isInteger(v) ? 'integer' : /_pct$/.test(k) ? 'percent' : '');
  };
  if (c?.layer === layer.id) rows.sort(([a], [b]) => (a === c.field ? -1 : b === c.field ? 1 : 0));
  return el('div', { class: 'popup' }, el('strong', { text: title }),
    p.lad_code ? el('p', { class: 'hint', text: `${layer.title} · ${boroughName(p.lad_code)}` }) : el('p', { class: 'hint', text: layer.title }),
    el('table', { class: 'ind' }, ...rows.map(([k, v]) =>
      el('tr', { 'data-field': k, title: layer.props[k]?.description || '' }, el('th', { scope: 'row', text: name(k) }),
        el('td', {}, k === 'url' && /^https?:/.test(v) ? el('a', { href: v, target: '_blank', rel: 'noopener', text: v }) : value(k, v))))));
}

// ---- Search: neighbourhood names, small-area codes and postcodes ----
let results = [];
async function search(q) {
  const list = $('#search-results');
  if (!q.trim()) { list.hidden = true; return; }
  try {
    results = await getJSON('/search?q=' + encodeURIComponent(q));
  } catch (e) { showMessage(e.message); return; }
  list.replaceChildren(...results.map((r, i) => {
    const li = el('li', { role: 'option', id: 'result-' + i, tabindex: '-1', 'aria-selected': i === 0 ? 'true' : 'false', text: r.label });
    on(li, 'click', () => choose(r));
    li.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') { ev.preventDefault(); track(choose(r)); }
      const to = ev.key === 'ArrowDown' ? li.nextElementSibling : ev.key === 'ArrowUp' ? li.previousElementSibling : null;
      if (to) { ev.preventDefault(); li.setAttribute('aria-selected', 'false'); to.setAttribute('aria-selected', 'true'); to.focus(); }
    });
    return li;
  }));
  if (!results.length) list.replaceChildren(el('li', { text: 'Nothing found' }));
  list.hidden = false;
}

async function choose(r) {
  $('#search-results').hidden = true;
  const map = nbhd.map;
  if (r.kind === 'postcode') {
    map.flyTo({ center: [r.lon, r.lat], zoom: 15 });
    new maplibregl.Popup().setLngLat([r.lon, r.lat]).setText(r.label).addTo(map);
  } else {
    map.fitBounds([[r.bbox[0], r.bbox[1]], [r.bbox[2], r.bbox[3]]], { padding: 40, maxZoom: 15 });
  }
  if (r.kind === 'neighbourhood') {
    if (r.set !== state.set) { state.set = r.set; $('#set').value = r.set; await changeSet(); }
    const p = await openProfile(r.code);
    // A neighbourhood of a borough not shown: show its borough.
    if (p && !selection().codes.includes(p.borough.code)) {
      state.borough = p.borough.code;
      $('#borough').value = state.borough;
      await changeBorough(false);
    }
  }
}

// ---- Changing what is shown ----

function fillSets() {
  const codes = new Set(selection().codes);
  const sets = api.sets.filter((s) => api.boroughs.some((b) => codes.has(b.code) && (b.neighbourhood_sets || []).includes(s.id)));
  const shown = sets.length ? sets : api.sets;
  $('#set').replaceChildren(...shown.map((s) => el('option', { value: s.id, text: s.title })));
  // By default the coarsest set: the fewest neighbourhoods read best at first sight.
  if (!shown.some((s) => s.id === state.set) && shown.length) state.set = [...shown].sort((a, b) => a.neighbourhoods - b.neighbourhoods)[0].id;
  $('#set').value = state.set;
}

async function changeSet() {
  if (!currentSet()) return;
  if (state.selected) closeProfile();
  setNeighbourhoodLayers();
  await Promise.all([loadHeadlines(), buildChoices()]);
  await applyIndicator();
}

async function changeBorough(fit = true) {
  const s = selection();
  fillSets();
  setNeighbourhoodLayers(); // its setVisibility fetches the tiles of the set and borough shown
  useTiles();
  await Promise.all([reloadPoints(), currentSet() ? loadHeadlines() : null, currentSet() ? buildChoices() : null]);
  if (state.selected && !headlines.some((h) => h.code === state.selected)) closeProfile();
  areaWords();
  await applyIndicator();
  if (fit && s.bbox) nbhd.map.fitBounds([[s.bbox[0], s.bbox[1]], [s.bbox[2], s.bbox[3]]], { padding: 20, duration: 0 });
  writeHash();
}

// ---- Start ----

async function main() {
  let collections, sets, boroughs, catalogue, view;
  try {
    [api.config, collections, sets, boroughs, catalogue, view, api.tilejson] = await Promise.all([
      getJSON('/map/config.json'), getJSON('/collections'), getJSON('/neighbourhoods'), getJSON('/boroughs'),
      getJSON('/indicators'), getJSON('/map/view.json'), getJSON('/tiles/all.json')]);
    api.sets = sets.sets || [];
    api.boroughs = boroughs.boroughs || [];
    api.catalogue = catalogue.indicators || [];
    api.extents = new Map((view.boroughs || []).map((b) => [b.code, b.bbox]));
    api.grouped = view.grouped || {};
    await classifyLayers(collections.collections || []);
  } catch (e) {
    showMessage('The map could not read what this server holds: ' + e.message);
    nbhd.errors.push(e.message);
    return;
  }
  if (!api.sets.length) {
    showMessage('This server has no neighbourhoods loaded yet: import a neighbourhood set (see the README), then reload.', 'info');
  }
  // Combined authorities that hold two or more of the loaded boroughs.
  const cas = new Map();
  for (const b of api.boroughs) {
    if (!b.combined_authority) continue;
    const ca = cas.get(b.combined_authority.code) || { ...b.combined_authority, boroughs: [] };
    ca.boroughs.push(b);
    cas.set(ca.code, ca);
  }
  api.cauths = [...cas.values()].filter((c) => c.boroughs.length > 1);
  if (state.borough && !api.boroughs.some((b) => b.code === state.borough) && !api.cauths.some((c) => c.code === state.borough)) {
    showMessage(`No borough ${state.borough} is loaded here; showing all boroughs.`, 'info');
    state.borough = '';
  }
  if (!state.borough && api.boroughs.length === 1) state.borough = '';
  fillBoroughs();
  fillSets();
  if (state.layers === null) state.layers = new Set(['neighbourhoods', ...pointLayers().map((l) => l.id)]);
  // Old links named every community asset category as asset:<category>.
  if (state.layers.has('assets')) state.layers.delete('assets');

  const s = selection();
  const ext = s.bbox || view.bounds || api.tilejson.bounds || [-6, 49.9, 1.8, 55.8];
  const style = api.config.basemap || {
    version: 8, sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#f4f2ee' } }],
  };
  const map = new maplibregl.Map({
    container: 'map', style, attributionControl: false, keyboard: true, preserveDrawingBuffer: true,
    ...(state.zoom !== null ? { center: [state.lon, state.lat], zoom: state.zoom } : { bounds: [[ext[0], ext[1]], [ext[2], ext[3]]], fitBoundsOptions: { padding: 20 } }),
  });
  nbhd.map = map;
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }));
  // Every dataset's attribution comes with the tiles (TileJSON), each
  // statement once; it starts folded so it does not cover the map.
  map.addControl(new maplibregl.AttributionControl({ compact: true }));
  map.getCanvas().setAttribute('aria-label', 'Map');

  let tileErrorShown = false;
  map.on('error', (e) => {
    const msg = e.error?.message || String(e.error || e);
    nbhd.errors.push(msg);
    if (!tileErrorShown) { tileErrorShown = true; showMessage('Some map data could not be loaded: ' + msg); }
  });

  await new Promise((resolve) => map.on('load', resolve));
  fitCanvas(map);
  map.addSource('nbhd', await tileSource(maplibregl, api.config, api.tilejson, boroughQuery(), tileSetName())); // /tiles, or a PMTiles archive
  tilesShown = tileSetName() + '?' + boroughQuery();
  const set = currentSet();
  for (const l of areaLayers()) {
    map.addLayer({ id: `area-fill-${l.id}`, type: 'fill', source: 'nbhd', 'source-layer': l.id, paint: { 'fill-color': NODATA, 'fill-opacity': 0 } });
  }
  const hoodLayer = set ? set.collection : 'none';
  map.addLayer({ id: 'n-fill', type: 'fill', source: 'nbhd', 'source-layer': hoodLayer, paint: { 'fill-color': NODATA, 'fill-opacity': 0.75 } });
  for (const l of areaLayers()) {
    map.addLayer({ id: `area-line-${l.id}`, type: 'line', source: 'nbhd', 'source-layer': l.id, paint: { 'line-color': '#666', 'line-width': 0.4 } });
  }
  map.addLayer({ id: 'n-line', type: 'line', source: 'nbhd', 'source-layer': hoodLayer, paint: { 'line-color': '#222', 'line-width': 1.2 } });
  addBoundaryLayer();
  map.addLayer({ id: 'n-selected', type: 'line', source: 'nbhd', 'source-layer': hoodLayer, paint: { 'line-color': '#d55e00', 'line-width': 3.5 }, filter: ['==', ['get', 'code'], ''] });
  const highlight = areaLayers()[0];
  map.addLayer({ id: 'sa-highlight', type: 'line', source: 'nbhd', 'source-layer': highlight ? highlight.id : 'none', layout: { visibility: 'none' }, paint: { 'line-color': '#cc79a7', 'line-width': 3 }, filter: ['==', ['get', 'code'], ''] });

  stylePointLayers();
  await Promise.all([loadPoints(), set ? loadHeadlines() : null, set ? buildChoices() : null]);
  addPointLayers();
  const doorstep = doorstepPanel({ map, getJSON, showMessage });
  renderLayerList();
  setFilters();
  areaWords();
  await applyIndicator();

  on($('#indicator'), 'change', async (e) => { state.indicator = e.target.value; await applyIndicator(); });
  on($('#set'), 'change', async (e) => { state.set = e.target.value; await changeSet(); });
  on($('#borough'), 'change', async (e) => { state.borough = e.target.value; await changeBorough(); });
  on($('#hood'), 'change', async (e) => {
    const h = headlines.find((x) => x.code === e.target.value);
    if (!h) return;
    if (h.label_lon !== null) map.flyTo({ center: [h.label_lon, h.label_lat], zoom: Math.max(map.getZoom(), 12) });
    await openProfile(h.code);
  });
  $('#layers').addEventListener('change', (e) => {
    if (e.target.name === 'layer') {
      if (e.target.checked) state.layers.add(e.target.value); else state.layers.delete(e.target.value);
    } else if (e.target.name === 'category') {
      if (e.target.checked) state.hidden.delete(e.target.value); else state.hidden.add(e.target.value);
      setFilters();
    } else return;
    setVisibility();
    writeHash();
  });
  map.on('moveend', () => { setLabels(); writeHash(); });
  map.on('click', (e) => {
    if (nbhd.register?.click(e)) return;
    const pts = pointLayers().map((l) => `pt-${l.id}`).filter((id) => map.getLayoutProperty(id, 'visibility') !== 'none');
    const points = map.queryRenderedFeatures(e.point, { layers: pts });
    if (points.length) {
      const l = layerOf(points[0].layer.id.slice(3));
      new maplibregl.Popup({ maxWidth: '20rem' }).setLngLat(points[0].geometry.coordinates).setDOMContent(popupFor(points[0], l)).addTo(map);
      const d = doorstep.open(points[0], l.id); // a GP practice's or school's doorstep
      if (d) track(d);
      return;
    }
    const c = choice();
    if (c?.level === 'area') {
      const area = map.queryRenderedFeatures(e.point, { layers: [`area-fill-${c.layer}`] });
      if (area.length) new maplibregl.Popup({ maxWidth: '22rem' }).setLngLat(e.lngLat).setDOMContent(popupFor(area[0], layerOf(c.layer))).addTo(map);
    }
    const hood = map.queryRenderedFeatures(e.point, { layers: ['n-fill'] });
    if (hood.length) track(openProfile(hood[0].properties.code));
  });
  for (const id of ['n-fill', ...pointLayers().map((l) => `pt-${l.id}`)]) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  $('#close-profile').addEventListener('click', () => { closeProfile(); map.getCanvas().focus(); });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!$('#search-results').hidden) { $('#search-results').hidden = true; $('#search-input').focus(); return; }
    for (const p of document.querySelectorAll('.maplibregl-popup')) p.remove();
    if (!$('#profile').hidden) closeProfile();
  });
  $('#search').addEventListener('submit', (e) => {
    e.preventDefault();
    track(search($('#search-input').value).then(() => (results.length === 1 ? choose(results[0]) : $('#search-results li')?.focus())));
  });
  on($('#outreach-button'), 'click', showOutreach);
  $('#forget-key').addEventListener('click', () => { sessionStorage.removeItem('nbhd-staff-key'); showMessage('The staff key is forgotten.', 'info'); });
  if (staffKey()) $('#staff-key').placeholder = 'key kept for this tab';
  nbhd.register = startRegister({ maplibregl, map, base, say: showMessage, track, afterChange,
    assets: () => pointData.find((d) => d.layer.id === 'community-assets')?.features || [],
    categories: () => layerOf('community-assets')?.categories || [] });

  if (state.selected) await openProfile(state.selected, false);
  map.once('idle', () => {
    fitCanvas(map);
    document.querySelector('.maplibregl-ctrl-attrib')?.classList.remove('maplibregl-compact-show');
    nbhd.ready = true; document.body.dataset.ready = 'true'; writeHash();
  });
}

// fitCanvas measures the map's container again. The page's grid can
// settle after MapLibre first measured the container, and under CPU load
// the map was seen drawn 25 pixels wide in a full-sized canvas (so the
// canvas's own size does not show it): resizing always is cheap.
function fitCanvas(map) {
  map.resize();
}

// idleOnce resolves when the map has drawn everything it has asked for.
const idleOnce = () => new Promise((resolve) => {
  if (nbhd.map) fitCanvas(nbhd.map);
  if (nbhd.map && nbhd.map.loaded() && !nbhd.map.isMoving()) { nbhd.map.once('idle', resolve); nbhd.map.triggerRepaint(); } else if (nbhd.map) nbhd.map.once('idle', resolve); else resolve();
});

// drawnWhole reports whether the map's last frame covers its drawing
// buffer: the corner-drawn map above had a full-sized canvas and a WebGL
// viewport of 25 by 300 pixels.
function drawnWhole(map) {
  const gl = map.painter?.context?.gl;
  if (!gl) return true;
  const [, , w, h] = gl.getParameter(gl.VIEWPORT);
  return w === gl.drawingBufferWidth && h === gl.drawingBufferHeight;
}

// nextFrames resolves once the page has painted twice more, so the last
// frame MapLibre drew is on screen: under CPU load headless Chromium has
// been seen to composite a 25 by 300 pixel frame from before the canvas
// was sized for a while after the map went idle, so a screenshot showed
// the map in a corner.
const nextFrames = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));

// idle resolves when the map has drawn everything it has asked for, over
// the whole canvas (measuring and drawing again, a few times at most, when
// the frame covers only part of it), and that frame is on screen.
nbhd.idle = async () => {
  for (let i = 0; i < 5; i++) {
    await idleOnce();
    if (!nbhd.map || drawnWhole(nbhd.map)) break;
  }
  await nextFrames();
};

main().catch((e) => { showMessage('The map could not start: ' + e.message); nbhd.errors.push(e.message); });
