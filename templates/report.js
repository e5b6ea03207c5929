// mlgov report: sort and filter the findings table. Without script the whole
// table is shown in mlgov's order, so nothing here is needed to read the report.
// The URL fragment keeps the view: #q=torch&level=error&sort=subject&dir=asc
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  document.documentElement.classList.add("js");
  if (!table) { document.documentElement.setAttribute("data-report", "ready"); return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter");
  var level = document.getElementById("level");
  var shown = document.getElementById("shown");
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var state = { q: "", level: "", sort: "", dir: "asc" };

  function readHash() {
    var parts = window.location.hash.replace(/^#/, "").split("&");
    parts.forEach(function (part) {
      var pair = part.split("=");
      var key = decodeURIComponent(pair[0] || "");
      if (Object.prototype.hasOwnProperty.call(state, key)) {
        state[key] = decodeURIComponent((pair[1] || "").replace(/\+/g, " "));
      }
    });
  }

  function writeHash() {
    var parts = [];
    Object.keys(state).forEach(function (key) {
      if (state[key] && !(key === "dir" && !state.sort)) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(state[key]));
      }
    });
    if (window.history && window.history.replaceState) {
      try { window.history.replaceState(null, "", window.location.pathname + window.location.search +
        (parts.length ? "#" + parts.join("&") : "")); } catch (e) { /* file: URLs in some browsers */ }
    }
  }

  function apply() {
    var needle = state.q.toLowerCase();
    var count = 0;
    rows.forEach(function (row) {
      var visible = (!state.level || row.getAttribute("data-level") === state.level) &&
        (!needle || row.textContent.toLowerCase().indexOf(needle) !== -1);
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
    var header = null;
    headers.forEach(function (th) {
      if (th.getAttribute("data-key") === state.sort) { header = th; th.setAttribute("aria-sort", state.dir === "desc" ? "descending" : "ascending"); }
      else { th.removeAttribute("aria-sort"); }
    });
    var ordered = rows.slice();
    if (header) {
      var key = "data-" + state.sort;
      var numeric = header.getAttribute("data-type") === "number";
      var sign = state.dir === "desc" ? -1 : 1;
      ordered.sort(function (a, b) {
        var x = a.getAttribute(key) || "", y = b.getAttribute(key) || "";
        var diff = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0)
          : x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
        return diff !== 0 ? sign * diff : rows.indexOf(a) - rows.indexOf(b);
      });
    }
    ordered.forEach(function (row) { body.appendChild(row); });
  }

  headers.forEach(function (th) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    button.title = "Sort by " + th.textContent.toLowerCase();
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      state.dir = state.sort === key && state.dir === "asc" ? "desc" : "asc";
      state.sort = key;
      apply();
      writeHash();
    });
  });
  filter.addEventListener("input", function () { state.q = filter.value; apply(); writeHash(); });
  level.addEventListener("change", function () { state.level = level.value; apply(); writeHash(); });

  readHash();
  filter.value = state.q;
  level.value = state.level;
  document.getElementById("controls").hidden = false;
  apply();
  document.documentElement.setAttribute("data-report", "ready");
}());
