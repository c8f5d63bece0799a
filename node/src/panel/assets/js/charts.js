/* Capstan panel — charts.js
 * Small dependency-free SVG charts: a line chart over the history samples (with min/max
 * and time-span labels and an aria-label summarising the latest value) and a horizontal
 * usage bar (allocatable vs requested vs used). Colours come from CSS classes.
 * Defines Capstan.charts. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { svg, h, duration } = C.ui;

  const W = 320;
  const H = 130;
  const PAD = { left: 6, right: 6, top: 20, bottom: 22 };

  /**
   * line({title, samples, value: sample → number, format: number → string, cls})
   * → <figure> holding an SVG line chart of value(sample) over sample.t.
   */
  function line({ title, samples, value, format, cls }) {
    const pts = [];
    for (const s of samples || []) {
      const t = Date.parse(s && s.t);
      const v = Number(value(s));
      if (Number.isFinite(t) && Number.isFinite(v)) pts.push([t, v]);
    }
    const latest = pts.length ? pts[pts.length - 1][1] : null;
    const kids = [svg('title', null, title)];
    let label;

    if (pts.length < 2) {
      label = latest === null ? `${title}: no data yet` : `${title}: ${format(latest)} (latest)`;
      kids.push(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'chart-label' },
        latest === null ? 'Waiting for samples…' : `${format(latest)} — collecting history…`));
    } else {
      const t0 = pts[0][0];
      const t1 = pts[pts.length - 1][0];
      let lo = Infinity;
      let hi = -Infinity;
      for (const [, v] of pts) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const span = hi - lo || Math.max(Math.abs(hi) * 0.1, 1);
      const x = (t) => PAD.left + ((t - t0) / (t1 - t0 || 1)) * (W - PAD.left - PAD.right);
      const y = (v) => H - PAD.bottom - ((v - (hi === lo ? lo - span / 2 : lo)) / span) * (H - PAD.top - PAD.bottom);
      const d = pts.map(([t, v], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      const base = H - PAD.bottom;
      const area = `${d} L${x(t1).toFixed(1)},${base} L${x(t0).toFixed(1)},${base} Z`;
      const spanText = duration(t1 - t0);
      label = `${title}: latest ${format(latest)}; min ${format(lo)}, max ${format(hi)} over the last ${spanText}`;
      kids.push(
        svg('line', { x1: PAD.left, x2: W - PAD.right, y1: PAD.top, y2: PAD.top, class: 'chart-grid' }),
        svg('line', { x1: PAD.left, x2: W - PAD.right, y1: base, y2: base, class: 'chart-axis' }),
        svg('path', { d: area, class: 'chart-area' }),
        svg('path', { d, class: 'chart-line' }),
        svg('circle', { cx: x(t1).toFixed(1), cy: y(latest).toFixed(1), r: 3, class: 'chart-dot' }),
        svg('text', { x: PAD.left, y: PAD.top - 6, class: 'chart-label' }, `max ${format(hi)}`),
        svg('text', { x: W - PAD.right, y: PAD.top - 6, 'text-anchor': 'end', class: 'chart-label chart-latest' }, `now ${format(latest)}`),
        svg('text', { x: PAD.left, y: base - 4, class: 'chart-label' }, `min ${format(lo)}`),
        svg('text', { x: PAD.left, y: H - 6, class: 'chart-label' }, `−${spanText}`),
        svg('text', { x: W - PAD.right, y: H - 6, 'text-anchor': 'end', class: 'chart-label' }, 'now'),
      );
    }

    return h('figure', { class: ['chart', cls] },
      h('figcaption', null, title),
      svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'chart-svg' }, kids));
  }

  const pct = (part, whole) => (whole > 0 ? Math.round((part / whole) * 100) : 0);
  const frac = (part, whole) => (whole > 0 ? Math.max(0, Math.min(1, part / whole)) : 0);

  /**
   * bar({what, allocatable, requested, used, format}) → SVG bar: the track is allocatable,
   * the wide fill is requested, the thin inner fill is used (null: not measured).
   */
  function bar({ what, allocatable, requested, used, format }) {
    const BW = 200;
    const usedText = used === null || used === undefined ? 'usage not measured yet' : `used ${format(used)} (${pct(used, allocatable)}%)`;
    const label = `${what}: requested ${format(requested)} (${pct(requested, allocatable)}%), ${usedText}, of ${format(allocatable)} allocatable`;
    return svg('svg', { viewBox: `0 0 ${BW} 16`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label, class: 'bar' },
      svg('title', null, label),
      svg('rect', { x: 0, y: 0, width: BW, height: 16, rx: 3, class: 'bar-track' }),
      svg('rect', { x: 0, y: 0, width: (frac(requested, allocatable) * BW).toFixed(1), height: 16, rx: 3, class: 'bar-requested' }),
      used === null || used === undefined ? null
        : svg('rect', { x: 0, y: 5, width: (frac(used, allocatable) * BW).toFixed(1), height: 6, class: 'bar-used' }));
  }

  C.charts = { line, bar, pct };
})();
