// The analytics dashboard: reads the JSON API with the analyst's JWT and draws SVG itself.
// Every chart degrades to "no data yet" when its endpoint is missing, empty or refuses.
"use strict";
(() => {
  const KEY = "crm.analytics.token";
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  // The token: taken once from ?token= (and removed from the address bar), else from the form.
  const fromUrl = new URLSearchParams(location.search).get("token");
  if (fromUrl) {
    sessionStorage.setItem(KEY, fromUrl);
    history.replaceState(null, "", location.pathname);
  }
  const token = () => sessionStorage.getItem(KEY) || "";

  function status(text, error) {
    const el = $("status");
    el.textContent = text;
    el.className = error ? "error" : "";
  }

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}`, Accept: "application/json" } });
    if (response.status === 401 || response.status === 403) throw new Error(`not allowed (HTTP ${response.status})`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function empty(target, why) {
    target.replaceChildren(el("p", { class: "empty" }, why ? `no data yet (${why})` : "no data yet"));
  }

  // Reading whatever shape a report has: a list of rows, or an object holding one.
  const ROW_KEYS = ["items", "rows", "data", "periods", "series", "stages", "cohorts", "points", "customers"];
  function rowsOf(payload) {
    if (Array.isArray(payload)) return payload;
    if (!payload || typeof payload !== "object") return [];
    for (const k of ROW_KEYS) if (Array.isArray(payload[k])) return payload[k];
    return Object.values(payload).find(Array.isArray) || [];
  }

  function num(value) {
    if (typeof value === "number") return value;
    if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
    if (value && typeof value === "object") {
      for (const k of ["amount", "value", "total", "clv", "risk", "rate"]) if (k in value) return num(value[k]);
      const parts = Object.values(value).map(num).filter((v) => v !== null);
      return parts.length ? parts.reduce((a, b) => a + b, 0) : null;
    }
    return null;
  }

  function pick(row, names) {
    for (const n of names) if (row && row[n] !== undefined && row[n] !== null) return row[n];
    return undefined;
  }

  const LABELS = ["period", "month", "week", "date", "cohort", "stage", "tier", "name", "label", "key", "bucket"];
  function labelOf(row) {
    const found = pick(row, LABELS);
    if (found === undefined) return "";
    const text = String(found);
    return /^\d{4}-\d{2}-\d{2}T/.test(text) ? text.slice(0, 10) : text;
  }

  function valueOf(row, preferred) {
    const found = pick(row, preferred);
    if (found !== undefined) return num(found);
    for (const [k, v] of Object.entries(row || {})) if (!LABELS.includes(k) && num(v) !== null) return num(v);
    return null;
  }

  function fmt(value) {
    const n = num(value);
    if (n === null) return value === null || value === undefined ? "–" : String(value);
    if (Math.abs(n) < 1 && n !== 0) return n.toFixed(3);
    return n.toLocaleString("en", { maximumFractionDigits: 2 });
  }

  // Charts.
  function bars(target, points, { horizontal = false } = {}) {
    if (!points.length || points.every(([, v]) => !v)) return empty(target, "all zero");
    const max = Math.max(...points.map(([, v]) => v || 0)) || 1;
    if (horizontal) {
      const h = 24 * points.length + 10;
      const chart = svg("svg", { viewBox: `0 0 460 ${h}`, role: "img" });
      points.forEach(([label, v], i) => {
        const w = Math.max(1, (280 * (v || 0)) / max);
        chart.append(svg("text", { x: 0, y: 24 * i + 17 }, label));
        chart.append(svg("rect", { class: "bar", x: 110, y: 24 * i + 5, width: w, height: 16 }));
        chart.append(svg("text", { x: 114 + w, y: 24 * i + 17 }, fmt(v)));
      });
      return target.replaceChildren(chart);
    }
    const width = Math.max(420, 36 * points.length);
    const chart = svg("svg", { viewBox: `0 0 ${width} 220`, role: "img" });
    const step = (width - 40) / points.length;
    chart.append(svg("line", { class: "axis", x1: 30, y1: 190, x2: width, y2: 190 }));
    chart.append(svg("text", { x: 0, y: 12 }, fmt(max)));
    points.forEach(([label, v], i) => {
      const height = (170 * (v || 0)) / max;
      const x = 34 + i * step;
      const bar = svg("rect", { class: "bar", x, y: 190 - height, width: Math.max(2, step - 6), height });
      bar.append(svg("title", {}, `${label}: ${fmt(v)}`));
      chart.append(bar);
      const every = Math.max(1, Math.ceil((points.length * 48) / width));
      if (i % every === 0) chart.append(svg("text", { x, y: 205 }, label));
    });
    target.replaceChildren(chart);
  }

  function table(target, headers, rows, onPick) {
    const head = el("tr", {}, ...headers.map(([h, cls]) => el("th", cls ? { class: cls } : {}, h)));
    const body = rows.map(({ cells, id }) => {
      const tr = el("tr", {}, ...cells.map(([c, cls]) => el("td", cls ? { class: cls } : {}, c)));
      if (onPick) {
        tr.className = "pick";
        tr.tabIndex = 0;
        tr.dataset.customerId = id;
        tr.addEventListener("click", () => onPick(id));
        tr.addEventListener("keydown", (e) => e.key === "Enter" && onPick(id));
      }
      return tr;
    });
    target.replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)));
  }

  function stats(target, payload, skip) {
    if (!payload || Array.isArray(payload) || typeof payload !== "object") return;
    const scalar = (v) => typeof v === "number" || (typeof v === "string" && num(v) !== null);
    const shown = Object.entries(payload).filter(([k, v]) => !skip.includes(k) && scalar(v));
    if (!shown.length) return;
    const box = el("div", { class: "stats" });
    for (const [k, v] of shown) box.append(el("span", {}, `${k.replaceAll("_", " ")}: `, el("b", {}, fmt(v))));
    target.append(box);
  }

  // One loader per panel; each catches its own failure so the others still draw.
  async function panel(id, load) {
    const target = $(id);
    try {
      await load(target);
    } catch (error) {
      empty(target, error.message);
    }
  }

  const loaders = {
    async kpis(target) {
      const payload = await api("/reports/kpis?convert=true");
      const source = payload.summary && typeof payload.summary === "object" ? payload.summary : payload;
      const scalar = (v) => typeof v === "number" || (typeof v === "string" && num(v) !== null);
      const tiles = Object.entries(source).filter(([, v]) => scalar(v));
      // Money in each other currency gets its own tile: it is never added to the reporting currency's.
      const reporting = source.currency;
      for (const [code, v] of Object.entries(source.revenue_by_currency || {}))
        if (code !== reporting) tiles.push([`revenue ${code}`, v]);
      if (!tiles.length) return empty(target);
      target.replaceChildren(
        ...tiles.map(([k, v]) =>
          el("div", { class: "tile" }, el("div", { class: "label" }, k.replaceAll("_", " ")), el("div", { class: "value" }, fmt(v))),
        ),
      );
    },
    async revenue(target) {
      // One chart per currency, the reporting currency's first; a total in it only when every amount had a rate.
      const payload = await api("/reports/revenue?period=month&convert=true");
      const rows = rowsOf(payload);
      if (!rows.length) return empty(target);
      const summary = payload.summary || {};
      const currencies = summary.currencies || [...new Set(rows.map((r) => r.currency))];
      const charts = [];
      const converted = new Map();
      let whole = rows.some((r) => r.currency !== summary.reporting_currency);
      for (const r of rows) {
        const v = num(r.converted_net_revenue);
        if (v === null) whole = false;
        converted.set(labelOf(r), (converted.get(labelOf(r)) || 0) + (v || 0));
      }
      if (whole) charts.push([`all currencies in ${summary.converted_to} (admins' dated rates)`, [...converted.entries()]]);
      for (const code of currencies) {
        const mine = rows.filter((r) => r.currency === code);
        charts.push([`net revenue in ${code}`, mine.map((r) => [labelOf(r), valueOf(r, ["net_revenue", "revenue"])])]);
      }
      target.replaceChildren();
      for (const [title, points] of charts) {
        const box = el("div", { class: "chart" });
        bars(box, points);
        target.append(el("div", { class: "stats" }, title), box);
      }
      if ((summary.missing_rates || []).length && currencies.length > 1) {
        const codes = [...new Set(summary.missing_rates.map((m) => m.currency))].join(", ");
        target.append(el("div", { class: "stats" }, `no total in ${summary.converted_to}: no rate for ${codes}`));
      }
    },
    async cohorts(target) {
      const rows = rowsOf(await api("/reports/cohorts?period=month"));
      if (!rows.length) return empty(target);
      // Long rows (cohort, size, offset, retention) pivot into one line per cohort.
      const byCohort = new Map();
      for (const r of rows) {
        const label = labelOf(r);
        const entry = byCohort.get(label) || { label, size: pick(r, ["size", "cohort_size"]), values: [] };
        const offset = Number(pick(r, ["offset"]) || 0);
        entry.values[offset] = num(pick(r, ["retention", "rate", "retained"]));
        byCohort.set(label, entry);
      }
      const series = [...byCohort.values()];
      const width = Math.max(...series.map((s) => s.values.length), 0);
      const head = el("tr", {}, el("th", {}, "cohort"), el("th", { class: "num" }, "size"));
      for (let i = 0; i < width; i++) head.append(el("th", {}, `+${i}`));
      const body = series.map((s) => {
        const tr = el("tr", {}, el("td", {}, s.label), el("td", { class: "num" }, fmt(s.size)));
        for (let i = 0; i < width; i++) {
          const v = s.values[i] ?? null;
          const rate = v === null ? null : v > 1 ? v / 100 : v;
          const cell = el("td", { class: "cell" }, rate === null ? "" : `${Math.round(rate * 100)}%`);
          if (rate !== null) cell.style.background = `rgba(47, 111, 222, ${0.08 + 0.85 * rate})`;
          if (rate !== null && rate > 0.55) cell.style.color = "#fff";
          tr.append(cell);
        }
        return tr;
      });
      target.replaceChildren(el("table", { class: "heat" }, el("thead", {}, head), el("tbody", {}, ...body)));
    },
    async lifecycle(target) {
      const payload = await api("/reports/lifecycle");
      distribution(target, payload, /stage|lifecycle/);
      distribution($("tiers"), payload, /tier/);
    },
    async pipeline(target) {
      const payload = await api("/reports/pipeline");
      const rows = rowsOf(payload);
      if (!rows.length) return empty(target);
      const byStage = new Map();
      for (const r of rows) byStage.set(labelOf(r), (byStage.get(labelOf(r)) || 0) + (valueOf(r, ["deals", "count"]) || 0));
      bars(target, [...byStage.entries()], { horizontal: true });
      stats(target, payload.summary, []);
    },
    async clv(target) {
      // Every scored customer, in bands that widen with value (the report's rows).
      const payload = await api("/reports/clv");
      const rows = rowsOf(payload);
      if (!rows.length || !rows.some((r) => Number(r.customers) > 0)) return empty(target);
      bars(target, rows.map((r) => [String(r.band), Number(r.customers) || 0]));
      const s = payload.summary || {};
      stats(target, { customers: s.customers, mean: s.mean, median: s.median, p90: s.p90 }, []);
    },
    async churn(target) {
      const rows = rowsOf(await api("/reports/churn-watch")).slice(0, 10);
      if (!rows.length) return empty(target);
      table(
        target,
        [["customer"], ["churn risk", "num"], ["CLV", "num"], ["stage"], ["tier"], ["last purchase"]],
        rows.map((r) => {
          const id = String(pick(r, ["id", "customer_id", "_id"]));
          return {
            id,
            cells: [
              [id.slice(0, 8)],
              [fmt(pick(r, ["churn_risk", "churn"])), "num"],
              [fmt(pick(r, ["clv"])), "num"],
              [pick(r, ["lifecycle_stage"]) || "–"],
              [pick(r, ["value_tier"]) || "–"],
              [String(pick(r, ["last_purchase_at"]) || "–").slice(0, 10)],
            ],
          };
        }),
        openCustomer,
      );
    },
  };

  function distribution(target, payload, pattern) {
    let found = null;
    const source = payload && payload.summary && typeof payload.summary === "object" ? payload.summary : payload;
    if (source && typeof source === "object" && !Array.isArray(source)) {
      const key = Object.keys(source).find((k) => pattern.test(k));
      found = key ? source[key] : null;
    }
    if (!found) return empty(target);
    const points = Array.isArray(found)
      ? found.map((r) => [labelOf(r), valueOf(r, ["count", "customers", "share"])])
      : Object.entries(found).map(([k, v]) => [k, num(v)]);
    if (!points.length) return empty(target);
    bars(target, points, { horizontal: true });
  }

  // Drill-down: one customer's 360 (masked for analysts) and the first page of their timeline.
  async function openCustomer(id) {
    const card = $("customer-card");
    const target = $("customer");
    card.hidden = false;
    target.replaceChildren(el("p", { class: "empty" }, "loading…"));
    try {
      const doc = await api(`/customers/${encodeURIComponent(id)}/360`);
      const sales = doc.sales || {};
      const support = doc.support || {};
      const marketing = (doc.marketing || {}).counts || {};
      const social = doc.social || {};
      const facts = [
        ["customer", doc.customer_id],
        ["name", doc.name || "–"],
        ["orders", fmt(sales.order_count || 0)],
        ["revenue", Object.entries(sales.revenue || {}).map(([c, a]) => `${a} ${c}`).join(", ") || "–"],
        ["first / last order", `${(sales.first_order_at || "–").slice(0, 10)} / ${(sales.last_order_at || "–").slice(0, 10)}`],
        ["open opportunities", fmt(Object.keys(sales.open_opportunities || {}).length)],
        ["tickets open / closed", `${support.open_tickets || 0} / ${support.closed_tickets || 0}`],
        ["CSAT average", fmt(support.csat_average)],
        ["campaigns sent / opened / clicked", `${marketing.sent || 0} / ${marketing.opened || 0} / ${marketing.clicked || 0}`],
        ["social interactions", fmt(social.interaction_count || 0)],
        ["merged from", (doc.absorbed || []).join(", ") || "–"],
      ];
      const dl = el("dl", { class: "facts", id: "customer-facts" });
      for (const [k, v] of facts) dl.append(el("dt", {}, k), el("dd", {}, v));
      target.replaceChildren(dl);
      try {
        const clv = await api(`/customers/${encodeURIComponent(id)}/clv`);
        stats(target, clv.clv && typeof clv.clv === "object" ? clv.clv : clv, ["horizon_days", "discount_rate", "margin"]);
      } catch {
        // No fitted model yet: the 360 alone is still useful.
      }
      const timeline = await api(`/customers/${encodeURIComponent(id)}/timeline?limit=20`);
      const items = rowsOf(timeline);
      const list = el("ol", { id: "customer-timeline" });
      for (const e of items) list.append(el("li", {}, `${String(e.time).slice(0, 19)} ${e.type}`));
      target.append(el("h3", {}, "Timeline"), items.length ? list : el("p", { class: "empty" }, "no events"));
      card.scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (error) {
      empty(target, error.message);
    }
  }

  async function load() {
    if (!token()) {
      status("Paste an analyst token to load the dashboard.", true);
      return;
    }
    status("loading…");
    await Promise.all(Object.entries(loaders).map(([id, loader]) => panel(id, loader)));
    document.body.dataset.loaded = "true";
    status(`updated ${new Date().toISOString().slice(0, 19).replace("T", " ")} UTC`);
  }

  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    load();
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.reload();
  });
  $("lookup").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("customer-id").value.trim();
    if (id) openCustomer(id);
  });
  $("close-customer").addEventListener("click", () => ($("customer-card").hidden = true));
  load();
})();
