/* harness reports: the test report. Data: TestReport.to_json() ({report: "tests", tests: [...]}).
   The verdicts and messages are in the page already; this adds filters and renders each scenario's
   record-level diff side by side (snapshot on the left, this run on the right). */
"use strict";
(() => {
  const { el, text, equal, debounce } = H;
  const D = H.data();
  const tests = D.tests || [];
  const SHOW = 20;

  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const label = (key) => (key === null ? "" : JSON.stringify(key) + ": ");

  /* Aligned line pairs of two JSON values: equal parts once on both sides, the rest marked. */
  function pairs(a, b, hasA, hasB, indent, key, path, out) {
    const lab = indent + label(key);
    if (hasA && hasB && isObj(a) && isObj(b) && !equal(a, b)) {
      out.push({ l: lab + "{", r: lab + "{", cls: "", path });
      const keys = Object.keys(a);
      for (const k of Object.keys(b)) if (!Object.prototype.hasOwnProperty.call(a, k)) keys.push(k);
      for (const k of keys) {
        const ha = Object.prototype.hasOwnProperty.call(a, k), hb = Object.prototype.hasOwnProperty.call(b, k);
        pairs(a[k], b[k], ha, hb, indent + "  ", k, path ? path + "." + k : k, out);
      }
      out.push({ l: indent + "}", r: indent + "}", cls: "", path });
    } else if (hasA && hasB) {
      const same = equal(a, b) && typeof a === typeof b;
      out.push({ l: lab + JSON.stringify(a), r: lab + JSON.stringify(b), cls: same ? "" : "chg", path });
    } else if (hasA) {
      for (const line of blockLines(a, indent, key)) out.push({ l: line, r: null, cls: "del", path });
    } else if (hasB) {
      for (const line of blockLines(b, indent, key)) out.push({ l: null, r: line, cls: "add", path });
    }
    return out;
  }

  function blockLines(v, indent, key) {
    const lines = JSON.stringify(v, null, 2).split("\n");
    return lines.map((line, i) => (i === 0 ? indent + label(key) + line : indent + line));
  }

  function sideBySide(head, a, b, hasA, hasB) {
    const box = el("div", { class: "sbs" });
    if (head) box.append(el("div", { class: "side-head rec" }, head));
    box.append(el("div", { class: "side-head" }, "snapshot"), el("div", { class: "side-head" }, "this run"));
    for (const p of pairs(a, b, hasA, hasB, "", null, "", [])) {
      const attrs = (side) => ({ class: "ln " + side + (p.cls ? " " + p.cls : "") + ((side === "l" ? p.l : p.r) === null ? " gap" : ""),
        "data-path": p.cls && p.path ? p.path : null });
      box.append(el("div", attrs("l"), p.l === null ? "" : p.l), el("div", attrs("r"), p.r === null ? "" : p.r));
    }
    return box;
  }

  /* `items` rendered SHOW at a time, with a button for the next ones. */
  function paged(host, items, render, more) {
    let shown = 0;
    const button = el("button", { type: "button", class: "more-button" });
    function next() {
      const end = Math.min(items.length, shown + SHOW);
      for (; shown < end; shown++) host.insertBefore(render(items[shown]), button);
      const left = items.length - shown + (more || 0);
      button.hidden = shown >= items.length;
      button.textContent = "show more (" + left + " left)";
    }
    button.addEventListener("click", next);
    host.append(button);
    next();
    if (more && shown >= items.length) host.append(el("p", { class: "more" }, "… and " + more + " more not included in the report"));
  }

  function modelSection(host, m, limit) {
    const c = m.counts;
    host.append(el("h4", { "data-model": m.model, "data-section": m.section }, m.section + "." + m.model + ": " + c.added + " added, " +
      c.removed + " removed, " + c.changed + " changed (snapshot " + m.stored + ", run " + m.run + ")"));
    const items = [
      ...m.changed.map((r) => ({ r, kind: "changed" })),
      ...m.removed.map((r) => ({ r, kind: "removed" })),
      ...m.added.map((r) => ({ r, kind: "added" })),
    ];
    const left = Math.max(0, c.changed - m.changed.length) + Math.max(0, c.removed - m.removed.length) + Math.max(0, c.added - m.added.length);
    const group = el("div", { class: "records-diff" });
    host.append(group);
    paged(group, items, ({ r, kind }) => {
      const head = kind + " id " + r.id + (kind === "changed" ? " · " + r.paths.join(", ") : "");
      const box = sideBySide(head, r.old, r.new, kind !== "added", kind !== "removed");
      box.dataset.record = r.id;
      box.dataset.change = kind;
      return box;
    }, left);
    if (left && items.length === 0) host.append(el("p", { class: "more" }, "(capped at " + limit + " per kind)"));
  }

  function renderDiff(host, diff) {
    host.replaceChildren();
    for (const f of diff.fields || []) {
      if (f.items) {
        host.append(el("h4", null, f.key + ": " + f.stored + " in the snapshot, " + f.run + " in the run"));
        paged(host, f.items, (it) => sideBySide(it.which, it.old, it.new, "old" in it, "new" in it), f.more);
      } else {
        host.append(el("h4", null, f.key), sideBySide(null, f.old, f.new, "old" in f, "new" in f));
      }
    }
    for (const m of diff.models || []) modelSection(host, m, diff.limit);
    for (const d of diff.deletes || []) {
      host.append(el("h4", null, "deletes." + d.model + ": " + d.counts.more + " more, " + d.counts.fewer + " fewer"));
      if (d.more.length) host.append(el("p", { class: "idlist" }, "+ " + d.more.join(", ")));
      if (d.fewer.length) host.append(el("p", { class: "idlist" }, "- " + d.fewer.join(", ")));
    }
    const cps = diff.checkpoints || { changes: [] };
    if (cps.changes.length) {
      const h = el("h4", { "data-section": "checkpoints" }, "checkpoints" + (cps.stored !== cps.run ? ": " + cps.stored + " saved in the snapshot, " + cps.run + " in the run" : ""));
      host.append(h);
      const group = el("div", { class: "checkpoints-diff" });
      host.append(group);
      paged(group, cps.changes, (it) => sideBySide("checkpoint " + it.which, it.old, it.new, "old" in it, "new" in it), cps.more);
    }
    if (!host.children.length) host.append(el("p", { class: "muted" }, "No difference in the compared fields."));
  }

  function ensureDiff(details) {
    const holder = details.querySelector(".diff");
    if (!holder || holder.dataset.done) return;
    const t = tests[Number(holder.dataset.index)];
    renderDiff(holder, t.scenario.diff);
    holder.dataset.done = "1";
  }

  const all = Array.from(document.querySelectorAll("details.test"));
  for (const d of all) {
    if (d.open) ensureDiff(d);
    d.addEventListener("toggle", () => { if (d.open) ensureDiff(d); });
  }

  // Filters: verdicts present in the session, scenarios only, free text over the id and message.
  const verdicts = Array.from(new Set(tests.map((t) => t.verdict)));
  const checks = {};
  const tools = el("div", { class: "toolbar" });
  for (const v of verdicts) {
    const box = el("input", { type: "checkbox", checked: true, "data-verdict": v });
    checks[v] = box;
    tools.append(el("label", null, box, " ", el("span", { class: "badge " + v }, v)));
  }
  const onlyScenarios = el("input", { type: "checkbox", "data-role": "scenarios-only" });
  const search = el("input", { type: "search", placeholder: "filter tests", "aria-label": "filter tests", "data-role": "filter" });
  const count = el("span", { class: "count", "data-role": "count" });
  tools.append(el("label", null, onlyScenarios, " scenarios only"), search,
    el("button", { type: "button", onclick: () => all.forEach((d) => { if (!d.hidden) d.open = true; }) }, "expand all"),
    el("button", { type: "button", onclick: () => all.forEach((d) => { d.open = false; }) }, "collapse all"), count);
  document.getElementById("test-tools").append(tools);
  function apply() {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    all.forEach((d) => {
      const t = tests[Number(d.dataset.index)];
      const ok = checks[t.verdict].checked && (!onlyScenarios.checked || t.scenario) &&
        (!q || (t.id + " " + (t.message || "")).toLowerCase().includes(q));
      d.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + " of " + tests.length + " tests";
  }
  for (const box of Object.values(checks)) box.addEventListener("change", apply);
  onlyScenarios.addEventListener("change", apply);
  search.addEventListener("input", debounce(apply, 100));
  apply();
  window.harnessReport = { renderDiff, sideBySide };
  H.markReady();
})();
