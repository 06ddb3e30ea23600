// The back office page: the fleet (map, inbox, KPIs, bins) at /, a bin's history at
// /bin/<id>. Everything comes from the JSON API under /api/.
"use strict";
const REFRESH_MS = 3000;
let TZ = "Asia/Seoul", ME = null, MAP = null, LAYER = null, ROUTES = null, DEPOT = null;

async function api(path, opts) {
  const r = await fetch(path, Object.assign({credentials: "same-origin"}, opts || {}));
  if (r.status === 401) { location.href = "/login"; throw new Error("login"); }
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}
const esc = s => String(s ?? "").replace(/[&<>"']/g,
  c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
function when(ts) {
  if (ts == null) return "-";
  return new Date(ts * 1000).toLocaleString("sv-SE", {timeZone: TZ}).slice(0, 16);
}
const pct = v => v == null ? "-" : `${v.toFixed(1)} %`;
function colour(fill) {
  if (fill == null) return "#888";
  return fill >= 90 ? "#d62828" : fill >= 60 ? "#e0a100" : "#2a9d3f";
}

async function init() {
  ME = await api("/api/me");
  document.getElementById("who").textContent = `${ME.user} (${ME.role})`;
  const m = await api("/api/map");
  DEPOT = [m.depot.lat, m.depot.lon];
  const binMatch = location.pathname.match(/^\/bin\/([^/]+)$/);
  if (binMatch) return binPage(decodeURIComponent(binMatch[1]));
  document.getElementById("fleet-view").hidden = false;
  MAP = L.map("map", {zoomSnap: 0.25, attributionControl: !!m.tiles});
  if (m.tiles) {
    L.tileLayer(m.tiles, {maxZoom: 19,
      attribution: "&copy; OpenStreetMap contributors"}).addTo(MAP);
  }
  MAP.setView(DEPOT, 13);
  L.marker(DEPOT, {title: "depot", icon: L.divIcon({className: "depot-icon",
    html: '<div style="width:12px;height:12px;background:#1d3557"></div>'})})
    .bindTooltip("depot").addTo(MAP);
  LAYER = L.layerGroup().addTo(MAP);
  ROUTES = L.layerGroup().addTo(MAP);
  document.getElementById("show-resolved").onchange = refresh;
  let fitted = false;
  async function refresh() {
    try {
      const [bins, kpis, alerts, routes] = await Promise.all([
        api("/api/bins"), api("/api/kpis"),
        api("/api/alerts" + (document.getElementById("show-resolved").checked ? "" :
                             "?status=active")),
        api("/api/routes")]);
      drawKpis(kpis); drawBins(bins); drawInbox(alerts); drawRoutes(routes);
      if (!fitted && bins.length) {
        MAP.fitBounds(L.latLngBounds(bins.map(b => [b.lat, b.lon]).concat([DEPOT])).pad(0.15));
        fitted = true;
      }
    } catch (e) { console.warn(e); }
  }
  await refresh();
  setInterval(refresh, REFRESH_MS);
}

function drawKpis(k) {
  document.getElementById("clock").textContent = `fleet clock ${when(k.clock)}`;
  const items = [["bins", k.bins], ["collections", k.collections],
                 ["mean fill at collection", pct(k.mean_fill_at_collection_pct)],
                 ["overflow hours", k.overflow_hours], ["alerts open", k.alerts_open]];
  document.getElementById("kpis").innerHTML = items.map(([n, v]) =>
    `<div class="kpi" data-kpi="${esc(n)}"><b>${esc(v)}</b>${esc(n)}</div>`).join("");
}

function drawBins(bins) {
  LAYER.clearLayers();
  for (const b of bins) {
    const mk = L.circleMarker([b.lat, b.lon], {radius: 9, color: "#222", weight: 1,
      fillColor: colour(b.fill), fillOpacity: 0.9, className: `bin-marker bin-${b.bin_id}`});
    mk.bindTooltip(`${b.bin_id}: ${pct(b.fill)}`);
    mk.on("click", () => { location.href = `/bin/${encodeURIComponent(b.bin_id)}`; });
    mk.addTo(LAYER);
  }
  document.querySelector("#bins tbody").innerHTML = bins.map(b => `<tr data-bin="${esc(b.bin_id)}">
    <td><a href="/bin/${encodeURIComponent(b.bin_id)}">${esc(b.bin_id)}</a></td>
    <td>${pct(b.fill)}</td><td>${b.vbat == null ? "-" : (b.vbat / 1000).toFixed(2) + " V"}
    ${b.soc == null ? "" : "(" + b.soc.toFixed(0) + " %)"}</td>
    <td>${b.rssi == null ? "-" : b.rssi + " dBm"}</td><td>${esc(b.elvl ?? "-")}</td>
    <td>${esc(b.state ?? "-")}</td><td>${when(b.last_ts)}</td>
    <td>${b.alerts_open || ""}</td></tr>`).join("");
}

function drawRoutes(gj) {
  ROUTES.clearLayers();
  const colours = ["#7b2cbf", "#0077b6", "#f77f00", "#2b9348"];
  L.geoJSON(gj, {
    style: f => ({color: colours[(f.properties?.crew ?? 0) % colours.length], weight: 3,
                  className: "route-line"}),
    pointToLayer: (f, ll) => L.circleMarker(ll, {radius: 3, color: "#333",
                                               className: "route-stop"}),
  }).addTo(ROUTES);
}

function drawInbox(alerts) {
  const canAct = ME.role === "operator";
  document.querySelector("#inbox tbody").innerHTML = alerts.map(a => {
    let act = "";
    if (canAct && a.status === "open") act += `<button class="ack" data-id="${a.id}">Acknowledge</button>`;
    if (canAct && a.status !== "resolved") act += ` <button class="resolve" data-id="${a.id}">Resolve</button>`;
    const st = a.status + (a.acked_by ? ` (${a.acked_by})` : "") +
               (a.ended_ts != null ? ", cleared" : "") + (a.count > 1 ? ` x${a.count}` : "");
    return `<tr class="alert-row status-${esc(a.status)} kind-${esc(a.kind)}" data-id="${a.id}"
      data-kind="${esc(a.kind)}" data-bin="${esc(a.bin_id)}" data-status="${esc(a.status)}">
      <td>${when(a.ts)}</td><td><a href="/bin/${encodeURIComponent(a.bin_id)}">${esc(a.bin_id)}</a></td>
      <td>${esc(a.kind)}</td><td>${esc(a.detail)}</td><td class="status">${esc(st)}</td>
      <td>${act}</td></tr>`;
  }).join("") || '<tr><td colspan="6">no alerts</td></tr>';
  for (const btn of document.querySelectorAll("#inbox button")) {
    btn.onclick = async () => {
      btn.disabled = true;
      const action = btn.classList.contains("ack") ? "ack" : "resolve";
      await api(`/api/alerts/${btn.dataset.id}/${action}`, {method: "POST"});
      drawInbox(await api("/api/alerts" + (document.getElementById("show-resolved").checked ?
                                           "" : "?status=active")));
    };
  }
}

async function binPage(id) {
  document.getElementById("bin-view").hidden = false;
  document.getElementById("export-history").href =
    `/api/export/history.csv?bin=${encodeURIComponent(id)}`;
  const d = await api(`/api/bins/${encodeURIComponent(id)}`);
  const b = d.bin;
  document.title = `${b.bin_id}: back office`;
  document.getElementById("bin-title").textContent = b.bin_id;
  document.getElementById("clock").textContent = `last heard ${when(b.last_ts)}`;
  document.getElementById("bin-summary").textContent =
    `fill ${pct(b.fill)}, battery ${b.vbat == null ? "-" : (b.vbat / 1000).toFixed(2) + " V"}, ` +
    `signal ${b.rssi == null ? "-" : b.rssi + " dBm"}, energy ${b.elvl ?? "-"}, ` +
    `state ${b.state ?? "-"}, firmware ${b.fw ?? "-"}, ${d.history.length} reports shown`;
  Chart.draw(document.getElementById("chart"), d.history, [
    {key: "fill", label: "fill %", color: "#d62828", min: 0, max: 110},
    {key: "vbat", label: "battery V", color: "#0077b6", scale: 0.001},
    {key: "rssi", label: "signal dBm", color: "#2b9348"}], when);
  document.querySelector("#collections tbody").innerHTML = d.collections.map(c =>
    `<tr><td>${when(c.ts)}</td><td>${pct(c.before)}</td><td>${pct(c.after)}</td></tr>`).join("")
    || '<tr><td colspan="3">none</td></tr>';
  document.querySelector("#events tbody").innerHTML = d.events.map(e =>
    `<tr data-ev="${esc(e.ev)}"><td>${when(e.ts)}</td><td>${esc(e.ev)}</td>
     <td>${esc(Object.entries(e.detail).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", "))}</td></tr>`)
    .join("") || '<tr><td colspan="3">none</td></tr>';
}

init();
