/* harness reports: the records browser page (data: {report: "records", models: {name: [records]}}). */
"use strict";
(() => {
  const D = H.data();
  const view = Records.view(document.getElementById("records"), D.models || {}, []);
  const p = H.hashParams();
  if (p.has("model") || p.has("q")) view.focus(p.get("model") || undefined, p.get("q") || "", p.get("id") || undefined);
  H.markReady();
})();
