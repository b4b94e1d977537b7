// The legend: one row per colour class with how many areas it holds, the
// areas without a value, and how the values were made.
import { el } from './dom.js';
import { fmt, labelCase } from './format.js';
import { NODATA, counts } from './classes.js';

// methodNotes says how the neighbourhoods' values were made, where the
// API says (recorded or estimated, the method and the period).
export function methodNotes(values, unit) {
  const ways = new Map();
  for (const v of values) {
    if (!v.source) continue;
    const k = `${v.source}|${v.method}|${v.period}`;
    ways.set(k, (ways.get(k) || 0) + 1);
  }
  const out = [...ways].map(([k, n]) => {
    const [source, method, period] = k.split('|');
    return `${labelCase(source)} for ${fmt(n, 'count')} of ${fmt(values.length, 'count')}: ${method}${period ? ` (${period})` : ''}.`;
  });
  if (unit === 'count') out.push('Counts are whole numbers; estimates are rounded to whole numbers too.');
  if (values.some((v) => v.suppressed)) out.push('Withheld: recorded counts too small to publish.');
  return out;
}

// renderLegend shows the colour classes of choice c (its label and
// description) over values, what they are of (where), and notes.
export function renderLegend(lg, where, c, classes, values = [], notes = []) {
  if (!c) { lg.replaceChildren(el('p', { class: 'hint', text: 'Nothing to colour by.' })); return; }
  const n = counts(classes, values);
  const list = el('ul', { class: 'legend-classes', 'aria-label': 'Legend: ' + c.label, 'data-kind': classes.kind });
  classes.classes.forEach((k, i) => list.append(el('li', { class: 'legend-row', 'data-class': String(i) },
    el('span', { class: 'swatch', style: `background:${k.colour}` }), el('span', { text: k.label }),
    el('span', { class: 'n', text: values.length ? ` (${fmt(n.n[i], 'count')})` : '' }))));
  list.append(el('li', { class: 'legend-row nodata' }, el('span', { class: 'swatch', style: `background:${NODATA}` }),
    el('span', { text: 'withheld or no data' }), el('span', { class: 'n', text: values.length ? ` (${fmt(n.none, 'count')})` : '' })));
  const kindWords = { decile: 'deciles', change: 'moved up or down', rank: 'tenths of the areas shown', quantile: 'fifths of the areas shown' };
  lg.replaceChildren(...[
    el('p', { class: 'legend-title', text: c.label }),
    el('p', { class: 'hint', text: `${where}, ${kindWords[classes.kind]}` }),
    c.description && c.description !== c.label ? el('p', { class: 'hint', text: c.description }) : null,
    list,
    ...notes.map((t) => el('p', { class: 'hint note', text: t }))].filter(Boolean));
}

