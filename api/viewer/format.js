// Numbers as the map shows them. Counts are whole numbers everywhere
// (people and places come whole; an average neighbourhood's count is
// rounded too, and one below 1 is "<1"), percentages have one decimal,
// rates two.

const grouped = (n, digits) => n.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

// fmt formats an indicator's value by its unit: count, percent or rate.
export function fmt(v, unit) {
  if (v === null || v === undefined || v === '') return '–';
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  switch (unit) {
    case 'count': return grouped(Math.round(n), 0);
    case 'percent': return grouped(n, 1) + '%';
    case 'rate': return grouped(n, 2);
    case 'integer': return grouped(Math.round(n), 0);
    default: return grouped(n, Number.isInteger(n) ? 0 : 2);
  }
}

// fmtAverage formats a comparator: for counts, the area's average
// neighbourhood, rounded to whole people or places.
export function fmtAverage(v, unit) {
  if (unit === 'count' && v !== null && v !== undefined && Number(v) > 0 && Number(v) < 0.5) return '<1';
  return fmt(v, unit);
}

// fmtChange formats a difference: percentage points for percentages.
export function fmtChange(v, unit) {
  if (v === null || v === undefined) return '';
  const n = Number(v);
  const sign = n > 0 ? '+' : n < 0 ? '−' : '±';
  const body = unit === 'percent' ? grouped(Math.abs(n), 1) + (Math.abs(n) === 1 ? ' point' : ' points') : fmt(Math.abs(n), unit);
  return sign + body;
}

// labelCase turns an id (food_bank, gp-practices) into words.
export function labelCase(s) {
  return String(s).replace(/[_-]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}
