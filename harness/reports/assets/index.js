/* harness reports: an index page (linked tables): one filter box narrows every table. */
"use strict";
(() => {
  const rows = Array.from(document.querySelectorAll("table.index tbody tr"));
  const search = H.el("input", { type: "search", placeholder: "filter", "aria-label": "filter", "data-role": "filter" });
  const main = document.getElementById("main");
  main.prepend(H.el("div", { class: "toolbar" }, search));
  search.addEventListener("input", H.debounce(() => {
    const q = search.value.trim().toLowerCase();
    for (const row of rows) row.hidden = q !== "" && !row.textContent.toLowerCase().includes(q);
  }, 80));
  H.markReady();
})();
