// A small hand-drawn SVG chart: stacked panels sharing one time axis, no library.
"use strict";
const Chart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }
  // rows: [{ts, ...}], panels: [{key, label, color, min?, max?, scale?}], fmt: ts -> text
  function draw(container, rows, panels, fmt) {
    container.innerHTML = "";
    const W = 900, PH = 120, L = 56, R = 12, GAP = 28;
    const H = panels.length * (PH + GAP) + 20;
    const svg = el("svg", {viewBox: `0 0 ${W} ${H}`, role: "img",
                           "aria-label": panels.map(p => p.label).join(", ")}, container);
    if (!rows.length) {
      el("text", {x: W / 2, y: 40, "text-anchor": "middle"}, svg).textContent = "no reports yet";
      return svg;
    }
    const t0 = rows[0].ts, t1 = Math.max(rows[rows.length - 1].ts, t0 + 1);
    const x = t => L + (t - t0) / (t1 - t0) * (W - L - R);
    panels.forEach((p, i) => {
      const top = i * (PH + GAP) + 16;
      const vals = rows.map(r => r[p.key] == null ? null : r[p.key] * (p.scale || 1));
      const present = vals.filter(v => v != null);
      let lo = p.min ?? Math.min(...present), hi = p.max ?? Math.max(...present);
      if (!present.length) { lo = 0; hi = 1; }
      if (hi - lo < 1e-9) { hi = lo + 1; }
      const y = v => top + PH - (v - lo) / (hi - lo) * PH;
      el("text", {x: L, y: top - 4}, svg).textContent = p.label;
      el("line", {x1: L, y1: top + PH, x2: W - R, y2: top + PH, class: "axis"}, svg);
      el("line", {x1: L, y1: top, x2: L, y2: top + PH, class: "axis"}, svg);
      for (const v of [lo, hi]) {
        el("text", {x: L - 4, y: y(v) + 4, "text-anchor": "end"}, svg).textContent =
          (Math.round(v * 10) / 10).toString();
      }
      let d = "", pen = false;
      rows.forEach((r, j) => {
        const v = vals[j];
        if (v == null) { pen = false; return; }
        d += `${pen ? "L" : "M"}${x(r.ts).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      el("path", {d, fill: "none", stroke: p.color, "stroke-width": 1.6,
                  class: `series series-${p.key}`}, svg);
    });
    const bottom = H - 4;
    el("text", {x: L, y: bottom}, svg).textContent = fmt(t0);
    el("text", {x: W - R, y: bottom, "text-anchor": "end"}, svg).textContent = fmt(t1);
    return svg;
  }
  return {draw};
})();
