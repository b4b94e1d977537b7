// A neighbourhood's profile as the map shows it: every indicator the API
// gives, in its order and groups, with its value and rank here, each
// comparator the profile has (the borough, region, combined authority,
// England), headed by what it is in words, and its trend where it has
// more than one vintage.
import { el } from './dom.js';
import { fmt, fmtAverage, fmtChange, labelCase } from './format.js';

// Comparator columns in order: the key in comparators, and in each indicator.
const SCOPES = [['borough', 'borough'], ['region', 'region'], ['cauth', 'combined_authority'], ['england', 'england']];

function trendText(ind) {
  const pts = (ind.trend?.values || []).filter((p) => p.value !== null && p.value !== undefined);
  if (pts.length < 2) return '';
  const first = pts[0], last = pts[pts.length - 1];
  const change = ind.trend.change !== null && ind.trend.change !== undefined ? ` (${fmtChange(ind.trend.change, ind.unit)})` : '';
  return `${first.vintage} → ${last.vintage}: ${fmt(first.value, ind.unit)} → ${fmt(last.value, ind.unit)}${change}`;
}

// profileRow is one indicator: its value (and rank) here, then each
// comparator's, the first with a bar of the index (100 = the same).
function profileRow(ind, scopes) {
  const value = ind.suppressed ? 'withheld' : fmt(ind.value, ind.unit);
  const trend = trendText(ind);
  const tag = ind.source ? el('span', { class: 'tag ' + ind.source, text: ind.source }) : null;
  const rank = ind.rank ? el('span', { class: 'rank', text: `${ind.rank} of ${ind.of}` }) : null;
  return el('tr', { 'data-indicator': ind.id, 'data-unit': ind.unit, title: ind.description },
    el('th', { scope: 'row' }, ind.label, tag ? ' ' : null, tag, trend ? el('span', { class: 'trend', text: trend }) : null),
    el('td', { class: 'num', 'data-scope': 'here' }, el('span', { class: 'value', text: value }), rank),
    ...scopes.map(([key, field], i) => {
      const c = ind[field] || {};
      const cell = el('td', { class: 'num', 'data-scope': key }, el('span', { class: 'value', text: c.suppressed ? 'withheld' : fmtAverage(c.value, ind.unit) }));
      if (i === 0 && c.index !== null && c.index !== undefined) {
        cell.append(el('div', { class: 'barchart', role: 'img', 'aria-label': `index ${fmt(c.index)}: here is ${fmt(c.index)} where this is 100` },
          el('span', { style: `width:${Math.min(100, c.index / 2)}%` }), el('i', { style: 'left:50%' })));
      }
      return cell;
    }));
}

// profileTable is the profile as one table: a row group per indicator
// group, and a column per comparator, headed by what it is in words.
function profileTable(groups, p, scopes) {
  const head = el('tr', {}, el('th', { scope: 'col', text: 'Indicator' }), el('th', { scope: 'col', class: 'num', text: 'Here (rank)' }),
    ...scopes.map(([key]) => el('th', { scope: 'col', class: 'num', 'data-scope': key, text: p.comparators[key].label })));
  const width = 2 + scopes.length;
  return el('table', { class: 'ind', id: 'profile-table' }, el('thead', {}, head),
    ...groups.map((g) => el('tbody', {}, el('tr', { class: 'group' }, el('th', { scope: 'rowgroup', colspan: String(width), text: labelCase(g.id) })),
      ...g.inds.map((i) => profileRow(i, scopes)))));
}

// ways lists how the profile's figures were made (recorded or estimated,
// method, period), each once.
function ways(p) {
  const seen = new Map();
  for (const i of p.indicators) {
    if (!i.source && !i.method) continue;
    const k = `${i.source}|${i.method}|${i.period}`;
    if (!seen.has(k)) seen.set(k, []);
    seen.get(k).push(i.label);
  }
  return [...seen].map(([k, labels]) => {
    const [source, method, period] = k.split('|');
    return `${labelCase(source || 'source')}: ${labels.join(', ')}. ${method}${period ? ` (${period})` : ''}.`;
  });
}

const pct = (v) => (v === null || v === undefined ? null : fmt(100 * v, 'percent'));

// profileNodes is the profile panel's content; csv is the profile's CSV.
export function profileNodes(p, csv) {
  const scopes = SCOPES.filter(([key]) => p.comparators?.[key]);
  const groups = [];
  for (const ind of p.indicators) {
    let g = groups.find((x) => x.id === ind.group);
    if (!g) groups.push(g = { id: ind.group, inds: [] });
    g.inds.push(ind);
  }
  const headline = p.indicators.find((i) => i.unit === 'count' && i.value !== null);
  const shares = [pct(p.geography?.official_area_share) && `${pct(p.geography.official_area_share)} of the official boundary's area`,
    pct(p.geography?.official_population_share) && `${pct(p.geography.official_population_share)} of its postcodes`].filter(Boolean);
  const about = el('details', { class: 'about' }, el('summary', { text: 'What the columns compare' }),
    el('dl', {}, ...scopes.flatMap(([key]) => {
      const c = p.comparators[key];
      return [el('dt', { text: c.label }), el('dd', { text: [c.counts, c.rates, c.coverage && `Coverage: ${c.coverage}.`].filter(Boolean).join('; ') })];
    })));
  const kids = [
    el('h2', { id: 'profile-name', text: p.name }),
    el('p', { class: 'hint', text: [p.code, p.borough?.name, headline && `${headline.label.toLowerCase()} ${fmt(headline.value, 'count')}`].filter(Boolean).join(' · ') }),
    p.worst_domain ? el('p', { class: 'hint', text: `Most deprived domain: ${labelCase(p.worst_domain).toLowerCase()}.` }) : null,
    el('p', { class: 'hint', text: `Drawn as ${p.geography?.drawn_as || 'its small areas'}.` +
      (shares.length ? ` Its small areas cover ${shares.join(' and ')}.` : '') }),
    el('p', { class: 'hint', text: `Bars under the ${scopes[0] ? p.comparators[scopes[0][0]].label : 'borough'} figures compare here with it: the red line is 100, the same.` }),
    about,
    profileTable(groups, p, scopes),
    ...ways(p).map((t) => el('p', { class: 'hint note', text: t })),
    el('p', { class: 'hint', text: 'Counts are whole numbers: an average neighbourhood\'s count is rounded, and one below ½ shows as <1.' }),
    el('p', {}, el('a', { href: csv, download: '', text: 'Download this profile (CSV)' })),
    el('div', { id: 'outreach' }),
  ];
  return kids.filter(Boolean);
}
