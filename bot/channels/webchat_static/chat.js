// Samvad web chat: plain JS, no build step. Voter text is always shown as text, never as HTML.
(function () {
  "use strict";
  // The gateway issues the secret; only its digest is ever shown to anyone (bot/channels/webchat.py).
  var KEY = "samvad.secret";
  var OLD_KEY = "samvad.voter"; // ids browsers made before: the gateway no longer takes them
  var RESEND_MS = 5000;
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var status = document.getElementById("status");
  var ws = null;
  var retryMs = 500;
  var pending = []; // not yet sent: the socket was not open
  var unacked = {}; // sent, not yet stored by the gateway: id -> {frame, at}
  var seq = 0;

  // Unique within this browser's conversation; never Math.random (nothing here needs to be secret).
  function messageId() {
    seq += 1;
    return Date.now().toString(36) + "-" + seq.toString(36);
  }

  function add(who, text, buttons) {
    var li = document.createElement("li");
    li.className = "msg msg--" + who;
    li.textContent = text;
    if (buttons && buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () {
          add("voter", b.title);
          send({ type: "button", payload: b.payload, title: b.title });
        });
        row.appendChild(btn);
      });
      li.appendChild(row);
    }
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function setStatus(text) {
    status.hidden = !text;
    status.textContent = text || "";
  }

  function transmit(frame) {
    unacked[frame.id] = { frame: frame, at: Date.now() };
    ws.send(JSON.stringify(frame));
  }

  function send(frame) {
    frame.id = messageId();
    if (ws && ws.readyState === WebSocket.OPEN && ws.ready) transmit(frame);
    else pending.push(frame);
  }

  // What the gateway did not confirm as stored goes again; it recognises a resend by its id.
  function resendUnacked(olderThanMs) {
    var now = Date.now();
    Object.keys(unacked).forEach(function (id) {
      if (now - unacked[id].at >= olderThanMs && ws && ws.ready) transmit(unacked[id].frame);
    });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/webchat/ws");
    ws.onopen = function () {
      retryMs = 500;
      setStatus("");
      ws.send(JSON.stringify({ type: "hello", secret: localStorage.getItem(KEY) }));
      ws.ready = true;
      resendUnacked(0);
      while (pending.length) transmit(pending.shift());
    };
    ws.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "identity") {
        localStorage.setItem(KEY, frame.secret);
        localStorage.removeItem(OLD_KEY);
      } else if (frame.type === "ack") {
        delete unacked[frame.id];
      } else if (frame.type === "history") {
        log.textContent = "";
        frame.turns.forEach(function (t) {
          // Skip placeholders ("<unsupported>") and raw button payloads ("/intent").
          if (t.text.charAt(0) === "<" || (t.who === "voter" && t.text.charAt(0) === "/")) return;
          add(t.who, t.text);
        });
      } else if (frame.type === "message") {
        add(frame.from || "bot", frame.text, frame.buttons);
      } else if (frame.type === "error") {
        setStatus(frame.error);
      }
    };
    ws.onclose = function () {
      setStatus("फिर से जुड़ रहे हैं… · Reconnecting…");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    add("voter", text);
    send({ type: "message", text: text });
    input.value = "";
  });

  setInterval(function () { resendUnacked(RESEND_MS); }, RESEND_MS);
  connect();
})();
