// The doorstep of a GP practice or a school: clicking one on the map opens
// a panel listing the community assets within the access distance
// (/gp-practices/{code}/doorstep, /schools/{id}/doorstep), grouped by
// category, nearest first, with links to the printable page and the CSV,
// and draws the circle the list covers. Closing the panel, or choosing
// another place, takes the circle away.
import { el } from './dom.js';
import { fmt } from './format.js';

// The point layers whose places have a doorstep: the route, and the
// feature's key in it.
const PLACES = {
  'gp-practices': { route: 'gp-practices', key: (p) => p.code, noun: 'GP practice' },
  schools: { route: 'schools', key: (p) => p.id, noun: 'School' },
};

// keepIds copies each feature's id into its properties: the map's GeoJSON
// sources drop ids that are not numbers (a school's is "schools:…"), and
// a click finds a place by its properties.
export function keepIds(features) {
  return features.map((f) => (f.id === undefined || f.id === null || 'id' in f.properties
    ? f : { ...f, properties: { ...f.properties, id: f.id } }));
}

// circle is a polygon of n sides around centre [lon, lat] with radius r
// metres, on the WGS 84 ellipsoid (the meridional and prime-vertical
// radii at the centre's latitude): within a metre, at a doorstep's scale,
// of the circle the API measures on the British National Grid.
export function circle([lon, lat], r, n = 96) {
  const a = 6378137, e2 = 0.00669437999014, rad = Math.PI / 180;
  const w = 1 - e2 * Math.sin(lat * rad) ** 2;
  const m = (a * (1 - e2)) / w ** 1.5, nu = a / Math.sqrt(w);
  const dLat = r / m / rad, dLon = r / (nu * Math.cos(lat * rad)) / rad;
  const ring = [];
  for (let i = 0; i <= n; i++) {
    const t = ((i % n) * 2 * Math.PI) / n;
    ring.push([+(lon + dLon * Math.sin(t)).toFixed(7), +(lat + dLat * Math.cos(t)).toFixed(7)]);
  }
  return { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [ring] } };
}

const EMPTY = { type: 'FeatureCollection', features: [] };
const COST = { free: 'Free', low: 'Low cost', paid: 'Paid' };
const metres = (m) => `${fmt(Math.round(m), 'integer')} m`;
const walk = (m) => `about ${Math.max(1, Math.round(m / 80))} min walk`;
const link = (doc, type) => (doc.links || []).find((l) => l.type === type)?.href;

// assetItem is one asset: its name and distance, then what a person needs
// to go: cost and audience, opening hours, address and contact.
function assetItem(a) {
  const web = /^https?:\/\//i.test(a.website || '') ? a.website : '';
  const where = [a.address, a.postcode].filter(Boolean).join(', ');
  const forWhom = [COST[a.cost], a.audience && `For: ${a.audience}`].filter(Boolean).join(' · ');
  return el('li', { class: 'doorstep-asset', 'data-asset-id': a.id },
    el('p', { class: 'doorstep-title' }, el('strong', { text: a.name }),
      el('span', { class: 'doorstep-distance', text: `${metres(a.distance_m)}, ${walk(a.distance_m)}` })),
    forWhom ? el('p', { class: 'doorstep-cost', text: forWhom }) : null,
    a.opening_hours ? el('p', { text: `Open: ${a.opening_hours}` }) : null,
    where ? el('p', { text: where }) : null,
    a.phone || web ? el('p', {},
      a.phone ? el('a', { href: 'tel:' + a.phone.replace(/[^\d+]/g, ''), text: `Tel: ${a.phone}` }) : null,
      a.phone && web ? ' · ' : null,
      web ? el('a', { href: web, target: '_blank', rel: 'noopener', text: web.replace(/^https?:\/\/(www\.)?/i, '').replace(/\/$/, '') }) : null)
      : (a.website ? el('p', { text: a.website }) : null));
}

// doorstepNodes is the panel's content for a doorstep document.
export function doorstepNodes(doc, noun) {
  const p = doc.place;
  const print = link(doc, 'text/html'), csv = link(doc, 'text/csv');
  // An address often starts with the place's own name: it is said once.
  const address = (p.address || '').toUpperCase().startsWith(p.name.toUpperCase() + ', ') ? p.address.slice(p.name.length + 2) : p.address;
  const where = [address, p.postcode].filter(Boolean).join(', ');
  const kids = [
    el('h2', { id: 'doorstep-name', text: `On the doorstep of ${p.name}` }),
    el('p', { class: 'hint', text: [noun, where].filter(Boolean).join(' · ') }),
    el('p', { id: 'doorstep-rule', text: `${doc.assets === 1 ? 'One community asset' : `${fmt(doc.assets, 'count')} community assets`} ` +
      `within ${metres(doc.circle.radius_m)} (${walk(doc.circle.radius_m)}) in a straight line, nearest first.` }),
    el('p', { class: 'doorstep-links' },
      print ? el('a', { href: print, target: '_blank', rel: 'noopener', text: 'Printable page (A4)' }) : null,
      print && csv ? ' · ' : null,
      csv ? el('a', { href: csv, download: '', text: 'Download the list (CSV)' }) : null),
  ];
  if (!doc.categories.length) {
    kids.push(el('p', { id: 'doorstep-none', text: `No community assets are recorded within ${metres(doc.circle.radius_m)} of this ${noun.toLowerCase()}.` }));
  }
  for (const g of doc.categories) {
    const id = `doorstep-cat-${g.category}`.replace(/[^\w-]/g, '_');
    kids.push(el('section', { class: 'doorstep-category', 'data-category': g.category, 'aria-labelledby': id },
      el('h3', { id, text: `${g.label} (${fmt(g.assets.length, 'count')})` }),
      el('ol', { class: 'doorstep-list' }, ...g.assets.map(assetItem))));
  }
  kids.push(el('p', { class: 'hint note', text: `The list: ${doc.rule}. A walk is counted at 80 m a minute. Times and costs change: check before you go.` }));
  return kids;
}

