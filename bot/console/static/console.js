// Samvad agent console: plain JS, no build step. Every voter text is shown with textContent, never as HTML.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var state = { me: null, chats: [], current: null, canned: [], ws: null, unread: {} };

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

  function showLogin() { $("app").hidden = true; $("login").hidden = false; if (state.ws) state.ws.close(); }

  function start(me) {
    state.me = me;
    $("login").hidden = true; $("app").hidden = false;
    $("me").textContent = me.name + " (" + me.role + ", " + me.languages.join("/") + ")";
    $("presence").value = me.presence && me.presence !== "offline" ? me.presence : "available";
    state.chats = me.chats || [];
    renderChats();
    api("GET", "/canned").then(function (data) {
      state.canned = data.canned;
      var select = $("canned");
      data.canned.forEach(function (c, i) { var o = el("option", null, c.title); o.value = i; select.appendChild(o); });
    });
    if (me.role === "supervisor") { $("supervisor").hidden = false; refreshSupervisor(); setInterval(refreshSupervisor, 10000); }
    refreshCallbacks();
    setInterval(refreshCallbacks, 30000);
    connect();
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/console/ws");
    state.ws = ws;
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "queues") renderQueues(msg.queues);
      else if (msg.type === "voter_message") {
        if (state.current && state.current.conversation_id === msg.conversation_id) {
          addTurn({ who: "voter", text: msg.text, media: msg.media });
        } else { state.unread[msg.conversation_id] = true; renderChats(); }
      }
    };
    ws.onclose = function () { if (!$("app").hidden) setTimeout(connect, 2000); };
  }

  function renderQueues(queues) {
    var box = $("queues"); box.textContent = "";
    Object.keys(queues).forEach(function (lang) {
      var q = queues[lang];
      box.appendChild(el("span", null, lang + ": " + q.depth + " waiting" + (q.depth ? " (oldest " + Math.round(q.oldest_wait_s) + "s)" : "")));
    });
  }

  function renderChats() {
    var list = $("chats"); list.textContent = "";
    state.chats.forEach(function (conv) {
      var li = el("li"); var b = el("button", state.unread[conv] ? "unread" : "", conv);
      b.addEventListener("click", function () { openChat(conv); });
      li.appendChild(b); list.appendChild(li);
    });
  }

  function addTurn(turn) {
    var li = el("li", "turn turn--" + turn.who, turn.text);
    if (turn.media && turn.media.media_id && state.current) {
      var src = "/console/api/chats/" + encodeURIComponent(state.current.conversation_id) + "/media/" +
        encodeURIComponent(turn.media.media_id);
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
    var label = turn.who + (turn.intent ? " · intent: " + turn.intent : "") + (turn.agent ? " · " + turn.agent : "");
    li.appendChild(el("small", null, label));
    $("transcript").appendChild(li);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function showChat(chat) {
    state.current = chat; delete state.unread[chat.conversation_id]; renderChats();
    $("chat").hidden = false;
    $("chat-title").textContent = chat.conversation_id;
    $("chat-meta").textContent = "language: " + chat.language + " · channel: " + chat.channel +
      " · reason: " + (chat.reason || "-") + " · topic: " + (chat.topic || "-");
    $("transcript").textContent = "";
    chat.transcript.forEach(addTurn);
  }

  function openChat(conv) { api("GET", "/chats/" + encodeURIComponent(conv)).then(showChat).catch(function (e) { notice(e.message); }); }

  function dropCurrent() {
    var conv = state.current.conversation_id;
    state.chats = state.chats.filter(function (c) { return c !== conv; });
    state.current = null; $("chat").hidden = true; renderChats();
  }

  function refreshCallbacks() {
    api("GET", "/callbacks").then(function (data) {
      var list = $("callbacks"); list.textContent = "";
      if (!data.callbacks.length) list.appendChild(el("li", "meta", "No open call-back requests."));
      data.callbacks.forEach(function (c) {
        var li = el("li");
        var phone = el("a", null, c.phone); phone.href = "tel:" + c.phone;
        li.appendChild(phone);
        li.appendChild(el("div", "meta", c.language + " · " + (c.topic || "-") + " · " + new Date(c.requested_at * 1000).toLocaleString()));
        var details = el("details"); details.appendChild(el("summary", null, "transcript"));
        c.transcript.forEach(function (t) { details.appendChild(el("div", "meta", t.who + ": " + t.text)); });
        li.appendChild(details);
        ["done", "failed"].forEach(function (status) {
          var b = el("button", null, status);
          b.addEventListener("click", function () {
            api("POST", "/callbacks/" + encodeURIComponent(c.id), { status: status }).then(refreshCallbacks).catch(function (e) { notice(e.message); });
          });
          li.appendChild(b);
        });
        list.appendChild(li);
      });
    }).catch(function (e) { notice(e.message); });
  }

  function refreshSupervisor() {
    api("GET", "/supervisor").then(function (data) {
      var body = $("sup-body"); body.textContent = "";
      body.appendChild(el("p", null, "Today: " + data.today.handled + " handled, median " + (data.today.median_handle_s === null ? "-" : data.today.median_handle_s + "s")));
      var table = el("table"); var head = el("tr");
      ["agent", "status", "load"].forEach(function (h) { head.appendChild(el("th", null, h)); });
      table.appendChild(head);
      data.agents.forEach(function (a) {
        var row = el("tr");
        [a.name, a.disabled ? "disabled" : a.presence, a.load + "/" + a.capacity].forEach(function (v) { row.appendChild(el("td", null, v)); });
        table.appendChild(row);
      });
      body.appendChild(table);
      body.appendChild(el("p", null, "Open call-backs: " + data.callbacks_open));
      var qs = Object.keys(data.queues).map(function (l) { return l + ": " + data.queues[l].depth + " waiting, oldest " + Math.round(data.queues[l].oldest_wait_s) + "s"; });
      body.appendChild(el("p", null, "Queues: " + qs.join(" · ")));
      body.appendChild(el("h3", null, "Dead letters (" + data.dead_letters.length + ")"));
      data.dead_letters.forEach(function (d) { body.appendChild(el("p", "meta", d.conversation_id + " · " + d.language + " · " + d.reason)); });
    }).catch(function (e) { notice(e.message); });
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
  $("take").addEventListener("click", function () {
    api("POST", "/take").then(function (data) {
      if (!data.chat) { notice("Nobody is waiting in your languages."); return; }
      notice("");
      if (state.chats.indexOf(data.chat.conversation_id) < 0) state.chats.push(data.chat.conversation_id);
      showChat(data.chat);
    }).catch(function (e) { notice(e.message); });
  });
  $("canned").addEventListener("change", function () {
    var c = state.canned[$("canned").value];
    if (c && state.current) $("text").value = c[state.current.language] || c.hi;
    $("canned").value = "";
  });
  $("compose").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("text").value.trim();
    if (!text || !state.current) return;
    api("POST", "/chats/" + encodeURIComponent(state.current.conversation_id) + "/messages", { text: text })
      .then(function () { addTurn({ who: "agent", text: text, agent: state.me.name }); $("text").value = ""; })
      .catch(function (e) {
        if (e.data && e.data.template_available &&
            window.confirm("The voter's 24-hour WhatsApp window is closed, so this reply cannot be sent.\n" +
                           "Send the approved follow-up template instead (it asks them to write again)?")) {
          var conv = state.current.conversation_id;
          api("POST", "/chats/" + encodeURIComponent(conv) + "/template", {})
            .then(function (r) { addTurn({ who: "agent", text: "[template: " + r.template + "]", agent: state.me.name }); })
            .catch(function (e2) { notice(e2.message); });
        } else { notice(e.message); }
      });
  });
  $("close").addEventListener("click", function () {
    if (!state.current) return;
    api("POST", "/chats/" + encodeURIComponent(state.current.conversation_id) + "/close", { disposition: $("disposition").value })
      .then(function () { notice("Closed; the assistant has the conversation again."); dropCurrent(); })
      .catch(function (e) { notice(e.message); });
  });
  $("transfer").addEventListener("click", function () {
    if (!state.current) return;
    var body = {};
    var to = $("transfer-to").value;
    if ($("transfer-agent").value.trim()) body.agent = $("transfer-agent").value.trim();
    else if (to.indexOf("language:") === 0) body.language = to.slice(9);
    else { notice("Choose a queue or type an agent name."); return; }
    api("POST", "/chats/" + encodeURIComponent(state.current.conversation_id) + "/transfer", body)
      .then(function () { notice("Transferred."); dropCurrent(); })
      .catch(function (e) { notice(e.message); });
  });

  api("GET", "/me").then(start).catch(function () { showLogin(); });
})();
