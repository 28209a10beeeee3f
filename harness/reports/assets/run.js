/* harness reports: the run report. Data: {report: "run", runs: [{label, result}], checks}, where each
   result is the run's `--json` document (format 1). Deep links: #run=N&tab=records&model=M&q=QUERY. */
"use strict";
(() => {
  const { el, text, ms, jsonBlock, VirtualTable, debounce } = H;
  const D = H.data();
  const runs = D.runs || [];
  const views = {};

  function path(url) {
    try { const u = new URL(url); return u.pathname + u.search; } catch (e) { return url; }
  }
  const failed = (r) => r.error || r.status === null || r.status >= 400;

  /* Start and length of every request on one time axis (at_ms when recorded, else one after another). */
  function times(reqs) {
    const out = [];
    let t = 0;
    for (const r of reqs) {
      const start = typeof r.at_ms === "number" ? r.at_ms : t;
      const dur = typeof r.duration_ms === "number" ? r.duration_ms : 0;
      out.push([start, dur]);
      t = start + dur;
    }
    // A little room after the last request, so a checkpoint saved right after it stays visible.
    const span = (out.reduce((s, [a, d]) => Math.max(s, a + d), 0) || 1) * 1.03;
    return { out, span };
  }

  function checkpointTime(after, tm) {
    if (!after) return 0;
    const [a, d] = tm.out[Math.min(after, tm.out.length) - 1] || [0, 0];
    return a + d;
  }

  function marks(r) {
    const out = el("span");
    out.append(el("span", { class: "mark " + r.source }, r.source));
    if (r.attempt) out.append(el("span", { class: "mark retry", title: "retry " + r.attempt + " of the same call" }, "retry " + r.attempt));
    if (r.fault) out.append(el("span", { class: "mark fault", title: "injected fault" }, "fault " + r.fault));
    if (r.error) out.append(el("span", { class: "mark err" }, r.error));
    return out;
  }

  function requestsPanel(panel, res) {
    const reqs = res.requests || [];
    const cps = (res.checkpoints || {}).saved || [];
    const after = (res.checkpoints || {}).after_requests || [];
    const tm = times(reqs);
    // Rows: requests, with each saved checkpoint after the request it followed (-1 - k for checkpoint k).
    const all = [];
    let k = 0;
    const placeCps = after.length === cps.length;
    for (let i = 0; i <= reqs.length; i++) {
      while (placeCps && k < cps.length && after[k] <= i) { all.push(-1 - k); k++; }
      if (i < reqs.length) all.push(i);
    }
    const search = el("input", { type: "search", placeholder: "filter: method, path, status, retry, fault",
      "aria-label": "filter requests", "data-role": "filter" });
    const onlyBad = el("input", { type: "checkbox", "data-role": "failed-only" });
    const count = el("span", { class: "count" });
    panel.append(el("div", { class: "toolbar" }, search, el("label", null, onlyBad, " failed, retried or injected only"), count));
    const host = el("div");
    panel.append(host);
    const cols = [
      { label: "#", width: "56px", cls: "num" }, { label: "method", width: "84px" }, { label: "path", width: "minmax(240px, 2fr)", min: "240px" },
      { label: "status", width: "72px", cls: "status" }, { label: "marks", width: "220px" },
      { label: "time", width: "84px", cls: "num" }, { label: "waterfall", width: "minmax(200px, 1fr)", min: "200px" },
    ];
    const table = new VirtualTable(host, {
      columns: cols, height: "56vh", emptyText: "No request matches.",
      rowClass: (row) => row < 0 ? "cp-row" : (failed(reqs[row]) ? "req-failed" : ""),
      cell: (row, c) => {
        if (row < 0) {
          const n = -1 - row, cp = cps[n];
          const what = "checkpoint " + (n + 1) + (cp === null ? " cleared" : " saved: " + text(cp));
          return ["", "◆", what, "", "", "", null][c] ?? cpBar(n);
        }
        const r = reqs[row];
        switch (c) {
          case 0: return String(row + 1);
          case 1: return r.method;
          case 2: return path(r.url);
          case 3: return r.status === null ? "—" : String(r.status);
          case 4: return marks(r);
          case 5: return ms(r.duration_ms);
          default: return bar(row);
        }
      },
      onSort: () => {},
    });
    function bar(row) {
      const [a, d] = tm.out[row];
      const r = reqs[row];
      const holder = el("div", { class: "bar-cell" });
      const b = el("div", { class: "bar" + (r.fault ? " fault" : failed(r) ? " failed" : "") });
      b.style.left = (a / tm.span * 100) + "%";
      b.style.width = Math.max(d / tm.span * 100, 0.4) + "%";
      holder.append(b);
      holder.style.height = "100%";
      return holder;
    }
    function cpBar(n) {
      const holder = el("div", { class: "bar-cell" });
      const b = el("div", { class: "bar", style: "background: var(--ok); width: 2px; top: 0; height: 100%" });
      b.style.left = (checkpointTime(after[n], tm) / tm.span * 100) + "%";
      holder.append(b);
      holder.style.height = "100%";
      return holder;
    }
    function apply() {
      const q = search.value.trim().toLowerCase();
      const bad = onlyBad.checked;
      const rows = all.filter((row) => {
        if (row < 0) return !q && !bad;
        const r = reqs[row];
        if (bad && !(failed(r) || r.attempt || r.fault)) return false;
        if (!q) return true;
        const hay = [r.method, path(r.url), String(r.status), r.source, r.error || "", r.fault ? "fault " + r.fault : "",
          r.attempt ? "retry" : ""].join(" ").toLowerCase();
        return hay.includes(q);
      });
      table.setView(rows);
      const shown = rows.filter((r) => r >= 0).length;
      count.textContent = shown === reqs.length ? reqs.length + " requests" : shown + " of " + reqs.length + " requests";
    }
    search.addEventListener("input", debounce(apply, 100));
    onlyBad.addEventListener("change", apply);
    apply();
    return { shown: () => table.render() };
  }

  function timelinePanel(panel, res) {
    const reqs = res.requests || [];
    const cpDoc = res.checkpoints || {};
    const cps = cpDoc.saved || [];
    const after = cpDoc.after_requests || [];
    const tm = times(reqs);
    const strip = el("div", { class: "timeline", "data-role": "timeline" }, el("div", { class: "axis" }));
    reqs.forEach((r, i) => {
      const [a, d] = tm.out[i];
      const div = el("div", { class: "req" + (r.fault ? " fault" : failed(r) ? " failed" : ""),
        title: "#" + (i + 1) + " " + r.method + " " + path(r.url) + " → " + (r.status ?? r.error) + " (" + ms(d) + ")" });
      div.style.left = (a / tm.span * 100) + "%";
      div.style.width = Math.max(d / tm.span * 100, 0.15) + "%";
      strip.append(div);
    });
    const shownCp = el("div", { class: "detail", style: "height: auto; min-height: 60px", "data-role": "checkpoint" },
      el("p", { class: "muted" }, "Click a checkpoint (◆) to see it."));
    // Checkpoints saved close together in time would put one marker on top of another, and the hidden one
    // could not be clicked: a marker within 2% of the last one is raised to the next of three lanes, and once
    // the three are taken, moved 14 px right (the line stays at its time).
    let lastAt = -Infinity, near = 0;
    cps.forEach((cp, n) => {
      if (after.length !== cps.length) return;
      const t = checkpointTime(after[n], tm);
      const at = t / tm.span * 100;
      near = at - lastAt < 2 ? near + 1 : 0;
      lastAt = at;
      const lane = near % 3;
      const button = el("button", { type: "button", title: "checkpoint " + (n + 1) + " after request " + after[n],
        "aria-label": "checkpoint " + (n + 1), onclick: () => showCp(n) });
      button.style.top = (lane * 16 - 2) + "px";
      button.style.left = (Math.floor(near / 3) * 14 - 7) + "px";
      const line = el("div", { class: "cp" + (cp === null ? " cleared" : ""), "data-checkpoint": n + 1,
        "data-lane": lane }, button);
      line.style.left = "calc(" + at + "% - 1px)";
      strip.append(line);
    });
    for (let i = 0; i <= 4; i++) {
      strip.append(el("div", { class: "tick", style: "left: " + Math.min(97, Math.max(3, i * 25)) + "%" }, ms(tm.span * i / 4)));
    }
    function showCp(n) {
      const t = checkpointTime(after[n], tm);
      shownCp.replaceChildren(el("h3", null, "checkpoint " + (n + 1) + (cps[n] === null ? " (cleared)" : "") +
        " · after request " + after[n] + " of " + reqs.length + " · at " + ms(t)), jsonBlock(cps[n]));
    }
    panel.append(el("div", { class: "legend" }, el("span", null, el("i", { style: "background: var(--accent)" }), "request"),
      el("span", null, el("i", { style: "background: var(--bad)" }), "failed / injected fault"),
      el("span", null, el("i", { style: "background: var(--ok)" }), "checkpoint saved"),
      el("span", null, el("i", { style: "background: var(--warn)" }), "checkpoint cleared"),
      el("span", null, reqs.some((r) => typeof r.at_ms === "number") ? "time from the start of the run" : "requests one after another")));
    panel.append(strip);
    const rows = [el("tr", null, el("td", null, "initial"), el("td"), el("td"), el("td", null, el("code", null, text(cpDoc.initial ?? null))))];
    cps.forEach((cp, n) => rows.push(el("tr", { "data-checkpoint": n + 1 }, el("td", null, String(n + 1)),
      el("td", { class: "num" }, after.length === cps.length ? String(after[n]) : "?"),
      el("td", { class: "num" }, after.length === cps.length ? ms(checkpointTime(after[n], tm)) : ""),
      el("td", null, el("code", null, cp === null ? "(cleared)" : text(cp))))));
    rows.push(el("tr", null, el("td", null, "final"), el("td"), el("td"), el("td", null, el("code", null, text(cpDoc.final ?? null)))));
    panel.append(el("div", { class: "split" }, el("table", { class: "grid checkpoints" }, el("thead", null, el("tr", null,
      el("th", null, "checkpoint"), el("th", null, "after request"), el("th", null, "at"), el("th", null, "value"))),
      el("tbody", null, ...rows)), shownCp));
  }

  const LEVELS = ["debug", "info", "warn", "error"];
  function logsPanel(panel, res) {
    const logs = res.logs || [];
    const level = el("select", { "aria-label": "level", "data-role": "level" },
      el("option", { value: "0" }, "all levels"), el("option", { value: "1" }, "info and above"),
      el("option", { value: "2" }, "warn and above"), el("option", { value: "3" }, "error only"));
    const search = el("input", { type: "search", placeholder: "filter messages", "aria-label": "filter logs", "data-role": "filter" });
    const count = el("span", { class: "count" });
    panel.append(el("div", { class: "toolbar" }, level, search, count));
    const host = el("div");
    panel.append(host);
    const table = new VirtualTable(host, {
      columns: [{ label: "at", width: "90px", cls: "num" }, { label: "level", width: "70px" }, { label: "message", width: "minmax(400px, 1fr)", min: "400px" }],
      height: "50vh", emptyText: "No log line matches.", onSort: () => {},
      rowClass: (row) => "lvl-" + (logs[row].level || "info"),
      cell: (row, c) => {
        const l = logs[row];
        return c === 0 ? ms(l.at_ms) : c === 1 ? (l.level || "info") : text(l.message);
      },
    });
    function apply() {
      const min = Number(level.value), q = search.value.trim().toLowerCase();
      const rows = [];
      logs.forEach((l, i) => {
        const lv = LEVELS.indexOf(l.level);
        if ((lv < 0 ? 1 : lv) >= min && (!q || text(l.message).toLowerCase().includes(q))) rows.push(i);
      });
      table.setView(rows);
      count.textContent = rows.length + " of " + logs.length + " lines";
    }
    level.addEventListener("change", apply);
    search.addEventListener("input", debounce(apply, 100));
    apply();
    return { shown: () => table.render() };
  }

  function issuesPanel(panel, res, openRecord) {
    const issues = res.issues || [];
    if (!issues.length) { panel.append(el("p", { class: "muted" }, "No validation issue.")); return; }
    const rows = issues.map((i, n) => {
      let where = "";
      if (i.record_id !== undefined && i.model) {
        where = el("a", { href: "#", "data-record": i.record_id, onclick: (ev) => { ev.preventDefault(); openRecord(i.model, i.record_id); } },
          "id " + i.record_id);
      } else if (i.index !== undefined) where = "record #" + (i.index + 1);
      return el("tr", { "data-issue": n, class: i.severity === "error" ? "fail" : "" },
        el("td", null, el("span", { class: "badge " + (i.severity || "error") }, i.severity || "error")),
        el("td", null, i.kind), el("td", null, i.model || ""), el("td", null, where), el("td", null, el("code", null, i.path || "")),
        el("td", null, i.message));
    });
    panel.append(el("table", { class: "grid issues" }, el("thead", null, el("tr", null, ...["severity", "kind", "model",
      "record", "field", "problem"].map((h) => el("th", null, h)))), el("tbody", null, ...rows)));
  }

  function dataPanel(panel, res) {
    const parts = [];
    const add = (label, value) => parts.push(el("div", { class: "card" }, el("h2", null, label), jsonBlock(value)));
    if (res.type === "action") { add("input", res.input); add("output", res.output); }
    if (res.error) add("error", res.error);
    add("checkpoints", { initial: res.checkpoints && res.checkpoints.initial, final: res.checkpoints && res.checkpoints.final });
    add("metadata", res.metadata);
    if ((res.unplayed || []).length) add("recorded interactions never played", res.unplayed);
    add("cassette", res.cassette);
    add("timings", res.timings_ms);
    panel.append(...parts);
  }

  function build(index) {
    const run = runs[index];
    const res = run.result || {};
    const host = document.getElementById("run-" + index + "-details");
    const count = Object.values(res.records || {}).reduce((s, l) => s + (l.saved || []).length + (l.updated || []).length + (l.deleted || []).length, 0);
    let records = null;
    const items = [];
    const openRecord = (model, id) => {
      tabs.select("records");
      records.focus(model, "id=" + id, id);
    };
    items.push({ id: "records", label: "Records", count, render: (p) => { records = Records.view(p, res.records || {}, res.issues); },
      shown: () => records && records.shown() });
    let req = null, logs = null;
    items.push({ id: "requests", label: "Requests", count: (res.requests || []).length, render: (p) => { req = requestsPanel(p, res); },
      shown: () => req && req.shown() });
    items.push({ id: "timeline", label: "Timeline", count: ((res.checkpoints || {}).saved || []).length, render: (p) => timelinePanel(p, res) });
    items.push({ id: "logs", label: "Logs", count: (res.logs || []).length, render: (p) => { logs = logsPanel(p, res); }, shown: () => logs && logs.shown() });
    items.push({ id: "issues", label: "Issues", count: (res.issues || []).length, render: (p) => issuesPanel(p, res, openRecord) });
    items.push({ id: "data", label: res.type === "action" ? "Input / output" : "Data", render: (p) => dataPanel(p, res) });
    const tabs = H.tabs(host, items);
    const v = { tabs, get records() { if (!records) tabs.select("records"); return records; } };
    v.defaultTab = count ? "records" : (res.requests || []).length ? "requests" : "data";
    return v;
  }

  function showRun(index, tab) {
    if (!runs[index]) index = runs.length - 1;
    document.querySelectorAll("section.run").forEach((s) => { s.hidden = Number(s.dataset.run) !== index; });
    document.querySelectorAll("#run-tabs button").forEach((b) => b.setAttribute("aria-selected", String(Number(b.dataset.run) === index)));
    const v = views[index] || (views[index] = build(index));
    v.tabs.select(tab || v.tabs.current || v.defaultTab);
    return v;
  }

  function fromHash() {
    const p = H.hashParams();
    const index = p.has("run") ? Number(p.get("run")) : runs.length - 1;
    const v = showRun(index, p.get("tab") || undefined);
    if (p.get("tab") === "records" && (p.has("q") || p.has("model"))) {
      v.records.focus(p.get("model") || undefined, p.get("q") || "", p.get("id") || undefined);
    }
  }

  if (runs.length > 1) {
    const bar = el("div", { class: "tabs", role: "tablist", "aria-label": "runs" });
    runs.forEach((run, i) => bar.append(el("button", { type: "button", "data-run": i, role: "tab",
      onclick: () => showRun(i) }, run.label || "run " + (i + 1), el("span", { class: "n" }, (run.result || {}).status || ""))));
    document.getElementById("run-tabs").append(bar);
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  window.harnessReport = { showRun, views };
  H.markReady();
})();
