// nbhd map viewer: neighbourhoods coloured by an indicator, small areas,
// community assets, GP practices and schools, profiles against the borough,
// and the staff outreach list. Everything comes from this nbhd server:
// vector tiles for boundaries (/tiles/all.json), GeoJSON for points, JSON
// for profiles. No external basemap unless the server is configured with one.
import * as maplibregl from './vendor/maplibre-gl.mjs';
import { tileSource } from './pmtiles.js';

const base = new URL('..', location.href).href.replace(/\/$/, '');
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    // Styles go through the CSSOM: the map's Content-Security-Policy refuses style attributes.
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else if (k === 'style') e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
};

// Colour-blind-safe palettes: viridis for quantities (light = low, dark =
// high) and Okabe-Ito for categories.
const VIRIDIS = ['#fde725', '#5ec962', '#21918c', '#3b528b', '#440154'];
const NODATA = '#d9d9d9';
const OKABE_ITO = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#999999'];

const INDICATORS = [
  { id: 'chaotic_per_1000', level: 'n', label: 'Chaotic, complex dependency per 1,000 residents' },
  { id: 'just_coping_per_1000', level: 'n', label: 'Just coping per 1,000 residents' },
  { id: 'deprived_10pct_share', level: 'n', label: "% of small areas in England's most deprived 10%" },
  { id: 'assets_per_1000', level: 'n', label: 'Community assets per 1,000 residents' },
  { id: 'access_asset_pct', level: 'n', label: '% of postcodes within 800 m of a community asset' },
  { id: 'access_gp_pct', level: 'n', label: '% of postcodes within 800 m of a GP practice' },
  { id: 'access_school_pct', level: 'n', label: '% of postcodes within 800 m of a school' },
  { id: 'imd_decile', level: 'sa', label: 'IMD 2019 decile, small areas (1 = most deprived)', fixed: [2, 4, 6, 8], reverse: true },
  { id: 'chaotic_estimate_per_1000', level: 'sa', label: 'Estimated chaotic demand per 1,000, small areas' },
  { id: 'just_coping_estimate_per_1000', level: 'sa', label: 'Estimated just coping per 1,000, small areas' },
];

const state = readHash();
const nbhd = { ready: false, state, errors: [] };
window.nbhd = nbhd;

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const view = (p.get('map') || '').split('/');
  const [z, lat, lon] = view.length === 3 && view.every((v) => v.trim() !== '') ? view.map(Number) : [NaN, NaN, NaN];
  const ok = [z, lat, lon].every(Number.isFinite);
  return {
    zoom: ok ? z : null, lat: ok ? lat : null, lon: ok ? lon : null,
    set: p.get('set') || 'ward',
    indicator: p.get('ind') || 'chaotic_per_1000',
    layers: new Set((p.get('layers') || 'neighbourhoods,gp-practices,schools,assets').split(',').filter(Boolean)),
    selected: p.get('sel') || '',
  };
}

