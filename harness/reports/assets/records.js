/* harness reports: the records browser (one virtualized, sortable, filterable table per model).

   Filter syntax: free text matches any field's value (case-insensitive); `field=value` matches a field
   exactly, `field:text` a field containing text (when `field` is a column). */
"use strict";
const Records = (() => {
  const { el, text, compare, VirtualTable, debounce } = H;
  const KINDS = ["saved", "updated", "deleted"];
  const MAX_COLUMNS = 60;

  /* One model's rows: records in call order, saved first, then updates, then deletes. */
  function buildModel(name, lists, issueIds) {
    const recs = [], kinds = [];
    if (Array.isArray(lists)) lists = { saved: lists };
    KINDS.forEach((kind, k) => {
      for (const r of lists[kind] || []) { recs.push(r); kinds.push(k); }
    });
    const seen = new Set(["id"]);
    const keys = ["id"];
    for (let i = 0; i < recs.length && keys.length < MAX_COLUMNS; i++) {
      const r = recs[i];
      if (r && typeof r === "object") for (const key in r) if (!seen.has(key)) { seen.add(key); keys.push(key); }
    }
    const mixed = kinds.some((k) => k !== 0);
    return { name, recs, kinds, keys, mixed, issueIds, hay: null, order: null, sortKey: null, sortDir: 1 };
  }

  function haystack(m) {
    if (m.hay) return m.hay;
    const hay = new Array(m.recs.length);
    for (let i = 0; i < m.recs.length; i++) {
      const r = m.recs[i];
      let s = "";
      if (r && typeof r === "object") for (const key in r) s += text(r[key]) + "\u0001";
      else s = text(r);
      hay[i] = s.toLowerCase();
    }
    m.hay = hay;
    return hay;
  }

  function matcher(m, query) {
    const q = query.trim();
    if (!q) return null;
    const field = /^([^=:\s]+)\s*([=:])\s*(.*)$/.exec(q);
    if (field && m.keys.includes(field[1])) {
      const key = field[1], want = field[3];
      if (field[2] === "=") return (i) => text(m.recs[i] && m.recs[i][key]) === want;
      const low = want.toLowerCase();
      return (i) => text(m.recs[i] && m.recs[i][key]).toLowerCase().includes(low);
    }
    const hay = haystack(m), low = q.toLowerCase();
    return (i) => hay[i].includes(low);
  }

  function sortedOrder(m) {
    const n = m.recs.length;
    const order = new Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    if (m.sortKey === null) return order;
    const key = m.sortKey, dir = m.sortDir;
    const vals = new Array(n);
    for (let i = 0; i < n; i++) {
      if (key === "#") vals[i] = i;
      else if (key === "kind") vals[i] = m.kinds[i];
      else vals[i] = m.recs[i] ? m.recs[i][key] : undefined;
    }
    order.sort((a, b) => compare(vals[a], vals[b]) * dir || a - b);
    return order;
  }

  /* host: an element; models: {name: {saved, updated, deleted}} or {name: [records]};
     issues: validation issues ({model, record_id, ...}). Returns {focus(model, query, id)}. */
  function view(host, models, issues) {
    const names = Object.keys(models);
    const byModel = {};
    for (const issue of issues || []) {
      if (issue.model && issue.record_id !== undefined) {
        (byModel[issue.model] = byModel[issue.model] || new Map()).set(String(issue.record_id),
          [...((byModel[issue.model] && byModel[issue.model].get(String(issue.record_id))) || []), issue]);
      }
    }
    if (!names.length) {
      host.append(el("p", { class: "muted" }, "The run saved no records."));
      return { focus() {}, shown() {} };
    }
    const built = {};
    const model = (name) => built[name] || (built[name] = buildModel(name, models[name], byModel[name] || new Map()));
    let m = null;
    const modelSelect = el("select", { "aria-label": "model", "data-role": "model" },
      ...names.map((n) => el("option", { value: n }, n + " (" + countOf(models[n]) + ")")));
    const kindSelect = el("select", { "aria-label": "kind", "data-role": "kind" },
      el("option", { value: "" }, "all kinds"), ...KINDS.map((k) => el("option", { value: k }, k)));
    const search = el("input", { type: "search", placeholder: "filter: text, or field=value (id=42)",
      "aria-label": "filter records", "data-role": "filter", spellcheck: "false" });
    const count = el("span", { class: "count", "data-role": "count" });
    const toolbar = el("div", { class: "toolbar" }, names.length > 1 ? modelSelect : el("b", null, names[0]),
      kindSelect, search, count);
    const detail = el("div", { class: "detail", "data-role": "detail" }, el("p", { class: "muted" },
      "Click a row to see the whole record."));
    const tableHost = el("div");
    host.append(toolbar, el("div", { class: "split" }, tableHost, detail));
    const table = new VirtualTable(tableHost, {
      columns: [],
      emptyText: "No record matches.",
      cell: (row, c) => {
        const key = table.columns[c].key;
        if (key === "#") return String(row + 1);
        if (key === "kind") return KINDS[m.kinds[row]];
        const r = m.recs[row];
        const v = r && typeof r === "object" ? r[key] : undefined;
        if (v === null) return ["null", "null"];
        return typeof v === "number" ? [String(v), "num"] : text(v);
      },
      rowClass: (row) => {
        let cls = "kind-" + KINDS[m.kinds[row]];
        const r = m.recs[row];
        if (r && m.issueIds.size && m.issueIds.has(String(r.id))) cls += " has-issue";
        return cls;
      },
      onRowClick: (row) => showDetail(row),
      onSort: (c) => {
        const key = table.columns[c].key;
        if (m.sortKey === key) m.sortDir = -m.sortDir; else { m.sortKey = key; m.sortDir = 1; }
        m.order = null;
        apply(true);
      },
    });

    function countOf(lists) {
      if (Array.isArray(lists)) return lists.length;
      return KINDS.reduce((s, k) => s + ((lists && lists[k]) || []).length, 0);
    }

    function columnsOf(mm) {
      const cols = [{ key: "#", label: "#", width: "64px", cls: "num" }];
      if (mm.mixed) cols.push({ key: "kind", label: "kind", width: "80px" });
      // Columns share the width; past what fits, the table scrolls sideways.
      for (const key of mm.keys) cols.push({ key, label: key, width: "minmax(120px, 1fr)", min: "120px" });
      return cols;
    }

    function showDetail(row) {
      const r = m.recs[row];
      const found = r && m.issueIds.get(String(r.id));
      const parts = [el("h3", null, m.name + " · " + KINDS[m.kinds[row]] + " #" + (row + 1))];
      if (found) {
        parts.push(el("ul", { class: "issue-list" }, ...found.map((i) => el("li", { class: "badge " + (i.severity || "error") },
          (i.path ? i.path + ": " : "") + i.message))));
      }
      parts.push(H.jsonBlock(r));
      detail.replaceChildren(...parts);
    }

    function apply(keepScroll) {
      if (!m.order) m.order = sortedOrder(m);
      const test = matcher(m, search.value);
      const kind = kindSelect.value ? KINDS.indexOf(kindSelect.value) : -1;
      let rows = m.order;
      if (test || kind >= 0) {
        rows = [];
        for (const i of m.order) if ((kind < 0 || m.kinds[i] === kind) && (!test || test(i))) rows.push(i);
      }
      const ci = table.columns.findIndex((c) => c.key === m.sortKey);
      table.setSort(ci >= 0 ? ci : null, m.sortDir);
      table.setView(rows, keepScroll);
      count.textContent = rows.length === m.recs.length ? m.recs.length + " records"
        : rows.length + " of " + m.recs.length + " records";
      count.dataset.shown = String(rows.length);
      return rows;
    }

    function use(name) {
      m = model(name);
      modelSelect.value = name;
      kindSelect.hidden = !m.mixed;
      if (!m.mixed) kindSelect.value = "";
      table.setColumns(columnsOf(m));
      table.selected = null;
    }

    modelSelect.addEventListener("change", () => { use(modelSelect.value); apply(); });
    kindSelect.addEventListener("change", () => apply());
    search.addEventListener("input", debounce(() => apply(), 120));
    use(names[0]);
    apply();

    return {
      /* Show `name`'s records filtered by `query`; select the row of record `id` when given. */
      focus(name, query, id) {
        if (name && models[name]) use(name);
        if (query !== undefined) search.value = query;
        const rows = apply();
        if (id !== undefined) {
          const pos = rows.findIndex((i) => m.recs[i] && String(m.recs[i].id) === String(id));
          if (pos >= 0) { table.select(rows[pos]); table.scrollTo(pos); showDetail(rows[pos]); }
        }
      },
      shown() { table.render(); },
      get query() { return search.value; },
    };
  }

  return { view };
})();
