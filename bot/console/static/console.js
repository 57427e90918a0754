// Samvad agent console: plain JS, no build step. Every voter text is shown with textContent, never as HTML.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var T = window.I18N.t;
  var state = { me: null, chats: [], current: null, canned: [], labels: [], ws: null, unread: {}, offers: {}, sla: {}, slaInfo: null };

  function api(method, path, body) {
    // Every change is sent as JSON, even without a body: the gateway refuses anything else (CSRF guard).
    var changes = method !== "GET";
    return fetch("/console/api" + path, {
      method: method,
      headers: changes ? { "Content-Type": "application/json" } : {},
      body: changes ? JSON.stringify(body || {}) : undefined,
      credentials: "same-origin",
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (resp.status === 401) { showLogin(); throw new Error(data.error || "log in first"); }
        if (!resp.ok) {
          var err = new Error(data.error || "request failed (" + resp.status + ")");
          err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function notice(text) { $("notice").textContent = text || ""; }
  function chatPath(conv) { return "/chats/" + encodeURIComponent(conv); }

  function showLogin() { $("app").hidden = true; $("login").hidden = false; if (state.ws) state.ws.close(); }

  // --- alerts: a short tone, and a browser notification when the agent allowed them ----------------------
  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.18);
    } catch (e) { /* no audio device: the notification and the list still show it */ }
  }
  function alertAgent(title, body) {
    beep();
    window.samvadAlerts = (window.samvadAlerts || 0) + 1;  // counted, for tests and the tab title
    if (document.hidden) document.title = "(" + window.samvadAlerts + ") Samvad";
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification(title, { body: body || "", tag: "samvad" }); } catch (e) { /* some browsers need a service worker */ }
    }
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { document.title = "Samvad · agent console"; window.samvadAlerts = 0; } });
  function renderNotify() {
    var b = $("notify");
    var on = window.Notification && Notification.permission === "granted";
    b.setAttribute("data-t", on ? "alerts_on" : "enable_alerts"); b.textContent = T(b.getAttribute("data-t"));
    b.disabled = !window.Notification || on;
  }

  function start(me) {
    state.me = me;
    $("login").hidden = true; $("app").hidden = false;
    $("me").textContent = me.name + " (" + me.role + ", " + me.languages.join("/") + ")";
    $("presence").value = me.presence && me.presence !== "offline" ? me.presence : "available";
    $("ui-lang").value = window.I18N.lang;
    var auto = me.assignment === "auto";
    $("take").hidden = auto; $("auto-note").hidden = !auto;
    state.chats = me.chats || [];
    renderChats(); renderNotify();
    api("GET", "/canned").then(function (data) {
      state.canned = data.canned;
      var select = $("canned");
      data.canned.forEach(function (c, i) { var o = el("option", null, (i < 9 ? "Alt+" + (i + 1) + " · " : "") + c.title); o.value = i; select.appendChild(o); });
    });
    api("GET", "/labels").then(function (data) { state.labels = data.labels; renderLabelChoices(); });
    api("GET", "/offers").then(function (data) { data.offers.forEach(function (c) { state.offers[c] = true; }); renderChats(); });
    if (me.role === "supervisor") { $("supervisor").hidden = false; $("reports").hidden = false; }
    else document.querySelector(".layout").classList.add("layout--agent");
    refreshCallbacks(); refreshSla();
    setInterval(refreshCallbacks, 30000);
    setInterval(refreshSla, 10000);
    setInterval(tick, 1000);
    connect();
    document.dispatchEvent(new CustomEvent("samvad:start", { detail: me }));
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/console/ws");
    state.ws = ws;
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "queues") { renderQueues(msg.queues); document.dispatchEvent(new CustomEvent("samvad:queues")); }
      else if (msg.type === "assigned") {
        if (state.chats.indexOf(msg.conversation_id) < 0) state.chats.push(msg.conversation_id);
        if (msg.offer) state.offers[msg.conversation_id] = true;  // pushed: to accept; transferred: already theirs
        renderChats(); refreshSla();
        alertAgent(T("new_chat"), msg.conversation_id);
      } else if (msg.type === "voter_message") {
        if (state.current && state.current.conversation_id === msg.conversation_id) {
          addTurn({ who: "voter", text: msg.text, media: msg.media, at: msg.at });
          if (document.hidden) alertAgent(T("voter_wrote"), msg.text);
        } else { state.unread[msg.conversation_id] = true; renderChats(); alertAgent(T("voter_wrote"), msg.text); }
        refreshSla();
      }
    };
    ws.onclose = function () { if (!$("app").hidden) setTimeout(connect, 2000); };
  }

  function renderQueues(queues) {
    var box = $("queues"); box.textContent = "";
    Object.keys(queues).forEach(function (lang) {
      var q = queues[lang];
      box.appendChild(el("span", null, lang + ": " + q.depth + " " + T("waiting") + (q.depth ? " (" + Math.round(q.oldest_wait_s) + "s)" : "")));
    });
  }

  // --- SLA timers: start times from the server, seconds counted here -------------------------------------
  function since(ts) { return ts ? Math.max(0, Date.now() / 1000 - ts) : null; }
  function level(seconds, first) {
    var th = state.slaInfo && state.slaInfo.thresholds;
    if (seconds === null || !th) return "ok";
    var amber = first ? th.first_amber_s : th.reply_amber_s, red = first ? th.first_red_s : th.reply_red_s;
    return seconds >= red ? "red" : seconds >= amber ? "amber" : "ok";
  }
  function clock(seconds) {
    if (seconds === null) return "–";
    var m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function timerText(chat) {
    var f = since(chat.first_since), r = since(chat.reply_since);
    return { first: f, reply: r, text: T("first_reply") + " " + clock(f) + " · " + T("latest_reply") + " " + clock(r),
             level: ["red", "amber"].filter(function (l) { return level(f, true) === l || level(r, false) === l; })[0] || "ok" };
  }
  function refreshSla() {
    return api("GET", "/sla").then(function (data) {
      state.slaInfo = data; state.sla = {};
      data.chats.forEach(function (c) { if (c.agent === state.me.name) state.sla[c.conversation] = c; });
      tick();
      document.dispatchEvent(new CustomEvent("samvad:sla", { detail: data }));
    }).catch(function () { /* shown again at the next refresh */ });
  }
  function tick() {
    document.querySelectorAll("[data-sla]").forEach(function (node) {
      var chat = state.sla[node.getAttribute("data-sla")];
      if (!chat) { node.textContent = ""; node.className = "timer"; return; }
      var t = timerText(chat);
      node.textContent = t.text; node.className = "timer timer--" + t.level;
    });
    document.dispatchEvent(new CustomEvent("samvad:tick"));
  }

  function renderChats() {
    var list = $("chats"); list.textContent = "";
    state.chats.forEach(function (conv) {
      var li = el("li");
      var b = el("button", (state.unread[conv] ? "unread " : "") + (state.current && state.current.conversation_id === conv ? "current" : ""), conv);
      b.addEventListener("click", function () { openChat(conv); });
      li.appendChild(b);
      if (state.offers[conv]) li.appendChild(el("span", "pill pill--offer", T("offered")));
      var timer = el("small", "timer"); timer.setAttribute("data-sla", conv); li.appendChild(timer);
      list.appendChild(li);
    });
    tick();
  }

  function addTurn(turn, target) {
    var li = el("li", "turn turn--" + turn.who, turn.text);
    if (turn.media && turn.media.media_id && state.current) {
      var src = "/console/api" + chatPath(state.current.conversation_id) + "/media/" + encodeURIComponent(turn.media.media_id);
      var kind = turn.media.type, player;
      if (kind === "audio" || kind === "voice") { player = el("audio"); player.controls = true; }
      else if (kind === "image" || kind === "sticker") { player = el("img"); player.alt = kind; }
      else if (kind === "video") { player = el("video"); player.controls = true; }
      else { player = el("a", null, "open " + kind); player.href = src; player.target = "_blank"; }
      if (player.tagName !== "A") player.src = src;
      player.className = "media";
      li.appendChild(player);
    } else if (turn.media && turn.media.type === "location" && turn.media.details) {
      li.appendChild(el("small", null, "location: " + (turn.media.details.latitude || "?") + ", " + (turn.media.details.longitude || "?")));
    }
    var who = turn.who === "note" ? "🔒 " + T("note") : T(turn.who === "agent" ? "agent_turn" : turn.who);
    var when = turn.at ? " · " + new Date(turn.at * 1000).toLocaleTimeString() : "";
    var label = who + (turn.intent ? " · intent: " + turn.intent : "") + (turn.agent ? " · " + turn.agent : "") + when;
    li.appendChild(el("small", null, label));
    var box = target || $("transcript");
    box.appendChild(li);
    box.scrollTop = box.scrollHeight;
    return li;
  }

  function renderLabelChoices() {
    var select = $("add-label");
    while (select.options.length > 1) select.remove(1);
    var on = (state.current && state.current.labels) || [];
    state.labels.forEach(function (l) {
      if (on.indexOf(l.name) >= 0) return;
      var o = el("option", null, l[window.I18N.lang] || l.name); o.value = l.name; select.appendChild(o);
    });
    var box = $("chat-labels"); box.textContent = "";
    on.forEach(function (name) {
      var def = state.labels.filter(function (l) { return l.name === name; })[0];
      var chip = el("span", "chip", def ? def[window.I18N.lang] : name);
      chip.setAttribute("data-label", name);
      var x = el("button", "chip-x", "×"); x.title = "remove"; x.setAttribute("aria-label", "remove " + name);
      x.addEventListener("click", function () { setLabel(name, false); });
      chip.appendChild(x); box.appendChild(chip);
    });
  }
  function setLabel(name, on) {
    if (!state.current) return;
    api("POST", chatPath(state.current.conversation_id) + "/labels", { label: name, on: on })
      .then(function (data) { state.current.labels = data.labels; renderLabelChoices(); })
      .catch(function (e) { notice(e.message); });
  }

  function showChat(chat) {
    state.current = chat; delete state.unread[chat.conversation_id]; renderChats();
    $("chat").hidden = false;
    $("chat-title").textContent = chat.conversation_id;
    $("chat-meta").textContent = T("language") + ": " + chat.language + " · " + T("channel") + ": " + chat.channel +
      " · " + T("reason") + ": " + (chat.reason || "-") + " · " + T("topic") + ": " + (chat.topic || "-");
    var sla = $("chat-sla"); sla.setAttribute("data-sla", chat.conversation_id);
    $("accept").hidden = !state.offers[chat.conversation_id];
    var exp = $("export");
    exp.hidden = state.me.role !== "supervisor";
    exp.href = "/console/api" + chatPath(chat.conversation_id) + "/export";
    $("transcript").textContent = "";
    // Private notes go in by time, in their own style; they were never sent to the voter.
    var turns = (chat.transcript || []).concat(chat.notes || []);
    turns.sort(function (a, b) { return (a.at || 0) - (b.at || 0); });
    turns.forEach(function (t) { addTurn(t); });
    renderLabelChoices(); tick();
    $("text").focus();
  }

  function openChat(conv) { return api("GET", chatPath(conv)).then(showChat).catch(function (e) { notice(e.message); }); }

  function dropCurrent() {
    var conv = state.current.conversation_id;
    state.chats = state.chats.filter(function (c) { return c !== conv; });
    delete state.offers[conv];
    state.current = null; $("chat").hidden = true; renderChats();
  }

  function refreshCallbacks() {
    api("GET", "/callbacks").then(function (data) {
      var list = $("callbacks"); list.textContent = "";
      if (!data.callbacks.length) list.appendChild(el("li", "meta", T("no_callbacks")));
      data.callbacks.forEach(function (c) {
        var li = el("li");
        var phone = el("a", null, c.phone); phone.href = "tel:" + c.phone;
        li.appendChild(phone);
        li.appendChild(el("div", "meta", c.language + " · " + (c.topic || "-") + " · " + new Date(c.requested_at * 1000).toLocaleString()));
        var details = el("details"); details.appendChild(el("summary", null, T("transcript")));
        c.transcript.forEach(function (t) { details.appendChild(el("div", "meta", t.who + ": " + t.text)); });
        li.appendChild(details);
        ["done", "failed"].forEach(function (status) {
          var b = el("button", null, T(status));
          b.addEventListener("click", function () {
            api("POST", "/callbacks/" + encodeURIComponent(c.id), { status: status }).then(refreshCallbacks).catch(function (e) { notice(e.message); });
          });
          li.appendChild(b);
        });
        list.appendChild(li);
      });
    }).catch(function (e) { notice(e.message); });
  }

  function takeNext() {
    api("POST", "/take").then(function (data) {
      if (!data.chat) { notice(T("nobody_waiting")); return; }
      notice("");
      if (state.chats.indexOf(data.chat.conversation_id) < 0) state.chats.push(data.chat.conversation_id);
      showChat(data.chat); refreshSla();
    }).catch(function (e) { notice(e.message); });
  }
  function nextChat() {
    if (!state.chats.length) return;
    var at = state.current ? state.chats.indexOf(state.current.conversation_id) : -1;
    openChat(state.chats[(at + 1) % state.chats.length]);
  }
  function useCanned(index) {
    var c = state.canned[index];
    if (c && state.current) { $("text").value = c[state.current.language] || c.hi; $("text").focus(); }
  }

  function sendReply() {
    var text = $("text").value.trim();
    if (!text || !state.current) return;
    var conv = state.current.conversation_id;
    api("POST", chatPath(conv) + "/messages", { text: text })
      .then(function () { addTurn({ who: "agent", text: text, agent: state.me.name, at: Date.now() / 1000 }); $("text").value = ""; refreshSla(); })
      .catch(function (e) {
        if (e.data && e.data.template_available &&
            window.confirm("The voter's 24-hour WhatsApp window is closed, so this reply cannot be sent.\n" +
                           "Send the approved follow-up template instead (it asks them to write again)?")) {
          api("POST", chatPath(conv) + "/template", {})
            .then(function (r) { addTurn({ who: "agent", text: "[template: " + r.template + "]", agent: state.me.name }); })
            .catch(function (e2) { notice(e2.message); });
        } else { notice(e.message); }
      });
  }

  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", "/login", { name: $("login-name").value, password: $("login-password").value })
      .then(function () { return api("GET", "/me"); }).then(start)
      .catch(function (e) { $("login-error").textContent = e.message; });
  });
  $("refresh-callbacks").addEventListener("click", refreshCallbacks);
  $("logout").addEventListener("click", function () { api("POST", "/logout").then(showLogin); });
  $("presence").addEventListener("change", function () { api("POST", "/presence", { presence: $("presence").value }); });
  $("ui-lang").addEventListener("change", function () { window.I18N.set($("ui-lang").value); renderNotify(); renderChats(); renderLabelChoices(); });
  $("notify").addEventListener("click", function () {
    if (!window.Notification) return;
    beep();  // a click lets the page play sound from now on
    Notification.requestPermission().then(renderNotify);
  });
  $("take").addEventListener("click", takeNext);
  $("accept").addEventListener("click", function () {
    if (!state.current) return;
    var conv = state.current.conversation_id;
    api("POST", chatPath(conv) + "/accept").then(function () { delete state.offers[conv]; $("accept").hidden = true; renderChats(); })
      .catch(function (e) { notice(e.message); delete state.offers[conv]; renderChats(); });
  });
  $("canned").addEventListener("change", function () { useCanned($("canned").value); $("canned").value = ""; });
  $("add-label").addEventListener("change", function () { var v = $("add-label").value; if (v) setLabel(v, true); $("add-label").value = ""; });
  $("compose").addEventListener("submit", function (event) { event.preventDefault(); sendReply(); });
  // Enter sends; Shift+Enter is a new line (the textarea's own behaviour).
  $("text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendReply(); }
  });
  $("note-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("note-text").value.trim();
    if (!text || !state.current) return;
    api("POST", chatPath(state.current.conversation_id) + "/notes", { text: text })
      .then(function (data) { addTurn(data.note); $("note-text").value = ""; })
      .catch(function (e) { notice(e.message); });
  });
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || $("app").hidden) return;
    var key = event.key.toLowerCase(), handled = true;
    if (key === "t" && !$("take").hidden) takeNext();
    else if (key === "n") nextChat();
    else if (key === "c") $("canned").focus();
    else if (key === "s") $("show-search").click();
    else if (/^[1-9]$/.test(key)) useCanned(Number(key) - 1);
    else handled = false;
    if (handled) event.preventDefault();
  });
  $("close").addEventListener("click", function () {
    if (!state.current) return;
    api("POST", chatPath(state.current.conversation_id) + "/close", { disposition: $("disposition").value })
      .then(function () { notice(T("closed_back")); dropCurrent(); refreshSla(); })
      .catch(function (e) { notice(e.message); });
  });
  $("transfer").addEventListener("click", function () {
    if (!state.current) return;
    var body = {};
    var to = $("transfer-to").value;
    if ($("transfer-agent").value.trim()) body.agent = $("transfer-agent").value.trim();
    else if (to.indexOf("language:") === 0) body.language = to.slice(9);
    else { notice(T("choose_queue")); return; }
    api("POST", chatPath(state.current.conversation_id) + "/transfer", body)
      .then(function () { notice(T("transferred")); dropCurrent(); })
      .catch(function (e) { notice(e.message); });
  });

  window.SamvadConsole = { api: api, el: el, notice: notice, state: state, addTurn: addTurn, timerText: timerText, clock: clock, since: since };
  api("GET", "/me").then(start).catch(function () { showLogin(); });
})();