function writeHash() {
  if (!nbhd.map) return;
  const c = nbhd.map.getCenter();
  const p = new URLSearchParams();
  p.set('map', `${nbhd.map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  p.set('set', state.set);
  p.set('ind', state.indicator);
  p.set('layers', [...state.layers].sort().join(','));
  if (state.selected) p.set('sel', state.selected);
  history.replaceState(null, '', '#' + p.toString().replace(/%2C/g, ',').replace(/%2F/g, '/'));
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
    resp = await fetch(base + path, { headers: { Accept: 'application/json', ...headers } });
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

const fmt = (v, unit) => {
  if (v === null || v === undefined) return '–';
  const n = Number(v);
  if (unit === 'percent') return n.toLocaleString('en-GB', { maximumFractionDigits: 1 }) + '%';
  if (unit === 'rate') return n.toLocaleString('en-GB', { maximumFractionDigits: 2 });
  return n.toLocaleString('en-GB', { maximumFractionDigits: 1 });
};

// quantile class breaks (4 for 5 classes) of the non-null values.
function breaks(values, fixed) {
  if (fixed) return fixed;
  const v = values.filter((x) => x !== null && x !== undefined && Number.isFinite(Number(x))).map(Number).sort((a, b) => a - b);
  if (!v.length) return [0, 0, 0, 0];
  return [0.2, 0.4, 0.6, 0.8].map((q) => v[Math.min(v.length - 1, Math.floor(q * v.length))]);
}

function colourExpression(prop, bks, reverse) {
  const pal = reverse ? [...VIRIDIS].reverse() : VIRIDIS;
  const step = ['step', ['to-number', ['get', prop]], pal[0]];
  let last = -Infinity;
  bks.forEach((b, i) => { if (b > last) { step.push(b, pal[i + 1]); last = b; } });
  return ['case', ['==', ['typeof', ['get', prop]], 'number'], step, NODATA];
}

let headlines = [];   // the current set's neighbourhoods with headline figures
let smallAreaValues = {};
let labelMarkers = [];

async function loadHeadlines() {
  const r = await getJSON(`/neighbourhoods/${encodeURIComponent(state.set)}`);
  headlines = r.neighbourhoods;
  for (const m of labelMarkers) m.remove();
  labelMarkers = headlines.filter((h) => h.label_lon !== null).map((h) =>
    new maplibregl.Marker({ element: el('div', { class: 'nbhd-label', 'aria-hidden': 'true', text: h.name }) })
      .setLngLat([h.label_lon, h.label_lat]).addTo(nbhd.map));
  setLabelsVisible();
}

function setLabelsVisible() {
  const on = state.layers.has('neighbourhoods') && nbhd.map.getZoom() >= 10;
  for (const m of labelMarkers) m.getElement().style.display = on ? '' : 'none';
}

async function smallAreaData(prop) {
  if (!smallAreaValues[prop]) {
    const fc = await getJSON(`/collections/small-areas/items?limit=10000&properties=${prop}`);
    smallAreaValues[prop] = fc.features.map((f) => f.properties[prop]);
  }
  return smallAreaValues[prop];
}

async function applyIndicator() {
  const ind = INDICATORS.find((i) => i.id === state.indicator) || INDICATORS[0];
  state.indicator = ind.id;
  const values = ind.level === 'n' ? headlines.map((h) => h[ind.id]) : await smallAreaData(ind.id);
  const bks = breaks(values, ind.fixed);
  const expr = colourExpression(ind.id, bks, ind.reverse);
  const map = nbhd.map;
  if (ind.level === 'n') {
    map.setPaintProperty('n-fill', 'fill-color', expr);
    map.setPaintProperty('n-fill', 'fill-opacity', 0.75);
    map.setPaintProperty('sa-fill', 'fill-opacity', 0);
  } else {
    map.setPaintProperty('sa-fill', 'fill-color', expr);
    map.setPaintProperty('sa-fill', 'fill-opacity', 0.8);
    map.setPaintProperty('n-fill', 'fill-opacity', 0.05);
  }
  renderLegend(ind, bks);
  writeHash();
}

function renderLegend(ind, bks) {
  const pal = ind.reverse ? [...VIRIDIS].reverse() : VIRIDIS;
  const lg = $('#legend');
  lg.replaceChildren(el('p', { class: 'hint', text: ind.label + (ind.fixed ? '' : ' (quintiles)') }));
  const edges = [null, ...bks, null];
  for (let i = 0; i < 5; i++) {
    if (i > 0 && i < 5 && edges[i] !== null && edges[i + 1] !== null && edges[i] === edges[i + 1]) continue;
    const lo = edges[i] === null ? 'below ' + fmt(edges[i + 1]) : fmt(edges[i]);
    const hi = edges[i + 1] === null ? ' and above' : (edges[i] === null ? '' : ' to under ' + fmt(edges[i + 1]));
    lg.append(el('div', { class: 'legend-row' }, el('span', { class: 'swatch', style: `background:${pal[i]}` }), el('span', { text: lo + hi })));
  }
  lg.append(el('div', { class: 'legend-row' }, el('span', { class: 'swatch', style: `background:${NODATA}` }),
    el('span', { text: 'withheld or no data' })));
}

function setNeighbourhoodLayers() {
  const map = nbhd.map;
  const sourceLayer = 'neighbourhoods-' + state.set;
  for (const id of ['n-fill', 'n-line', 'n-selected']) {
    const def = map.getStyle().layers.find((l) => l.id === id);
    const before = map.getLayer('sa-line') ? 'sa-line' : undefined;
    map.removeLayer(id);
    map.addLayer({ ...def, 'source-layer': sourceLayer }, id === 'n-fill' ? before : undefined);
  }
  map.setFilter('n-selected', ['==', ['get', 'code'], state.selected]);
  setVisibility();
}

function setVisibility() {
  const map = nbhd.map;
  const vis = (on) => (on ? 'visible' : 'none');
  const n = state.layers.has('neighbourhoods');
  for (const id of ['n-fill', 'n-line', 'n-selected']) map.setLayoutProperty(id, 'visibility', vis(n));
  const sa = state.layers.has('small-areas') || INDICATORS.find((i) => i.id === state.indicator)?.level === 'sa';
  for (const id of ['sa-fill', 'sa-line']) map.setLayoutProperty(id, 'visibility', vis(sa));
  map.setLayoutProperty('gp-practices', 'visibility', vis(state.layers.has('gp-practices')));
  map.setLayoutProperty('schools', 'visibility', vis(state.layers.has('schools')));
  const cats = [...state.layers].filter((l) => l.startsWith('asset:')).map((l) => l.slice(6));
  map.setFilter('assets', ['in', ['get', 'category'], ['literal', cats]]);
  setLabelsVisible();
  for (const box of document.querySelectorAll('input[name=layer]')) box.checked = state.layers.has(box.value);
}

async function pointSource(id) {
  const fc = await getJSON(`/collections/${id}/items?limit=10000`);
  nbhd.map.getSource(id).setData(fc);
  return fc;
}

function profileRow(ind) {
  const cmp = ind.borough || {};
  const idx = cmp.index;
  const bar = el('div', { class: 'barchart', role: 'img',
    'aria-label': idx === null || idx === undefined ? 'no comparison' : `${idx} where the borough is 100` });
  if (idx !== null && idx !== undefined) {
    bar.append(el('span', { style: `width:${Math.min(100, idx / 2)}%` }), el('i', { style: 'left:50%' }));
  }
  const value = ind.suppressed ? 'withheld' : fmt(ind.value, ind.unit);
  const trend = ind.trend ? ` (${ind.trend.values.map((t) => `${t.vintage}: ${fmt(t.value, ind.unit)}`).join(', ')})` : '';
  return el('tr', { title: ind.description + trend },
    el('th', { scope: 'row', text: ind.label }),
    el('td', { class: 'num', text: value }),
    el('td', { class: 'num', text: fmt(cmp.value, ind.unit) }),
    el('td', { class: 'bar-cell' }, bar),
    el('td', { class: 'num', text: fmt(ind.england?.value, ind.unit) }),
    el('td', { class: 'num', text: ind.rank ? `${ind.rank}/${ind.of}` : '–' }));
}

// groupTitles name the profile's indicator groups; a group the API adds
// later is shown under its own name.
const groupTitles = { people: 'People', deprivation: 'Deprivation', demand: 'Demand', assets: 'Community assets',
  services: 'GP practices and schools', access: 'Access (straight line)' };

function section(title, rows, boroughLabel) {
  const body = rows.filter(Boolean);
  if (!body.length) return [];
  return [el('h3', { text: title }), el('table', { class: 'ind' },
    el('thead', {}, el('tr', {}, el('th', { text: '' }), el('th', { class: 'num', text: 'here' }),
      el('th', { class: 'num', text: boroughLabel }), el('th', { text: 'vs borough' }),
      el('th', { class: 'num', text: 'England' }), el('th', { class: 'num', text: 'rank' }))),
    el('tbody', {}, ...body))];
}

function labelCase(s) { return s.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase()); }

async function openProfile(code) {
  state.selected = code;
  nbhd.map.setFilter('n-selected', ['==', ['get', 'code'], code]);
  writeHash();
  const panel = $('#profile');
  const body = $('#profile-body');
  panel.hidden = false;
  body.replaceChildren(el('p', { text: 'Loading…' }));
  try {
    const p = await getJSON(`/neighbourhoods/${encodeURIComponent(state.set)}/${encodeURIComponent(code)}`);
    const byId = Object.fromEntries(p.indicators.map((i) => [i.id, i]));
    const groups = [];
    for (const ind of p.indicators) {
      let g = groups.find((x) => x.id === ind.group);
      if (!g) groups.push(g = { id: ind.group, rows: [] });
      g.rows.push(profileRow(ind));
    }
    const boroughLabel = p.comparators?.borough?.label || 'borough';
    const demand = ['chaotic', 'just_coping'].map((s) => byId[s]).filter(Boolean);
    const kids = [
      el('h2', { id: 'profile-name', text: p.name }),
      el('p', { class: 'hint', text: `${code} · ${p.borough?.name || ''} · population ${fmt(byId.population?.value)} · ` +
        `bars compare with the ${boroughLabel} (red line = 100)` }),
      el('p', { class: 'hint', text: `Drawn as ${p.geography?.drawn_as || 'its small areas'}.` }),
      ...groups.flatMap((g) => section(groupTitles[g.id] || g.id, g.rows, boroughLabel)),
      el('p', { class: 'hint' }, ...demand.map((d) => el('span', { class: 'tag ' + d.source, text: `${d.label}: ${d.source}` })),
        ` ${demand[0]?.method || ''} (${demand[0]?.period || ''})`),
      el('p', { class: 'hint', text: 'England: ' + (p.comparators?.england?.coverage || '') }),
      el('p', {}, el('a', { href: `${base}/neighbourhoods/${state.set}/${code}?f=csv`, download: '', text: 'Download this profile (CSV)' })),
      el('div', { id: 'outreach' }),
    ];
    body.replaceChildren(...kids);
    panel.focus();
  } catch (e) {
    body.replaceChildren(el('p', { text: 'Could not load the profile: ' + e.message }));
    showMessage(e.message);
  }
}

// Staff: the key stays in this tab's session storage only.
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
      el('td', { text: (a.assets || []).map((x) => `${x.name} ${x.distance_m} m`).join('; ') }),
      el('td', { text: a.gp_name ? `${a.gp_name} ${a.gp_distance_m} m` : '–' })));
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

function popupFor(f, layer) {
  const p = f.properties;
  const rows = Object.entries(p).filter(([k, v]) => v !== null && v !== '' && k !== 'id');
  const title = p.name || p.code || layer;
  const body = el('div', {}, el('strong', { text: title }),
    el('table', { class: 'ind' }, ...rows.filter(([k]) => k !== 'name').map(([k, v]) =>
      el('tr', {}, el('th', { scope: 'row', text: labelCase(k) }),
        el('td', {}, k === 'url' && /^https?:/.test(v) ? el('a', { href: v, target: '_blank', rel: 'noopener', text: v }) : String(v))))));
  return body;
}

// Search: neighbourhood names, small-area codes and postcodes.
let results = [];
async function search(q) {
  const list = $('#search-results');
  if (!q.trim()) { list.hidden = true; return; }
  try {
    results = await getJSON('/search?q=' + encodeURIComponent(q));
  } catch (e) { showMessage(e.message); return; }
  list.replaceChildren(...results.map((r, i) => {
    const li = el('li', { role: 'option', id: 'result-' + i, tabindex: '-1', 'aria-selected': i === 0 ? 'true' : 'false', text: r.label });
    li.addEventListener('click', () => choose(r));
    li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') choose(r); });
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
    await openProfile(r.code);
  }
}

async function changeSet() {
  state.selected = '';
  $('#profile').hidden = true;
  setNeighbourhoodLayers();
  await loadHeadlines();
  await applyIndicator();
}

async function main() {
  let config, collections, sets;
  try {
    [config, collections, sets] = await Promise.all([getJSON('/map/config.json'), getJSON('/collections'), getJSON('/neighbourhoods')]);
  } catch (e) {
    showMessage(e.message);
    nbhd.errors.push(e.message);
    return;
  }
  if (!sets.sets.some((s) => s.id === state.set) && sets.sets.length) state.set = sets.sets[0].id;
  for (const s of sets.sets) $('#set').append(el('option', { value: s.id, text: s.title }));
  $('#set').value = state.set;
  for (const i of INDICATORS) $('#indicator').append(el('option', { value: i.id, text: i.label }));
  if (!INDICATORS.some((i) => i.id === state.indicator)) state.indicator = INDICATORS[0].id;
  $('#indicator').value = state.indicator;

  const ext = collections.collections.find((c) => c.id === 'small-areas')?.extent?.spatial?.bbox?.[0] || [-3, 53, -2, 54];
  const style = config.basemap || {
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
  map.addSource('nbhd', await tileSource(maplibregl, config, base)); // /tiles, or a PMTiles archive
  map.addLayer({ id: 'sa-fill', type: 'fill', source: 'nbhd', 'source-layer': 'small-areas', paint: { 'fill-color': NODATA, 'fill-opacity': 0 } });
  map.addLayer({ id: 'n-fill', type: 'fill', source: 'nbhd', 'source-layer': 'neighbourhoods-' + state.set, paint: { 'fill-color': NODATA, 'fill-opacity': 0.75 } });
  map.addLayer({ id: 'sa-line', type: 'line', source: 'nbhd', 'source-layer': 'small-areas', paint: { 'line-color': '#666', 'line-width': 0.4 } });
  map.addLayer({ id: 'n-line', type: 'line', source: 'nbhd', 'source-layer': 'neighbourhoods-' + state.set, paint: { 'line-color': '#222', 'line-width': 1.2 } });
  map.addLayer({ id: 'n-selected', type: 'line', source: 'nbhd', 'source-layer': 'neighbourhoods-' + state.set, paint: { 'line-color': '#d55e00', 'line-width': 3.5 }, filter: ['==', ['get', 'code'], ''] });
  map.addLayer({ id: 'sa-highlight', type: 'line', source: 'nbhd', 'source-layer': 'small-areas', layout: { visibility: 'none' }, paint: { 'line-color': '#cc79a7', 'line-width': 3 }, filter: ['==', ['get', 'code'], ''] });
  for (const id of ['community-assets', 'gp-practices', 'schools']) map.addSource(id, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });

  const [assets] = await Promise.all([pointSource('community-assets'), pointSource('gp-practices'), pointSource('schools'), loadHeadlines()]);
  const categories = [...new Set(assets.features.map((f) => f.properties.category))].sort();
  const colour = ['match', ['get', 'category']];
  categories.forEach((c, i) => colour.push(c, OKABE_ITO[i % OKABE_ITO.length]));
  colour.push('#999');
  map.addLayer({ id: 'assets', type: 'circle', source: 'community-assets', paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 9, 2.5, 15, 7], 'circle-color': colour, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
  map.addLayer({ id: 'schools', type: 'circle', source: 'schools', paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 9, 3, 15, 8], 'circle-color': '#fff', 'circle-stroke-color': '#0072B2', 'circle-stroke-width': 2 } });
  map.addLayer({ id: 'gp-practices', type: 'circle', source: 'gp-practices', paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 9, 3.5, 15, 9], 'circle-color': '#D55E00', 'circle-stroke-color': '#000', 'circle-stroke-width': 1.5 } });
  if (state.layers.has('assets')) { state.layers.delete('assets'); for (const c of categories) state.layers.add('asset:' + c); }
  const group = $('#asset-categories');
  group.append(el('p', { class: 'hint', text: 'Community assets' }));
  categories.forEach((c, i) => group.append(el('label', {},
    el('input', { type: 'checkbox', name: 'layer', value: 'asset:' + c }), ' ',
    el('span', { class: 'swatch', style: `background:${OKABE_ITO[i % OKABE_ITO.length]};width:.8rem;height:.8rem;border-radius:50%` }), ' ' + labelCase(c))));

  setVisibility();
  await applyIndicator();

  $('#indicator').addEventListener('change', async (e) => { state.indicator = e.target.value; setVisibility(); await applyIndicator(); });
  $('#set').addEventListener('change', async (e) => { state.set = e.target.value; await changeSet(); });
  $('#layers').addEventListener('change', (e) => {
    if (e.target.name !== 'layer') return;
    if (e.target.checked) state.layers.add(e.target.value); else state.layers.delete(e.target.value);
    setVisibility();
    writeHash();
  });
  map.on('moveend', writeHash);
  map.on('zoomend', setLabelsVisible);
  map.on('click', (e) => {
    const points = map.queryRenderedFeatures(e.point, { layers: ['gp-practices', 'schools', 'assets'] });
    if (points.length) {
      new maplibregl.Popup({ maxWidth: '20rem' }).setLngLat(points[0].geometry.coordinates).setDOMContent(popupFor(points[0], points[0].layer.id)).addTo(map);
      return;
    }
    const hood = map.queryRenderedFeatures(e.point, { layers: ['n-fill'] });
    if (hood.length) openProfile(hood[0].properties.code);
  });
  for (const id of ['n-fill', 'gp-practices', 'schools', 'assets']) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  $('#close-profile').addEventListener('click', () => { $('#profile').hidden = true; state.selected = ''; map.setFilter('n-selected', ['==', ['get', 'code'], '']); writeHash(); });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') { $('#profile').hidden = true; $('#search-results').hidden = true; } });
  $('#search').addEventListener('submit', (e) => { e.preventDefault(); search($('#search-input').value).then(() => { if (results.length === 1) choose(results[0]); else $('#search-results li')?.focus(); }); });
  $('#outreach-button').addEventListener('click', showOutreach);
  $('#forget-key').addEventListener('click', () => { sessionStorage.removeItem('nbhd-staff-key'); showMessage('The staff key is forgotten.', 'info'); });
  if (staffKey()) $('#staff-key').placeholder = 'key kept for this tab';

  if (state.selected) await openProfile(state.selected);
  map.once('idle', () => {
    document.querySelector('.maplibregl-ctrl-attrib')?.classList.remove('maplibregl-compact-show');
    nbhd.ready = true; document.body.dataset.ready = 'true'; writeHash(); });
}

// idle resolves when the map has drawn everything it has asked for.
nbhd.idle = () => new Promise((resolve) => {
  if (nbhd.map && nbhd.map.loaded() && !nbhd.map.isMoving()) { nbhd.map.once('idle', resolve); nbhd.map.triggerRepaint(); } else if (nbhd.map) nbhd.map.once('idle', resolve); else resolve();
});

main().catch((e) => { showMessage('The map could not start: ' + e.message); nbhd.errors.push(e.message); });
