// Samvad web chat: plain JS, no build step. Voter text is always shown as text, never as HTML.
(function () {
  "use strict";
  var KEY = "samvad.voter";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var status = document.getElementById("status");
  var ws = null;
  var retryMs = 500;
  var pending = [];

  function voterId() {
    var id = localStorage.getItem(KEY);
    if (!id) {
      id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + "-" + Math.random().toString(16).slice(2));
      localStorage.setItem(KEY, id);
    }
    return id;
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

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    else pending.push(frame);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/webchat/ws?voter=" + encodeURIComponent(voterId()));
    ws.onopen = function () {
      retryMs = 500;
      setStatus("");
      while (pending.length) ws.send(JSON.stringify(pending.shift()));
    };
    ws.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "history") {
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

  connect();
})();
