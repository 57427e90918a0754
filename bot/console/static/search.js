// Search over open and closed conversations (PostgreSQL full-text search on the gateway): masked results,
// and the transcript opened at the matching turn.
(function () {
  "use strict";
  var C = window.SamvadConsole, T = window.I18N.t, el = C.el;
  var $ = function (id) { return document.getElementById(id); };

  function params() {
    var p = new URLSearchParams();
    [["q", "search-q"], ["label", "search-label"], ["agent", "search-agent"], ["disposition", "search-disposition"],
     ["language", "search-language"], ["state", "search-state"], ["from", "search-from"], ["to", "search-to"]].forEach(function (pair) {
      var v = $(pair[1]).value.trim();
      if (v) p.set(pair[0], v);
    });
    return p.toString();
  }

  function run() {
    C.api("GET", "/search?" + params()).then(function (data) {
      var list = $("search-results"); list.textContent = "";
      $("found").hidden = true;
      if (!data.results.length) list.appendChild(el("li", "meta", T("no_results")));
      data.results.forEach(function (r) {
        var li = el("li", "result");
        var b = el("button", "link-dark", r.conversation);
        b.addEventListener("click", function () { open(r); });
        li.appendChild(b);
        li.appendChild(el("span", "meta", " " + T(r.state) + " · " + r.language + " · " + (r.agent || "-") + " · " +
          (r.disposition ? T("d_" + r.disposition) : "-") + (r.labels.length ? " · " + r.labels.join(", ") : "") +
          (r.closed_at ? " · " + new Date(r.closed_at).toLocaleString() : "")));
        if (r.snippet) li.appendChild(el("div", "snippet", r.snippet));  // text, with «» around the match
        list.appendChild(li);
      });
    }).catch(function (e) { C.notice(e.message); });
  }

  function open(result) {
    C.api("GET", "/search/" + encodeURIComponent(result.ref)).then(function (data) {
      $("found").hidden = false;
      $("found-title").textContent = result.conversation;
      var exp = $("found-export");
      exp.hidden = C.state.me.role !== "supervisor";
      exp.href = "/console/api/transcripts/" + encodeURIComponent(result.ref) + "/export";
      var box = $("found-transcript"); box.textContent = "";
      var match = null;
      data.turns.forEach(function (t) {
        var li = C.addTurn(t, box);
        if (t.n === result.turn) { li.classList.add("turn--match"); match = li; }
      });
      if (match) { match.scrollIntoView({ block: "center" }); }
    }).catch(function (e) { C.notice(e.message); });
  }

  document.addEventListener("samvad:start", function () {
    C.api("GET", "/labels").then(function (data) {
      data.labels.forEach(function (l) { var o = el("option", null, l[window.I18N.lang] || l.name); o.value = l.name; $("search-label").appendChild(o); });
    });
  });
  $("show-search").addEventListener("click", function () {
    $("search").hidden = !$("search").hidden;
    if (!$("search").hidden) { $("search").scrollIntoView(); $("search-q").focus(); }
  });
  $("search-form").addEventListener("submit", function (event) { event.preventDefault(); run(); });
})();
