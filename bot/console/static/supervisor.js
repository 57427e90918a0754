// The supervisor's side of the console: live SLA breaches, the floor (agents, queues, dead letters), and
// reports with charts drawn in the page by Chart.js (vendor/chart.umd.min.js, committed as built; no build step).
(function () {
  "use strict";
  var C = window.SamvadConsole, T = window.I18N.t, el = C.el;
  var $ = function (id) { return document.getElementById(id); };
  var charts = {};
  var COLOURS = ["#0b5394", "#e69138", "#6aa84f", "#cc0000", "#674ea7", "#45818e", "#bf9000"];

  function isSupervisor() { return C.state.me && C.state.me.role === "supervisor"; }

  function renderBreaches(data) {
    if (!isSupervisor()) return;
    var list = $("breaches"); list.textContent = "";
    $("breach-count").textContent = data.breaches.length;
    data.breaches.forEach(function (b) {
      var li = el("li", "breach");
      li.appendChild(el("strong", null, b.conversation));
      li.appendChild(el("span", "meta", " " + T(b.state) + (b.agent ? " · " + b.agent : "") + " · " + b.language + " "));
      var timer = el("small", "timer timer--red"); timer.breach = b; li.appendChild(timer);
      list.appendChild(li);
    });
    // Every waiting and held chat with both timers, coloured as they pass the thresholds.
    var table = $("sla-all"); table.textContent = "";
    $("sla-count").textContent = data.chats.length;
    var head = el("tr");
    [T("chat"), T("status"), T("agent"), T("language"), T("first_reply") + " · " + T("latest_reply")].forEach(function (h) { head.appendChild(el("th", null, h)); });
    table.appendChild(head);
    data.chats.forEach(function (c) {
      var row = el("tr");
      [c.conversation, T(c.state), c.agent || "-", c.language].forEach(function (v) { row.appendChild(el("td", null, v)); });
      var cell = el("td"), timer = el("small", "timer"); timer.breach = c; cell.appendChild(timer); row.appendChild(cell);
      table.appendChild(row);
    });
    tickBreaches();
  }
  function tickBreaches() {
    document.querySelectorAll("#breaches .timer, #sla-all .timer").forEach(function (node) {
      var t = C.timerText(node.breach);
      node.textContent = t.text; node.className = "timer timer--" + t.level;
    });
  }

  function refreshFloor() {
    if (!isSupervisor()) return;
    C.api("GET", "/supervisor").then(function (data) {
      var body = $("sup-body"); body.textContent = "";
      body.appendChild(el("p", null, T("today") + ": " + data.today.handled + " " + T("handled") + ", " + T("median") + " " +
        (data.today.median_handle_s === null ? "-" : data.today.median_handle_s + "s")));
      var table = el("table"); var head = el("tr");
      [T("agent"), T("status"), T("load")].forEach(function (h) { head.appendChild(el("th", null, h)); });
      table.appendChild(head);
      data.agents.forEach(function (a) {
        var row = el("tr");
        [a.name, T(a.disabled ? "disabled" : a.presence), a.load + "/" + a.capacity].forEach(function (v) { row.appendChild(el("td", null, v)); });
        table.appendChild(row);
      });
      body.appendChild(table);
      body.appendChild(el("p", null, T("open_callbacks") + ": " + data.callbacks_open));
      var qs = Object.keys(data.queues).map(function (l) { return l + ": " + data.queues[l].depth + " " + T("waiting") + ", " + Math.round(data.queues[l].oldest_wait_s) + "s"; });
      body.appendChild(el("p", null, T("queues") + ": " + qs.join(" · ")));
      body.appendChild(el("h3", null, T("dead_letters") + " (" + data.dead_letters.length + ")"));
      data.dead_letters.forEach(function (d) { body.appendChild(el("p", "meta", d.conversation_id + " · " + d.language + " · " + d.reason)); });
    }).catch(function (e) { C.notice(e.message); });
  }

  function chart(id, type, labels, datasets, options) {
    if (!window.Chart) return;
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart($(id), {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom" } } }, options || {}),
    });
  }

  function dispositionSets(groups) {
    var names = {};
    Object.keys(groups).forEach(function (k) { Object.keys(groups[k].dispositions).forEach(function (d) { names[d] = true; }); });
    return Object.keys(names).sort().map(function (d, i) {
      return { label: T("d_" + d), data: Object.keys(groups).map(function (k) { return groups[k].dispositions[d] || 0; }), backgroundColor: COLOURS[i % COLOURS.length] };
    });
  }

  function fmt(v, unit) { return v === null || v === undefined ? "–" : v + (unit || ""); }

  function renderReport(r) {
    var s = r.total, box = $("report-summary"); box.textContent = "";
    [[T("handled"), s.handled], [T("median") + " / p90", fmt(s.median_handle_s, "s") + " / " + fmt(s.p90_handle_s, "s")],
     [T("first_response") + " " + T("median") + " / p90", fmt(s.median_first_response_s, "s") + " / " + fmt(s.p90_first_response_s, "s")],
     [T("csat_avg"), fmt(s.csat_avg) + " (" + s.csat_responses + " " + T("responses") + ")"]].forEach(function (pair) {
      var card = el("div", "stat"); card.appendChild(el("small", null, pair[0])); card.appendChild(el("strong", null, String(pair[1]))); box.appendChild(card);
    });
    var langs = Object.keys(r.by_language);
    chart("chart-language", "bar", langs, dispositionSets(r.by_language), { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } });
    var agents = Object.keys(r.by_agent);
    chart("chart-agent", "bar", agents, [
      { label: T("median"), data: agents.map(function (a) { return r.by_agent[a].median_handle_s; }), backgroundColor: COLOURS[0] },
      { label: "p90", data: agents.map(function (a) { return r.by_agent[a].p90_handle_s; }), backgroundColor: COLOURS[1] },
    ], { scales: { y: { beginAtZero: true } } });
    chart("chart-csat", "bar", ["1 😞", "2 🙁", "3 😐", "4 🙂", "5 😀"], [
      { label: T("responses"), data: ["1", "2", "3", "4", "5"].map(function (n) { return s.csat_distribution[n]; }), backgroundColor: COLOURS[2] },
    ], { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } });
    var labels = Object.keys(r.by_label);
    chart("chart-label", "bar", labels, dispositionSets(r.by_label), { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } } });
    var table = $("report-agents"); table.textContent = "";
    var head = el("tr");
    [T("agent"), T("handled"), T("median"), "p90", T("first_response"), T("csat_avg")].forEach(function (h) { head.appendChild(el("th", null, h)); });
    table.appendChild(head);
    agents.forEach(function (a) {
      var g = r.by_agent[a], row = el("tr");
      [a, g.handled, fmt(g.median_handle_s, "s"), fmt(g.p90_handle_s, "s"), fmt(g.median_first_response_s, "s"), fmt(g.csat_avg)].forEach(function (v) { row.appendChild(el("td", null, String(v))); });
      table.appendChild(row);
    });
  }

  function loadReport() {
    var q = "?from=" + encodeURIComponent($("report-from").value) + "&to=" + encodeURIComponent($("report-to").value);
    $("report-csv").href = "/console/api/reports.csv" + q;
    return C.api("GET", "/reports" + q).then(renderReport).catch(function (e) { C.notice(e.message); });
  }

  function today() {
    return new Date(Date.now() + 5.5 * 3600 * 1000).toISOString().slice(0, 10);  // the date in India
  }

  document.addEventListener("samvad:start", function () {
    if (!isSupervisor()) return;
    $("report-from").value = today(); $("report-to").value = today();
    refreshFloor(); loadReport();
    setInterval(refreshFloor, 10000);
    setInterval(function () { C.api("GET", "/sla").then(renderBreaches).catch(function () {}); }, 5000);
  });
  document.addEventListener("samvad:sla", function (e) { renderBreaches(e.detail); });
  document.addEventListener("samvad:tick", tickBreaches);
  document.addEventListener("samvad:queues", function () { if (isSupervisor()) C.api("GET", "/sla").then(renderBreaches).catch(function () {}); });
  $("report-form").addEventListener("submit", function (event) { event.preventDefault(); loadReport(); });
  window.SamvadSupervisor = { loadReport: loadReport, charts: charts };
})();
