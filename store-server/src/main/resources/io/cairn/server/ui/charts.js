'use strict';
// SVG charts for the dashboard, drawn by hand: no chart library, nothing fetched at run time.
// Every text is set with textContent, never parsed as markup.
const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // 99.98% is not 100%: only an exact match says so.
  function pct(f) { return f >= 1 ? '100%' : f >= 0.995 ? '>99%' : Math.round(f * 100) + '%'; }

  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }

  // White to teal by fraction f in [0, 1].
  function shade(f) {
    const a = [247, 250, 252], b = [15, 118, 110];
    const c = a.map((x, i) => Math.round(x + (b[i] - x) * Math.max(0, Math.min(1, f))));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  /** labels[i], matrix[i][j] bytes shared, base[i] the row's distinct bytes; fmt formats bytes. */
  function heatmap(container, labels, matrix, base, fmt) {
    container.replaceChildren();
    const n = labels.length;
    if (n < 2) {
      container.append(Object.assign(document.createElement('p'), {className: 'empty', textContent: 'Needs two or more image versions.'}));
      return;
    }
    const cell = Math.max(54, Math.min(96, Math.floor(560 / n)));
    const left = 180, top = 130;
    // Room on the right for the last column's slanted label.
    const w = left + n * cell + 110, h = top + n * cell + 10;
    const s = svg('svg', {width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': 'Bytes shared between image versions', id: 'heatmap-svg'});
    for (let i = 0; i < n; i++) {
      s.append(svg('text', {x: left - 8, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'end', 'font-size': 12, fill: '#1d2430'}, clip(labels[i], 24)));
      const tx = left + i * cell + cell / 2, ty = top - 8;
      s.append(svg('text', {x: tx, y: ty, 'text-anchor': 'start', 'font-size': 12, fill: '#1d2430', transform: `rotate(-40 ${tx} ${ty})`}, clip(labels[i], 24)));
      for (let j = 0; j < n; j++) {
        const v = matrix[i][j];
        const f = base[i] > 0 ? v / base[i] : 0;
        const g = svg('g', {class: 'cell', 'data-row': i, 'data-col': j, 'data-bytes': v});
        g.append(svg('rect', {x: left + j * cell, y: top + i * cell, width: cell - 2, height: cell - 2, rx: 3,
          fill: i === j ? '#e3e7ed' : shade(f), stroke: '#d9dee6'}));
        const dark = i !== j && f > 0.55;
        g.append(svg('text', {x: left + j * cell + cell / 2 - 1, y: top + i * cell + cell / 2 - 2, 'text-anchor': 'middle', 'font-size': 11.5,
          fill: dark ? '#fff' : '#1d2430'}, i === j ? 'itself' : fmt(v)));
        if (i !== j) {
          g.append(svg('text', {x: left + j * cell + cell / 2 - 1, y: top + i * cell + cell / 2 + 12, 'text-anchor': 'middle', 'font-size': 10.5,
            fill: dark ? '#e6f4f1' : '#5b6575'}, pct(f)));
        }
        g.append(svg('title', {}, `${labels[i]} and ${labels[j]} share ${fmt(v)} (${v.toLocaleString('en-US')} bytes)`));
        s.append(g);
      }
    }
    container.append(s);
  }

  /** nodes: [{id, label, sub}], edges: [{from, to, label}]: a top-down tree (a forest). */
  function lineage(container, nodes, edges) {
    container.replaceChildren();
    if (nodes.length === 0) {
      container.append(Object.assign(document.createElement('p'), {className: 'empty', textContent: 'No image versions.'}));
      return;
    }
    const parent = new Map(edges.map(e => [e.to, e]));
    const depth = new Map();
    const depthOf = id => {
      if (depth.has(id)) return depth.get(id);
      const e = parent.get(id);
      const d = e ? depthOf(e.from) + 1 : 0;
      depth.set(id, d);
      return d;
    };
    nodes.forEach(n => depthOf(n.id));
    const rows = [];
    nodes.forEach(n => { const d = depth.get(n.id); (rows[d] = rows[d] || []).push(n); });
    const boxW = 170, boxH = 44, gapX = 26, gapY = 70;
    const widest = Math.max(...rows.map(r => r.length));
    const w = Math.max(360, widest * (boxW + gapX) + gapX), h = rows.length * (boxH + gapY) + 10;
    const s = svg('svg', {width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': 'Which image versions derive from which', id: 'lineage-svg'});
    const defs = svg('defs');
    const marker = svg('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'});
    marker.append(svg('path', {d: 'M 0 0 L 10 5 L 0 10 z', fill: '#5b6575'}));
    defs.append(marker);
    s.append(defs);
    const pos = new Map();
    rows.forEach((row, d) => {
      const offset = (w - row.length * (boxW + gapX) + gapX) / 2;
      row.forEach((n, i) => pos.set(n.id, {x: offset + i * (boxW + gapX), y: 6 + d * (boxH + gapY)}));
    });
    for (const e of edges) {
      const a = pos.get(e.from), b = pos.get(e.to);
      if (!a || !b) continue;
      const x1 = a.x + boxW / 2, y1 = a.y + boxH, x2 = b.x + boxW / 2, y2 = b.y - 2;
      const g = svg('g', {class: 'edge', 'data-from': e.from, 'data-to': e.to});
      g.append(svg('path', {d: `M ${x1} ${y1} C ${x1} ${y1 + 30}, ${x2} ${y2 - 30}, ${x2} ${y2}`, fill: 'none', stroke: '#5b6575', 'stroke-width': 1.5, 'marker-end': 'url(#arrow)'}));
      g.append(svg('text', {x: (x1 + x2) / 2 + 6, y: (y1 + y2) / 2 + 4, 'font-size': 11, fill: '#5b6575'}, e.label));
      s.append(g);
    }
    for (const n of nodes) {
      const p = pos.get(n.id);
      const g = svg('g', {class: 'node', 'data-id': n.id});
      g.append(svg('rect', {x: p.x, y: p.y, width: boxW, height: boxH, rx: 6, fill: n.private ? '#fdf0e6' : '#e6f4f1', stroke: n.private ? '#e0b58a' : '#8cc9c1'}));
      g.append(svg('text', {x: p.x + boxW / 2, y: p.y + 18, 'text-anchor': 'middle', 'font-size': 12.5, 'font-weight': 600, fill: '#1d2430'}, clip(n.label, 24)));
      g.append(svg('text', {x: p.x + boxW / 2, y: p.y + 34, 'text-anchor': 'middle', 'font-size': 11, fill: '#5b6575'}, n.sub));
      g.append(svg('title', {}, n.title || n.label));
      s.append(g);
    }
    container.append(s);
  }

  /** points: [[unixSeconds, value]]; a small line chart with its first, last and largest value. */
  function line(container, title, points, fmt) {
    const w = 420, h = 150, l = 70, r = 10, t = 24, b = 24;
    const s = svg('svg', {width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': title});
    s.append(svg('text', {x: l, y: 15, 'font-size': 12.5, 'font-weight': 600, fill: '#1d2430'}, title));
    if (!points.length) {
      s.append(svg('text', {x: l, y: 70, 'font-size': 12, fill: '#5b6575'}, 'no samples in the last hour'));
      container.append(s);
      return;
    }
    const xs = points.map(p => p[0]), ys = points.map(p => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs), ymax = Math.max(...ys, 0) || 1;
    const X = x => l + (x1 === x0 ? 0 : (x - x0) / (x1 - x0)) * (w - l - r);
    const Y = y => t + (1 - y / ymax) * (h - t - b);
    s.append(svg('line', {x1: l, y1: h - b, x2: w - r, y2: h - b, stroke: '#d9dee6'}));
    s.append(svg('text', {x: l - 6, y: t + 4, 'text-anchor': 'end', 'font-size': 10.5, fill: '#5b6575'}, fmt(ymax)));
    s.append(svg('text', {x: l - 6, y: h - b + 4, 'text-anchor': 'end', 'font-size': 10.5, fill: '#5b6575'}, fmt(0)));
    s.append(svg('text', {x: l, y: h - 6, 'font-size': 10.5, fill: '#5b6575'}, new Date(x0 * 1000).toLocaleTimeString()));
    s.append(svg('text', {x: w - r, y: h - 6, 'text-anchor': 'end', 'font-size': 10.5, fill: '#5b6575'}, new Date(x1 * 1000).toLocaleTimeString()));
    s.append(svg('polyline', {points: points.map(p => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' '), fill: 'none', stroke: '#0f766e', 'stroke-width': 1.8}));
    // The latest sample, marked and written out: a series of one sample still shows its value.
    const last = points[points.length - 1];
    s.append(svg('circle', {cx: X(last[0]).toFixed(1), cy: Y(last[1]).toFixed(1), r: 3, fill: '#0f766e'}));
    s.append(svg('text', {x: w - r, y: 15, 'text-anchor': 'end', 'font-size': 11.5, fill: '#0f766e', class: 'latest'}, 'now ' + fmt(last[1])));
    container.append(s);
  }

  return {heatmap, lineage, line};
})();
