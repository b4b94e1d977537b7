// The asset register on the map, for staff: add a community asset where
// the map is clicked, move one (drag its marker, or "Move" then click),
// correct one and close one, through the API's OGC API – Features Part 4
// writes on community-assets (README, "The asset register"). The key is the
// one the Staff key field holds, kept in this tab's session storage only;
// it is checked by reading an asset with it before anything is offered.
// What the API refuses is shown in its own words beside the form, with the
// field it names marked. After a change the app refreshes the public layers
// (afterChange), so the asset shows as everyone now sees it.
import { $, el } from './dom.js';
import { labelCase } from './format.js';

const LAYER = 'community-assets';
const STORED_KEY = 'nbhd-staff-key';
const ITEMS = `/collections/${LAYER}/items`;
const OTHER = '__other';

// The properties staff write (data.AssetFields), as the form asks for them.
const FIELDS = [
  { name: 'name', label: 'Name (required)', attrs: { 'aria-required': 'true', autocomplete: 'off' } },
  { name: 'category', label: 'Category (required)' },
  { name: 'address', label: 'Address', attrs: { autocomplete: 'off' } },
  { name: 'postcode', label: 'Postcode', attrs: { autocomplete: 'off' } },
  { name: 'phone', label: 'Telephone', attrs: { type: 'tel', autocomplete: 'off' } },
  { name: 'email', label: 'Email', attrs: { type: 'email', autocomplete: 'off' } },
  { name: 'url', label: 'Web site', attrs: { type: 'url', autocomplete: 'off', placeholder: 'https://…' } },
  { name: 'opening_hours', label: 'Opening hours', attrs: { autocomplete: 'off', placeholder: 'e.g. Mo-Fr 10:00-16:00' } },
];

const round = (v) => Math.round(v * 1e6) / 1e6;
const fieldId = (name) => 'register-' + name.replaceAll('_', '-');