// doorstepPanel adds the circle's source and layers (under the points) and
// the panel, and returns what the map's click handler calls: open(feature,
// layerId) for a point of a layer with doorsteps, which gives a promise,
// or null when the point has none.
export function doorstepPanel({ map, getJSON, showMessage }) {
  const before = map.getStyle().layers.find((l) => l.id.startsWith('pt-'))?.id;
  map.addSource('doorstep', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'doorstep-fill', type: 'fill', source: 'doorstep', paint: { 'fill-color': '#0b3954', 'fill-opacity': 0.08 } }, before);
  map.addLayer({ id: 'doorstep-line', type: 'line', source: 'doorstep', paint: { 'line-color': '#0b3954', 'line-width': 2.5, 'line-dasharray': [3, 2] } }, before);

  const close = el('button', { type: 'button', class: 'close', id: 'close-doorstep', 'aria-label': 'Close the doorstep panel', text: '×' });
  const body = el('div', { id: 'doorstep-body' });
  const panel = el('aside', { id: 'doorstep', class: 'panel', 'aria-labelledby': 'doorstep-name', tabindex: '-1' }, close, body);
  panel.hidden = true;
  document.querySelector('main').append(panel);

  let seq = 0;
  function hide(refocus) {
    seq++;
    if (panel.hidden) return;
    panel.hidden = true;
    body.replaceChildren();
    map.getSource('doorstep').setData(EMPTY);
    if (refocus) map.getCanvas().focus();
  }
  close.addEventListener('click', () => hide(true));
  // Escape closes it, with the popups and the profile (app.js), unless it
  // closes the search's results first.
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.querySelector('#search-results')?.hidden !== false) hide(panel.contains(document.activeElement));
  }, { capture: true }); // before app.js hides the results

  // showCircle brings the circle (and the place's popup) into view, clear
  // of the panel where the panel lies over the map: as they are if they
  // are in view, else moved by the least that shows them, else zoomed out
  // to the circle. It never zooms in.
  function showCircle(c) {
    const ring = c.geometry.coordinates[0];
    const px = ring.map((p) => map.project(p));
    const m = map.getContainer().getBoundingClientRect(), r = panel.getBoundingClientRect();
    const xs = px.map((p) => p.x), ys = px.map((p) => p.y);
    for (const p of map.getContainer().querySelectorAll('.maplibregl-popup')) {
      const q = p.getBoundingClientRect();
      xs.push(q.left - m.left, q.right - m.left);
      ys.push(q.top - m.top, q.bottom - m.top);
    }
    const box = { l: Math.min(...xs), r: Math.max(...xs), t: Math.min(...ys), b: Math.max(...ys) };
    const over = r.left < m.right && r.right > m.left && r.top < m.bottom && r.bottom > m.top;
    const free = { l: over && m.width - (r.right - m.left) > 240 ? r.right - m.left + 20 : 20, r: m.width - 50, t: 20, b: m.height - 30 };
    if (box.r - box.l > free.r - free.l || box.b - box.t > free.b - free.t) {
      const lons = ring.map((p) => p[0]), lats = ring.map((p) => p[1]);
      map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]],
        { padding: { left: free.l, right: m.width - free.r, top: free.t, bottom: m.height - free.b } });
      return;
    }
    const dx = box.l < free.l ? box.l - free.l : box.r > free.r ? box.r - free.r : 0;
    const dy = box.t < free.t ? box.t - free.t : box.b > free.b ? box.b - free.b : 0;
    if (dx || dy) map.panBy([dx, dy]);
  }

  async function show(place, key) {
    const mine = ++seq;
    panel.hidden = false;
    body.replaceChildren(el('h2', { id: 'doorstep-name', text: 'On the doorstep' }), el('p', { text: 'Loading…' }));
    map.getSource('doorstep').setData(EMPTY);
    const path = `/${place.route}/${encodeURIComponent(key)}/doorstep`;
    try {
      const doc = await getJSON(path);
      if (mine !== seq) return null;
      const c = circle(doc.circle.centre, doc.circle.radius_m);
      map.getSource('doorstep').setData({ type: 'FeatureCollection', features: [c] });
      body.replaceChildren(...doorstepNodes(doc, place.noun).filter(Boolean));
      panel.dataset.place = `${place.route}/${key}`;
      panel.focus();
      showCircle(c);
      return doc;
    } catch (e) {
      if (mine !== seq) return null;
      body.replaceChildren(el('h2', { id: 'doorstep-name', text: 'On the doorstep' }),
        el('p', { text: `Could not load the doorstep: ${e.message}` }));
      showMessage(e.message);
      return null;
    }
  }

  return {
    open(feature, layerId) {
      const place = PLACES[layerId];
      const key = place && !feature.properties.cluster ? place.key(feature.properties) : null;
      if (key === null || key === undefined || key === '') return null;
      return show(place, String(key));
    },
  };
}
