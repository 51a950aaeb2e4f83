/**
 * A key's requests per period as stacked bars by outcome, drawn as SVG elements (colours come
 * from the stylesheet's classes: the CSP allows no inline style).
 */
import { h, s } from './dom.js';
import { OUTCOMES, OUTCOME_LABELS, type Counts, type Usage } from './types.js';

const WIDTH = 760;
const HEIGHT = 220;
const PAD = { left: 44, right: 8, top: 10, bottom: 24 };

const total = (c: Counts) => OUTCOMES.reduce((n, o) => n + c[o], 0);

function label(iso: string, granularity: Usage['granularity']): string {
  const d = new Date(iso);
  if (granularity === 'day') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** The chart of a usage answer, with its legend. */
export function usageChart(usage: Usage): HTMLElement {
  const max = Math.max(1, ...usage.items.map(total));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, usage.items.length);
  const barW = Math.max(1, step * 0.8);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;

  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart',
    role: 'img',
    'aria-label': `requests per ${usage.granularity} by outcome`,
  });
  for (const v of [0, max / 2, max]) {
    svg.append(
      s('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, Number.isInteger(v) ? v : v.toFixed(1)),
    );
  }
  usage.items.forEach((item, i) => {
    const x = PAD.left + i * step + (step - barW) / 2;
    const group = s('g', { class: 'bar', 'data-at': item.at });
    const parts = OUTCOMES.filter((o) => item[o] > 0).map((o) => `${OUTCOME_LABELS[o]} ${item[o]}`);
    group.append(s('title', {}, `${new Date(item.at).toLocaleString()}: ${parts.join(', ') || 'no requests'}`));
    let base = 0;
    for (const outcome of OUTCOMES) {
      const n = item[outcome];
      if (n <= 0) continue;
      group.append(s('rect', { x, width: barW, y: y(base + n), height: y(base) - y(base + n), class: `o-${outcome}`, 'data-outcome': outcome, 'data-count': n }));
      base += n;
    }
    svg.append(group);
  });
  const ticks = new Set([0, Math.floor((usage.items.length - 1) / 2), usage.items.length - 1]);
  for (const i of ticks) {
    const item = usage.items[i];
    if (!item) continue;
    svg.append(s('text', { x: PAD.left + i * step + step / 2, y: HEIGHT - 6, class: 'axis', 'text-anchor': 'middle' }, label(item.at, usage.granularity)));
  }
  const legend = h('ul', { class: 'legend' }, ...OUTCOMES.map((o) => h('li', {}, h('span', { class: `swatch o-${o}` }), OUTCOME_LABELS[o])));
  return h('figure', { class: 'usage-chart' }, svg, legend);
}
