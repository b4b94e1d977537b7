// Colour classes for the map: how a value becomes a colour, and the legend
// that says so. Four kinds, chosen from what a value is:
// - decile: an integer field of deciles, ten categories 1 to 10 on a
//   diverging red–blue palette (1 and 10 at the ends);
// - change: an integer change (of deciles, say), seven diverging classes
//   from "−3 or less" to "+3 or more", grey for no change;
// - rank: any other integer ranking, ten quantile classes, whole numbers;
// - quantile: everything else, five quantile classes on viridis.
// Palettes are colour-blind safe (ColorBrewer RdYlBu and RdBu, viridis).
import { fmt } from './format.js';

export const NODATA = '#d9d9d9';
const VIRIDIS5 = ['#fde725', '#5ec962', '#21918c', '#3b528b', '#440154'];
const VIRIDIS10 = ['#fde725', '#b5de2b', '#6ece58', '#35b779', '#1f9e89', '#26828e', '#31688e', '#3e4989', '#482878', '#440154'];
const RDYLBU10 = ['#a50026', '#d73027', '#f46d43', '#fdae61', '#fee090', '#e0f3f8', '#abd9e9', '#74add1', '#4575b4', '#313695'];
const RDBU7 = ['#b2182b', '#ef8a62', '#fddbc7', '#f0f0f0', '#d1e5f0', '#67a9cf', '#2166ac'];

// kindOf says which kind of classes fit a value: from its name and
// description (as the API words them), whether it is an integer field, and
// the values themselves.
export function kindOf({ id, description = '', integer = false }, values) {
  // context (the layer's description) is not read here: it speaks of every field.
  const words = `${id} ${description}`.toLowerCase();
  const nums = values.filter((v) => v !== null && v !== undefined && Number.isFinite(Number(v))).map(Number);
  const whole = integer || (nums.length > 0 && nums.every(Number.isInteger));
  if (whole && /change/.test(words)) return 'change';
  if (whole && /decile/.test(words) && nums.every((v) => v >= 1 && v <= 10)) return 'decile';
  if (whole && /\brank|_rank|ranking/.test(words)) return 'rank';
  return 'quantile';
}

// quantiles are the n-1 class breaks of n quantile classes of the values.
function quantiles(nums, n) {
  const v = [...nums].sort((a, b) => a - b);
  if (!v.length) return [];
  const out = [];
  for (let i = 1; i < n; i++) out.push(v[Math.min(v.length - 1, Math.floor((i / n) * v.length))]);
  return out;
}

// ends reads "1 = most deprived" from a description: the words for the
// two ends of a decile scale.
function ends(description) {
  const m = /\b1\s*=\s*(most|least|lowest|highest)\s+([a-z]+)/i.exec(description || '');
  if (!m) return ['', ''];
  const opposite = { most: 'least', least: 'most', lowest: 'highest', highest: 'lowest' }[m[1].toLowerCase()];
  return [`${m[1].toLowerCase()} ${m[2]}`, `${opposite} ${m[2]}`];
}

// classify makes the classes of a value: { kind, classes: [{label, colour,
// test(v)}], scale } where scale maps a value to its class index (-1 for
// none). unit is count, percent, rate, integer or ''.
export function classify(info, values, unit) {
  const nums = values.filter((v) => v !== null && v !== undefined && Number.isFinite(Number(v))).map(Number);
  const kind = kindOf(info, values);
  const f = (v) => fmt(v, unit || (nums.every(Number.isInteger) ? 'integer' : ''));
  if (kind === 'decile') {
    let [lo, hi] = ends(info.description);
    if (!lo) [lo, hi] = ends(info.context);
    const classes = RDYLBU10.map((colour, i) => ({
      label: String(i + 1) + (i === 0 && lo ? ` (${lo})` : i === 9 && hi ? ` (${hi})` : ''),
      colour, value: i + 1,
    }));
    return { kind, classes, scale: (v) => (Number.isInteger(Number(v)) && v >= 1 && v <= 10 ? Number(v) - 1 : -1) };
  }
  if (kind === 'change') {
    const labels = ['−3 or less', '−2', '−1', '0 (no change)', '+1', '+2', '+3 or more'];
    const classes = RDBU7.map((colour, i) => ({ label: labels[i], colour }));
    return { kind, classes, breaks: [-2, -1, 0, 1, 2, 3], scale: (v) => Math.max(0, Math.min(6, Math.round(Number(v)) + 3)) };
  }
  const n = kind === 'rank' ? 10 : 5;
  const pal = kind === 'rank' ? VIRIDIS10 : VIRIDIS5;
  // Breaks of whole-number data are whole, so no label shows a decimal.
  let breaks = quantiles(nums, n);
  if (unit === 'count' || kind === 'rank' || nums.every(Number.isInteger)) breaks = breaks.map(Math.round);
  // No class below the smallest value, none twice.
  const least = Math.min(...nums);
  breaks = breaks.filter((b, i) => b > least && (i === 0 || b > breaks[i - 1]));
  const classes = [];
  const edges = [null, ...breaks, null];
  for (let i = 0; i + 1 < edges.length; i++) {
    const lo = edges[i], hi = edges[i + 1];
    let label;
    if (lo === null && hi === null) label = nums.length ? `all ${f(nums[0])}` : 'no values';
    else if (lo === null) label = `under ${f(hi)}`;
    else if (hi === null) label = `${f(lo)} and above`;
    else label = `${f(lo)} to under ${f(hi)}`;
    // Spread the used colours over the palette's whole range.
    const colour = pal[edges.length === 2 ? pal.length - 1 : Math.round((i * (pal.length - 1)) / (edges.length - 2))];
    classes.push({ label, colour });
  }
  const scale = (v) => {
    let i = 0;
    while (i < breaks.length && Number(v) >= breaks[i]) i++;
    return i;
  };
  return { kind, classes, breaks, scale };
}

// tileExpression colours features by their property prop.
export function tileExpression(c, prop) {
  const value = ['get', prop];
  let expr;
  if (c.kind === 'decile') {
    expr = ['match', ['to-number', value]];
    c.classes.forEach((k) => expr.push(k.value, k.colour));
    expr.push(NODATA);
  } else {
    expr = ['step', ['to-number', value], c.classes[0].colour];
    c.breaks.forEach((b, i) => expr.push(b, c.classes[i + 1].colour));
  }
  return ['case', ['==', ['typeof', value], 'number'], expr, NODATA];
}

// codeExpression colours features by a value looked up by their code.
export function codeExpression(c, valueByCode) {
  const groups = c.classes.map(() => []);
  for (const [code, v] of valueByCode) {
    if (v === null || v === undefined) continue;
    const i = c.scale(v);
    if (i >= 0) groups[i].push(code);
  }
  const expr = ['match', ['get', 'code']];
  groups.forEach((codes, i) => { if (codes.length) expr.push(codes, c.classes[i].colour); });
  if (expr.length === 2) return NODATA;
  expr.push(NODATA);
  return expr;
}

// counts is how many of the values fall in each class, and how many have none.
export function counts(c, values) {
  const n = c.classes.map(() => 0);
  let none = 0;
  for (const v of values) {
    const i = v === null || v === undefined || !Number.isFinite(Number(v)) ? -1 : c.scale(v);
    if (i < 0) none++; else n[i]++;
  }
  return { n, none };
}
