/* harness reports: shared helpers (DOM, values, tabs, a virtualized table). No dependencies. */
"use strict";
const H = (() => {
  const data = () => JSON.parse(document.getElementById("harness-data").textContent);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  /* The text a JSON value shows in a cell: strings as they are, the rest as compact JSON. */
  function text(v) {
    if (v === undefined) return "";
    if (typeof v === "string") return v;
    if (v === null || typeof v !== "object") return String(v);
    return JSON.stringify(v);
  }

  const RANK = { number: 0, boolean: 1, string: 2, object: 3, undefined: 4 };
  /* A total order over JSON values: numbers numerically, strings by code point, absent last. */
  function compare(a, b) {
    if (a === b) return 0;
    if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
    if (b === undefined || b === null) return -1;
    const ta = typeof a, tb = typeof b;
    if (ta !== tb) return RANK[ta] - RANK[tb];
    if (ta === "object") { a = JSON.stringify(a); b = JSON.stringify(b); }
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function equal(a, b) {
    if (a === b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !equal(a[k], b[k])) return false;
    return true;
  }

  function pretty(v) { return v === undefined ? "" : JSON.stringify(v, null, 2); }
  function jsonBlock(v) { return el("pre", { class: "json" }, pretty(v)); }

  function ms(v) {
    if (typeof v !== "number") return "";
    if (v < 1) return v.toFixed(2) + " ms";
    if (v < 10000) return v.toFixed(v < 100 ? 1 : 0) + " ms";
    return (v / 1000).toFixed(1) + " s";
  }

  function debounce(fn, wait) {
    let t = 0;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), wait); };
  }

  /* Tabs: items are {id, label, count, render(panel)}; a panel is built the first time it is shown. */
  function tabs(host, items, onSelect) {
    const bar = el("div", { class: "tabs", role: "tablist" });
    const panels = {};
    const buttons = {};
    let current = null;
    for (const item of items) {
      const b = el("button", { type: "button", role: "tab", "data-tab": item.id, "aria-selected": "false",
        onclick: () => select(item.id, true) }, item.label,
        item.count === undefined ? null : el("span", { class: "n" }, String(item.count)));
      buttons[item.id] = b;
      bar.append(b);
    }
    host.append(bar);
    const holder = el("div");
    host.append(holder);
    function select(id, byUser) {
      const item = items.find((i) => i.id === id) || items[0];
      if (!item) return null;
      if (current && panels[current]) panels[current].hidden = true;
      if (current) buttons[current].setAttribute("aria-selected", "false");
      if (!panels[item.id]) {
        const panel = el("div", { class: "panel", role: "tabpanel", "data-panel": item.id });
        holder.append(panel);
        panels[item.id] = panel;
        item.render(panel);
      }
      panels[item.id].hidden = false;
      buttons[item.id].setAttribute("aria-selected", "true");
      current = item.id;
      if (item.shown) item.shown();
      if (onSelect) onSelect(item.id, byUser);
      return panels[item.id];
    }
    return { select, get current() { return current; } };
  }

  /* A table that only renders the rows in view: `setView(rows)` takes the row ids to show, in order.
     opts: columns [{label, width, cls}], cell(row, colIndex) -> string | [string, class] | Node,
     rowClass(row) -> string, onRowClick(row), onSort(colIndex). */
  class VirtualTable {
    constructor(host, opts) {
      this.o = opts;
      this.rh = opts.rowHeight || 24;
      this.view = [];
      this.selected = null;
      this.root = el("div", { class: "vt", role: "grid", tabindex: "0" });
      if (opts.height) this.root.style.setProperty("--vt-height", opts.height);
      this.head = el("div", { class: "vt-head", role: "row" });
      this.body = el("div", { class: "vt-body" });
      this.win = el("div", { class: "vt-win", role: "rowgroup" });
      this.empty = el("div", { class: "vt-empty", hidden: true }, opts.emptyText || "Nothing to show.");
      this.body.append(this.win);
      this.root.append(this.head, this.body, this.empty);
      host.append(this.root);
      this.setColumns(opts.columns);
      let queued = false;
      this.root.addEventListener("scroll", () => {
        if (queued) return;
        queued = true;
        requestAnimationFrame(() => { queued = false; this.render(); });
      });
      this.head.addEventListener("click", (ev) => {
        const cell = ev.target.closest("[data-col]");
        if (cell && this.o.onSort) this.o.onSort(Number(cell.dataset.col));
      });
      this.win.addEventListener("click", (ev) => {
        const row = ev.target.closest("[data-row]");
        if (!row || ev.target.closest("a")) return;
        this.select(Number(row.dataset.row));
        if (this.o.onRowClick) this.o.onRowClick(Number(row.dataset.row));
      });
    }
    setColumns(columns) {
      this.columns = columns;
      const widths = columns.map((c) => c.width || "160px");
      this.root.style.setProperty("--vt-cols", widths.join(" "));
      const min = columns.reduce((s, c) => s + (parseInt(c.min || c.width, 10) || 160), 0);
      this.root.style.setProperty("--vt-min", min + "px");
      this.head.replaceChildren(...columns.map((c, i) => el("div", { "data-col": i, role: "columnheader",
        title: c.title || c.label, class: c.cls || null }, c.label)));
      this.drawn = null;
    }
    setSort(col, dir) {
      for (const cell of this.head.children) cell.removeAttribute("aria-sort");
      if (col !== null && this.head.children[col]) {
        this.head.children[col].setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      }
    }
    setView(view, keepScroll) {
      this.view = view;
      this.body.style.height = view.length * this.rh + "px";
      this.empty.hidden = view.length > 0;
      this.root.setAttribute("aria-rowcount", String(view.length));
      if (!keepScroll) this.root.scrollTop = 0;
      this.render(true);
    }
    select(row) { this.selected = row; this.render(); }
    scrollTo(pos) {
      const top = pos * this.rh;
      const h = this.root.clientHeight || 400;
      if (top < this.root.scrollTop || top > this.root.scrollTop + h - 2 * this.rh) {
        this.root.scrollTop = Math.max(0, top - h / 3);
      }
      this.render();
    }
    /* Re-renders only when the rows in view changed (a scroll within them keeps the same elements). */
    render(force) {
      const h = this.root.clientHeight || 600;
      const first = Math.max(0, Math.floor(this.root.scrollTop / this.rh) - 4);
      const last = Math.min(this.view.length, first + Math.ceil(h / this.rh) + 8);
      const key = first + ":" + last + ":" + h;
      if (!force && this.drawn === key && this.drawnView === this.view && this.drawnSel === this.selected) return;
      this.drawn = key;
      this.drawnView = this.view;
      this.drawnSel = this.selected;
      const rows = [];
      const o = this.o;
      for (let pos = first; pos < last; pos++) {
        const row = this.view[pos];
        const cls = "vt-row" + (o.rowClass ? " " + o.rowClass(row) : "") + (row === this.selected ? " selected" : "");
        const div = el("div", { class: cls, role: "row", "data-row": row, "aria-rowindex": pos + 1 });
        for (let c = 0; c < this.columns.length; c++) {
          const v = o.cell(row, c);
          const cell = document.createElement("div");
          cell.setAttribute("role", "gridcell");
          if (v instanceof Node) cell.append(v);
          else if (Array.isArray(v)) { cell.textContent = v[0]; if (v[1]) cell.className = v[1]; cell.title = v[0]; }
          else { cell.textContent = v; if (v && v.length > 24) cell.title = v; }
          if (this.columns[c].cls) cell.classList.add(this.columns[c].cls);
          div.append(cell);
        }
        rows.push(div);
      }
      this.win.style.transform = "translateY(" + first * this.rh + "px)";
      this.win.replaceChildren(...rows);
    }
  }

  function markReady() {
    window.harnessReady = performance.now();
    document.documentElement.dataset.ready = "1";
  }

  function hashParams() { return new URLSearchParams(location.hash.replace(/^#/, "")); }

  return { data, el, text, compare, equal, pretty, jsonBlock, ms, debounce, tabs, VirtualTable, markReady,
    hashParams };
})();