// startRegister adds the register's controls beside the staff key and
// returns the map's hook: click(e) is true when the register took the
// click (placing an asset, or opening one to change).
//
// app: { maplibregl, map, base, say(text, kind), track(promise),
// assets() (the community assets the map shows), categories() (theirs),
// afterChange() (refetch what a change alters) }.
export function startRegister(app) {
  const { maplibregl, map, base } = app;
  let key = ''; // a key checked here; '' until then
  let current = null; // the asset in the form: {id, etag, feature}, id null for a new one
  let position = null; // [lon, lat] of the marker
  let placing = false; // the next click on the map places the marker
  let marker = null;

  // ---- The controls ----
  const status = el('p', { id: 'register-status', class: 'hint', 'aria-live': 'polite',
    text: 'Add, move, correct or close community assets with a staff key that has assets:write.' });
  const startButton = el('button', { id: 'register-start', type: 'button', text: 'Edit community assets' });
  const addButton = el('button', { id: 'register-add', type: 'button', text: 'Add an asset' });
  const pick = el('select', { id: 'register-pick' });
  const openButton = el('button', { id: 'register-open', type: 'button', class: 'secondary', text: 'Change it' });
  const stopButton = el('button', { id: 'register-stop', type: 'button', class: 'secondary', text: 'Stop editing' });
  const tools = el('div', { id: 'register-tools', hidden: '' }, addButton,
    el('label', { for: 'register-pick', text: 'Or choose an asset to change' }), pick, openButton,
    el('p', { class: 'hint', text: 'Or click an asset on the map.' }), stopButton);

  const title = el('h3', { id: 'register-title', tabindex: '-1' });
  const where = el('p', { id: 'register-where', class: 'hint', 'aria-live': 'polite' });
  const moveButton = el('button', { id: 'register-move', type: 'button', class: 'secondary', text: 'Move: click the map' });
  const centreButton = el('button', { id: 'register-centre', type: 'button', class: 'secondary', text: 'Put it at the map’s centre' });
  const error = el('div', { id: 'register-error', role: 'alert', hidden: '' });
  const inputs = new Map();
  const rows = FIELDS.map((f) => {
    if (f.name === 'category') return categoryRow();
    const input = el('input', { id: fieldId(f.name), name: f.name, type: 'text', ...(f.attrs || {}) });
    inputs.set(f.name, input);
    return el('label', { for: input.id }, f.label, input);
  });
  const note = el('input', { id: 'register-note', name: 'note', type: 'text', autocomplete: 'off', 'aria-required': 'true',
    placeholder: 'e.g. Opened as a warm space this winter' });
  const saveButton = el('button', { id: 'register-save', type: 'submit', text: 'Save' });
  const cancelButton = el('button', { id: 'register-cancel', type: 'button', class: 'secondary', text: 'Cancel' });
  const closeButton = el('button', { id: 'register-close', type: 'button', class: 'secondary', text: 'Close this asset…' });
  const confirmText = el('p', { id: 'register-confirm-text' });
  const yesButton = el('button', { id: 'register-close-yes', type: 'button', text: 'Close it' });
  const noButton = el('button', { id: 'register-close-no', type: 'button', class: 'secondary', text: 'Keep it open' });
  const confirm = el('div', { id: 'register-confirm', role: 'group', 'aria-labelledby': 'register-confirm-text', hidden: '' },
    confirmText, yesButton, ' ', noButton);
  const history = el('ol', { id: 'register-history-list' });
  const historyBox = el('details', { id: 'register-history', class: 'about', hidden: '' }, el('summary', { text: 'History of this asset' }), history);
  const form = el('form', { id: 'register-form', novalidate: '', 'aria-labelledby': 'register-title', hidden: '' },
    title, where, el('div', { class: 'register-place' }, moveButton, centreButton), ...rows,
    el('label', { for: note.id }, 'Why (recorded with your key and the time)', note),
    error, el('div', { class: 'register-actions' }, saveButton, cancelButton, closeButton), confirm, historyBox);
  const box = el('fieldset', { id: 'register' }, el('legend', { text: 'Community assets (staff)' }), status, startButton, tools, form);
  $('#staff').after(box);

  function categoryRow() {
    const select = el('select', { id: fieldId('category'), name: 'category', 'aria-required': 'true' });
    const other = el('input', { id: 'register-category-other', type: 'text', autocomplete: 'off', placeholder: 'e.g. warm_space' });
    const otherRow = el('label', { for: other.id, hidden: '' }, 'Another category (lower-case letters, digits and _)', other);
    select.addEventListener('change', () => { otherRow.hidden = select.value !== OTHER; if (!otherRow.hidden) other.focus(); });
    inputs.set('category', select);
    inputs.set('category-other', other);
    return el('div', {}, el('label', { for: select.id, text: 'Category (required)' }), select, otherRow);
  }

  // fillCategories offers the categories the map's assets have, and
  // another one typed in.
  function fillCategories(value) {
    const select = inputs.get('category');
    const cats = [...new Set([...app.categories(), value].filter(Boolean))].sort();
    select.replaceChildren(el('option', { value: '', text: 'Choose…' }),
      ...cats.map((c) => el('option', { value: c, text: labelCase(c) })), el('option', { value: OTHER, text: 'Another category…' }));
    select.value = value || '';
    inputs.get('category-other').value = '';
    inputs.get('category-other').closest('label').hidden = true;
  }

  function fillPick() {
    const assets = [...app.assets()].filter((f) => f.id).sort((a, b) => (a.properties.name || '').localeCompare(b.properties.name || ''));
    pick.replaceChildren(...assets.map((f) => el('option', { value: f.id,
      text: `${f.properties.name || f.id}${f.properties.category ? ' (' + labelCase(f.properties.category) + ')' : ''}` })));
    pick.disabled = openButton.disabled = !assets.length;
  }

  // ---- Talking to the API ----

  // request makes a staff request; a refusal throws an Error with the
  // API's description and the status.
  async function request(method, path, { k = key, note: why, body, type, etag, accept = 'application/geo+json' } = {}) {
    const url = new URL(base + path);
    if (why !== undefined) url.searchParams.set('note', why);
    const headers = { Authorization: 'Bearer ' + k, Accept: accept };
    if (type) headers['Content-Type'] = type;
    if (etag) headers['If-Match'] = etag;
    let resp;
    try {
      resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      throw new Error('The nbhd API is not reachable. Is the server running? (' + e.message + ')');
    }
    const text = await resp.text();
    let doc = null;
    try { doc = text ? JSON.parse(text) : null; } catch { doc = null; }
    if (!resp.ok) {
      const err = new Error(doc?.description || `The API answered ${resp.status}`);
      err.status = resp.status;
      throw err;
    }
    return { doc, etag: resp.headers.get('ETag') };
  }

  // keyFailed handles what any request may meet: a key no longer valid,
  // or too many failed key checks. It reports whether it did.
  function keyFailed(e) {
    if (e.status === 401) {
      sessionStorage.removeItem(STORED_KEY);
      stop();
      app.say('Key rejected: ' + e.message);
      return true;
    }
    if (e.status === 429) {
      app.say('Too many failed key attempts from here; wait a minute and try again.');
      return true;
    }
    return false;
  }

  // ---- Signing in and out ----

  // start checks the key by reading an asset with it: a valid key reads
  // it (or is told it does not reach it, or that there is no such asset).
  async function start() {
    const typed = $('#staff-key').value.trim();
    const k = typed || sessionStorage.getItem(STORED_KEY) || '';
    if (!k) {
      status.textContent = 'Paste a staff key in “Staff key” above first.';
      $('#staff-key').focus();
      return;
    }
    status.textContent = 'Checking the key…';
    const probe = app.assets().find((f) => f.id)?.id || 'none';
    try {
      await request('GET', `${ITEMS}/${encodeURIComponent(probe)}`, { k });
    } catch (e) {
      if (e.status !== 403 && e.status !== 404) {
        keyFailed(e);
        status.textContent = e.status === 401 ? 'Key rejected: ' + e.message : e.message;
        return;
      }
    }
    sessionStorage.setItem(STORED_KEY, k);
    $('#staff-key').value = '';
    $('#staff-key').placeholder = 'key kept for this tab';
    key = k;
    status.textContent = 'Key accepted. Changes are recorded with it; the server refuses those its scopes do not allow, saying why.';
    startButton.hidden = true;
    tools.hidden = false;
    fillPick();
    addButton.focus();
  }

  function stop() {
    closeForm();
    key = '';
    tools.hidden = true;
    startButton.hidden = false;
    status.textContent = 'Add, move, correct or close community assets with a staff key that has assets:write.';
  }

  // ---- The form ----

  function openForm(feature) {
    const p = feature?.properties || {};
    placing = false;
    for (const f of FIELDS) if (f.name !== 'category') inputs.get(f.name).value = p[f.name] ?? '';
    fillCategories(p.category || '');
    note.value = '';
    clearError();
    confirm.hidden = true;
    closeButton.hidden = !current.id;
    moveButton.hidden = !current.id;
    historyBox.hidden = !current.id;
    historyBox.open = false;
    history.replaceChildren();
    title.textContent = current.id ? `Change “${p.name || current.id}”` : 'Add an asset';
    form.hidden = false;
    app.say('');
    form.scrollIntoView({ block: 'start' });
    if (feature) setPosition(feature.geometry.coordinates, false);
    else {
      setPosition(null);
      placing = true;
      map.getContainer().classList.add('register-placing');
    }
    sayWhere();
  }

  function closeForm() {
    form.hidden = true;
    current = null;
    placing = false;
    map.getContainer().classList.remove('register-placing');
    setPosition(null);
  }

  function sayWhere() {
    if (!position) {
      where.textContent = 'Click the map where the asset is, or move the map and use “Put it at the map’s centre”.';
    } else if (placing && current?.id) {
      where.textContent = `At ${position[1].toFixed(5)}, ${position[0].toFixed(5)}. Click the map where it should be (Escape: leave it there).`;
    } else if (!current?.id) {
      where.textContent = `At ${position[1].toFixed(5)}, ${position[0].toFixed(5)} (latitude, longitude). Click elsewhere on the map, or drag the marker, to move it.`;
    } else {
      where.textContent = `At ${position[1].toFixed(5)}, ${position[0].toFixed(5)} (latitude, longitude). Drag the marker to move it.`;
    }
  }

  // setPosition puts the draggable marker at p ([lon, lat]), or removes it.
  function setPosition(p, moved = true) {
    position = p ? [round(p[0]), round(p[1])] : null;
    if (current) current.moved = current.moved || (moved && !!p);
    if (!p) { marker?.remove(); marker = null; return; }
    if (!marker) {
      marker = new maplibregl.Marker({ draggable: true, color: '#d55e00' }).setLngLat(position).addTo(map);
      marker.getElement().classList.add('register-marker');
      marker.getElement().setAttribute('aria-label', 'The asset’s position');
      marker.on('dragend', () => {
        const ll = marker.getLngLat();
        setPosition([ll.lng, ll.lat]);
        sayWhere();
      });
    } else marker.setLngLat(position);
  }

  function clearError() {
    error.hidden = true;
    error.replaceChildren();
    for (const input of [...inputs.values(), note]) { input.removeAttribute('aria-invalid'); input.removeAttribute('aria-describedby'); }
  }

  // showError puts the API's words beside the form, and marks and focuses
  // the field they name ("name: is required…").
  function showError(text) {
    clearError();
    error.replaceChildren(el('strong', { text: 'Not saved. ' }), text);
    error.hidden = false;
    const field = /^([a-z_]+): /.exec(text)?.[1];
    const input = field === 'note' ? note : field === 'category' && inputs.get('category').value === OTHER ? inputs.get('category-other') : inputs.get(field);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', error.id);
      input.focus();
    } else if (field === 'geometry') {
      where.textContent = text;
    }
  }

  function values() {
    const out = {};
    for (const f of FIELDS) out[f.name] = inputs.get(f.name).value.trim();
    if (out.category === OTHER) out.category = inputs.get('category-other').value.trim();
    return out;
  }

  // open reads an asset as staff see it, with its ETag, into the form.
  async function open(id) {
    if (!key) return;
    try {
      const r = await request('GET', `${ITEMS}/${encodeURIComponent(id)}`);
      current = { id, etag: r.etag, feature: r.doc, moved: false };
      openForm(r.doc);
      title.focus();
      app.track(loadHistory(id));
    } catch (e) {
      if (!keyFailed(e)) app.say('Could not open the asset: ' + e.message);
    }
  }

  async function loadHistory(id) {
    try {
      const r = await request('GET', `${ITEMS}/${encodeURIComponent(id)}/history`, { accept: 'application/json' });
      if (current?.id !== id) return;
      history.replaceChildren(...r.doc.versions.map((v) => el('li', {
        text: `${(v.at || '').slice(0, 10)} ${v.action}${v.key_name ? ' by ' + v.key_name : ''}${v.changed?.length ? ' (' + v.changed.join(', ') + ')' : ''}${v.note ? ': ' + v.note : ''}`,
      })));
    } catch (e) {
      history.replaceChildren(el('li', { text: 'The history could not be read: ' + e.message }));
    }
  }

  // save adds the asset (POST) or changes what the form changed (PATCH,
  // a JSON merge patch, with If-Match).
  async function save() {
    if (!current) return;
    clearError();
    const v = values();
    let r;
    try {
      if (!current.id) {
        if (!position) { showError('geometry: the asset has no place yet. Click the map where it is, or use “Put it at the map’s centre”.'); return; }
        r = await request('POST', ITEMS, { note: note.value, type: 'application/geo+json',
          body: { type: 'Feature', geometry: { type: 'Point', coordinates: position }, properties: v } });
      } else {
        const was = current.feature.properties;
        const props = {};
        for (const [k, x] of Object.entries(v)) if (x !== (was[k] ?? '')) props[k] = x === '' ? null : x;
        const patch = {};
        if (Object.keys(props).length) patch.properties = props;
        if (current.moved) patch.geometry = { type: 'Point', coordinates: position };
        r = await request('PATCH', `${ITEMS}/${encodeURIComponent(current.id)}`, { note: note.value, type: 'application/merge-patch+json',
          etag: current.etag, body: patch });
      }
    } catch (e) {
      await refused(e);
      return;
    }
    const added = !current.id;
    const name = r.doc?.properties?.name || v.name;
    closeForm();
    await app.afterChange();
    fillPick();
    app.say(added ? `Added “${name}” (${r.doc.id}): it is on the public map now.` : `Saved “${name}”: the public map shows the change.`, 'info');
    addButton.focus();
  }

  // closeAsset closes the asset (DELETE, with If-Match): it leaves every
  // public output and stays in its history.
  async function closeAsset() {
    if (!current?.id) return;
    clearError();
    const name = current.feature.properties.name || current.id;
    try {
      await request('DELETE', `${ITEMS}/${encodeURIComponent(current.id)}`, { note: note.value, etag: current.etag });
    } catch (e) {
      confirm.hidden = true;
      await refused(e);
      return;
    }
    closeForm();
    await app.afterChange();
    fillPick();
    app.say(`Closed “${name}”: it is off the public map, and stays in the register’s history.`, 'info');
    addButton.focus();
  }

  // refused says why a change was refused; when someone else changed the
  // asset first (412) it reads the asset again, as it is now.
  async function refused(e) {
    if (keyFailed(e)) return;
    if (e.status === 412 && current?.id) {
      const id = current.id;
      const why = note.value;
      try {
        const r = await request('GET', `${ITEMS}/${encodeURIComponent(id)}`);
        current = { id, etag: r.etag, feature: r.doc, moved: false };
        openForm(r.doc);
        note.value = why;
        app.track(loadHistory(id));
      } catch (e2) {
        if (keyFailed(e2)) return;
        showError(e2.message);
        return;
      }
      showError('Someone else changed this asset after you opened it. It is shown again as it is now: check it, and make your change again.');
      return;
    }
    showError(e.message);
  }

  // ---- Wiring ----
  startButton.addEventListener('click', () => app.track(start()));
  stopButton.addEventListener('click', () => { stop(); startButton.focus(); });
  $('#forget-key').addEventListener('click', stop);
  addButton.addEventListener('click', () => {
    current = { id: null, moved: false };
    openForm(null);
    inputs.get('name').focus();
  });
  openButton.addEventListener('click', () => { if (pick.value) app.track(open(pick.value)); });
  moveButton.addEventListener('click', () => {
    placing = true;
    map.getContainer().classList.add('register-placing');
    sayWhere();
  });
  centreButton.addEventListener('click', () => {
    const c = map.getCenter();
    setPosition([c.lng, c.lat]);
    placing = false;
    map.getContainer().classList.remove('register-placing');
    sayWhere();
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); app.track(save()); });
  cancelButton.addEventListener('click', () => { closeForm(); addButton.focus(); });
  closeButton.addEventListener('click', () => {
    confirmText.textContent = `Close “${current.feature.properties.name || current.id}”? It leaves the public map and stays in the register’s history; ` +
      'a closed asset cannot be opened again. Say why above.';
    confirm.hidden = false;
    yesButton.focus();
  });
  noButton.addEventListener('click', () => { confirm.hidden = true; closeButton.focus(); });
  yesButton.addEventListener('click', () => app.track(closeAsset()));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && placing && current?.id) {
      placing = false;
      map.getContainer().classList.remove('register-placing');
      sayWhere();
    }
  });

  // The asset a rendered point is: the nearest of that name.
  function assetAt(f) {
    const [x, y] = f.geometry.coordinates;
    const d = (a) => (a.geometry.coordinates[0] - x) ** 2 + (a.geometry.coordinates[1] - y) ** 2;
    const same = app.assets().filter((a) => a.id && a.properties.name === f.properties.name);
    return same.sort((a, b) => d(a) - d(b))[0];
  }

  return {
    click(e) {
      if (!key) return false;
      if (current && (placing || !current.id)) {
        setPosition([e.lngLat.lng, e.lngLat.lat]);
        if (current.id) {
          placing = false;
          map.getContainer().classList.remove('register-placing');
        }
        sayWhere();
        return true;
      }
      const layer = `pt-${LAYER}`;
      if (!map.getLayer(layer) || map.getLayoutProperty(layer, 'visibility') === 'none') return false;
      const hit = map.queryRenderedFeatures(e.point, { layers: [layer] })[0];
      const asset = hit && assetAt(hit);
      if (!asset) return false;
      app.track(open(asset.id));
      return true;
    },
  };
}
