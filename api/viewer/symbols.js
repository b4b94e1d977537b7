// Point symbols: each point layer has its own shape, and each layer (or,
// for a layer with categories, each category) its own colour, so no two
// kinds of point look alike on the map or in the layer list. The same
// drawing makes the map's icons and the legend's symbols.

// Distinct, colour-blind-safe colours: Okabe–Ito, then Paul Tol's muted
// and dark sets.
export const POINT_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#882255',
  '#332288', '#999933', '#117733', '#AA4499', '#44AA99', '#661100', '#6699CC', '#888888'];
export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'pentagon', 'hexagon', 'star'];

function polygon(ctx, cx, cy, r, sides, rotate = -Math.PI / 2) {
  ctx.beginPath();
  for (let i = 0; i < sides; i++) {
    const a = rotate + (i * 2 * Math.PI) / sides;
    ctx[i ? 'lineTo' : 'moveTo'](cx + r * Math.cos(a), cy + r * Math.sin(a));
  }
  ctx.closePath();
}

// draw paints a shape in a size×size square of a 2D context.
export function draw(ctx, shape, colour, size) {
  const c = size / 2;
  const r = size / 2 - Math.max(1.5, size / 10);
  ctx.clearRect(0, 0, size, size);
  switch (shape) {
    case 'square': ctx.beginPath(); ctx.rect(c - r * 0.82, c - r * 0.82, r * 1.64, r * 1.64); break;
    case 'triangle': polygon(ctx, c, c + r * 0.15, r * 1.05, 3); break;
    case 'diamond': polygon(ctx, c, c, r, 4); break;
    case 'pentagon': polygon(ctx, c, c, r, 5); break;
    case 'hexagon': polygon(ctx, c, c, r, 6); break;
    case 'star': {
      ctx.beginPath();
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 ? r * 0.45 : r;
        ctx[i ? 'lineTo' : 'moveTo'](c + rr * Math.cos(a), c + rr * Math.sin(a));
      }
      ctx.closePath();
      break;
    }
    default: ctx.beginPath(); ctx.arc(c, c, r * 0.85, 0, 2 * Math.PI);
  }
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.lineWidth = Math.max(1, size / 12);
  ctx.strokeStyle = '#ffffff';
  ctx.stroke();
}

// image is a symbol as MapLibre's addImage takes it.
export function image(shape, colour, size = 36) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d');
  draw(ctx, shape, colour, size);
  return { width: size, height: size, data: new Uint8Array(ctx.getImageData(0, 0, size, size).data.buffer) };
}

// swatch is a symbol for the layer list, drawn at twice its shown size.
export function swatch(shape, colour) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 28;
  canvas.className = 'symbol';
  canvas.setAttribute('aria-hidden', 'true');
  draw(canvas.getContext('2d'), shape, colour, 28);
  canvas.dataset.shape = shape;
  canvas.dataset.colour = colour;
  return canvas;
}
