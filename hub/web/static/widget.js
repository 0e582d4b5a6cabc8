/* Relaydesk chat widget page: one WebSocket to the hub; the visitor token is kept in
   localStorage so the visitor (and their history) is remembered across page loads. Messages
   not yet acknowledged are resent with the same client id after a reconnect: the hub stores
   each client id once. Files are uploaded over HTTP first (with the visitor token); the message
   frame then names the upload ids. */
(function () {
  "use strict";
  var root = document.getElementById("rdw");
  var settings = JSON.parse(root.getAttribute("data-settings"));
  var key = "relaydesk-widget:" + settings.channel;
  var log = document.getElementById("rdw-log");
  var statusEl = document.getElementById("rdw-status");
  var errorEl = document.getElementById("rdw-error");
  var form = document.getElementById("rdw-compose");
  var input = document.getElementById("rdw-text");
  var emailForm = document.getElementById("rdw-email-form");
  var emailSaved = document.getElementById("rdw-email-saved");
  var fileInput = document.getElementById("rdw-file");
  var attachButton = document.getElementById("rdw-attach");
  var chosenList = document.getElementById("rdw-chosen");
  var chosen = [];       // File objects picked for the next message

  var socket = null;
  var ready = false;
  var lastId = 0;
  var shown = {};        // message id -> element
  var lastVisitorId = 0; // the visitor's latest stored message: earlier buttons are answered
  var pending = {};      // client id -> {text, element}
  var retryDelay = 500;
  var typingTimer = 0;

  function storedToken() {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function storeToken(token) {
    try { window.localStorage.setItem(key, token); } catch (e) { /* private mode */ }
  }
  function clientId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function setState(state, text) {
    root.setAttribute("data-state", state);
    statusEl.textContent = text;
  }
  function showError(text) {
    errorEl.textContent = text;
    errorEl.hidden = !text;
  }
  function formatSize(bytes) {
    if (bytes >= 1024 * 1024) { return (bytes / (1024 * 1024)).toFixed(1) + " MB"; }
    if (bytes >= 1024) { return Math.round(bytes / 1024) + " KB"; }
    return bytes + " bytes";
  }
  function fileList(files) {
    // files: [{filename, size, url?}]; a link downloads the file (served as an attachment).
    var list = document.createElement("ul");
    list.className = "rdw-files";
    files.forEach(function (file) {
      var entry = document.createElement("li");
      var name = document.createElement(file.url ? "a" : "span");
      name.className = "rdw-file";
      name.textContent = file.filename;
      if (file.url) {
        name.href = file.url;
        name.setAttribute("download", file.filename);
        name.rel = "noopener";
      }
      var size = document.createElement("span");
      size.className = "rdw-size";
      size.textContent = "(" + formatSize(file.size) + ")";
      entry.appendChild(name);
      entry.appendChild(size);
      list.appendChild(entry);
    });
    return list;
  }
  function bubble(from, text, meta, files) {
    var item = document.createElement("li");
    item.className = "rdw-msg rdw-" + from;
    item.textContent = text;
    if (files && files.length) { item.appendChild(fileList(files)); }
    if (meta) {
      var small = document.createElement("span");
      small.className = "rdw-meta";
      small.textContent = meta;
      item.appendChild(small);
    }
    return item;
  }
  // A bot's card (image, title) and buttons under its message. A quick reply is a real
  // <button> (in the tab order after the text); pressing it sends the title as the visitor's
  // message with the payload as "button". Once pressed, or once the visitor wrote after the
  // message, the buttons are disabled. Link buttons are plain links.
  function cardOf(card) {
    var figure = document.createElement("figure");
    figure.className = "rdw-card";
    if (card.image) {
      var image = document.createElement("img");
      image.src = card.image;
      image.alt = card.title || "";
      image.loading = "lazy";
      image.referrerPolicy = "no-referrer";
      figure.appendChild(image);
    }
    if (card.title) {
      var title = document.createElement("figcaption");
      title.className = "rdw-card-title";
      title.textContent = card.title;
      figure.appendChild(title);
    }
    return figure;
  }
  function choicesOf(buttons, messageId) {
    var group = document.createElement("div");
    group.className = "rdw-choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Choices");
    group.setAttribute("data-for", String(messageId));
    buttons.forEach(function (choice) {
      var control;
      if (choice.url) {
        control = document.createElement("a");
        control.className = "rdw-choice rdw-choice-link";
        control.href = choice.url;
        control.target = "_blank";
        control.rel = "noopener noreferrer";
        control.textContent = choice.title;
      } else {
        control = document.createElement("button");
        control.type = "button";
        control.className = "rdw-choice";
        control.textContent = choice.title;
        control.addEventListener("click", function () {
          if (control.disabled) { return; }
          control.setAttribute("aria-pressed", "true");
          settle(group);
          sendText(choice.title, [], choice.payload || choice.title);
        });
      }
      group.appendChild(control);
    });
    return group;
  }
  function settle(group) {
    Array.prototype.forEach.call(group.querySelectorAll("button"), function (control) {
      control.disabled = true;
    });
    group.classList.add("rdw-answered");
  }
  function settleBefore(id) {
    // The visitor wrote: the buttons of earlier messages are answered.
    Array.prototype.forEach.call(log.querySelectorAll(".rdw-choices"), function (group) {
      var of = Number(group.getAttribute("data-for") || 0);
      if (!id || of < id) { settle(group); }
    });
  }
  function place(item, id) {
    // Keep the log in message-id order; pending bubbles stay at the end.
    var children = log.children;
    for (var i = 0; i < children.length; i++) {
      var other = Number(children[i].getAttribute("data-id") || 0);
      if (id && other && other > id) { log.insertBefore(item, children[i]); return; }
      if (id && children[i].classList.contains("rdw-pending")) {
        log.insertBefore(item, children[i]); return;
      }
    }
    log.appendChild(item);
  }
  function scroll() { log.scrollTop = log.scrollHeight; }

  function showMessage(message) {
    if (message.id > lastId) { lastId = message.id; }
    if (shown[message.id]) { return; }
    var waiting = message.client_id && pending[message.client_id];
    if (waiting) {
      confirm(message.client_id, message.id, message);
      return;
    }
    var meta = message.from === "agent" ? (message.author || "Support") : "";
    var item = bubble(message.from, message.text, meta, message.files);
    item.setAttribute("data-id", String(message.id));
    if (message.card) { item.insertBefore(cardOf(message.card), item.firstChild); }
    if (message.buttons && message.buttons.length) {
      var group = choicesOf(message.buttons, message.id);
      item.insertBefore(group, item.querySelector(".rdw-meta"));
      if (lastVisitorId > message.id) { settle(group); }
    }
    if (message.from === "visitor") { noteVisitor(message.id); }
    shown[message.id] = item;
    place(item, message.id);
    scroll();
  }
  function noteVisitor(id) {
    if (id > lastVisitorId) { lastVisitorId = id; }
    settleBefore(id);
  }
  function confirm(client, id, message) {
    var waiting = pending[client];
    if (!waiting) { return; }
    noteVisitor(id);
    if (message && message.files && message.files.length) {  // links instead of plain names
      var old = waiting.element.querySelector(".rdw-files");
      if (old) { old.replaceWith(fileList(message.files)); }
    }
    delete pending[client];
    if (shown[id]) { waiting.element.remove(); return; }
    waiting.element.classList.remove("rdw-pending");
    waiting.element.setAttribute("data-id", String(id));
    shown[id] = waiting.element;
    waiting.element.remove();
    place(waiting.element, id);
    if (id > lastId) { lastId = id; }
  }
  function send(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function messageFrame(client) {
    var waiting = pending[client];
    var frame = { type: "message", id: client, text: waiting.text, files: waiting.fileIds || [] };
    if (waiting.button) { frame.button = waiting.button; }
    return frame;
  }
  function flushPending() {
    Object.keys(pending).forEach(function (client) {
      if (pending[client].fileIds) { send(messageFrame(client)); }  // else: still uploading
    });
  }

  function onFrame(frame) {
    if (frame.type === "welcome") {
      storeToken(frame.token);
      ready = true;
      retryDelay = 500;
      setState("live", "Online");
      showError("");
      if (frame.email && emailSaved) {
        emailSaved.textContent = "We will email " + frame.email + " if you step away.";
        emailSaved.hidden = false;
      }
      flushPending();
    } else if (frame.type === "message") {
      showMessage(frame.message);
    } else if (frame.type === "ack") {
      confirm(frame.client_id, frame.id, frame);
    } else if (frame.type === "typing") {
      window.clearTimeout(typingTimer);
      if (frame.stopped) {
        statusEl.textContent = ready ? "Online" : statusEl.textContent;
      } else {
        statusEl.textContent = (frame.name || "Support") + " is typing…";
        typingTimer = window.setTimeout(function () {
          if (ready) { statusEl.textContent = "Online"; }
        }, 9000);
      }
    } else if (frame.type === "email_saved") {
      emailSaved.textContent = "Thanks! We will email " + frame.email + " if you step away.";
      emailSaved.hidden = false;
    } else if (frame.type === "error") {
      var waiting = frame.client_id && pending[frame.client_id];
      if (waiting && frame.code === "unavailable") {
        window.setTimeout(function () {  // not stored: the same id again, a little later
          if (pending[frame.client_id]) { send(messageFrame(frame.client_id)); }
        }, 2000);
      } else if (waiting) {
        waiting.element.classList.add("rdw-failed");
        delete pending[frame.client_id];
      }
      if (frame.code !== "invalid_token") { showError(frame.message); }
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    setState("connecting", "Connecting…");
    socket = new WebSocket(scheme + window.location.host + "/widget/" +
      encodeURIComponent(settings.channel) + "/ws");
    socket.onopen = function () {
      var hello = { type: "hello", since: lastId };
      var where = new URLSearchParams(window.location.hash.slice(1));
      hello.page = where.get("page") || document.referrer || "";
      hello.title = where.get("title") || "";
      var token = storedToken();
      if (token) { hello.token = token; }
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    socket.onclose = function () {
      ready = false;
      setState("offline", "Reconnecting…");
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    };
  }

  function showChosen() {
    chosenList.textContent = "";
    chosen.forEach(function (file, index) {
      var entry = document.createElement("li");
      entry.className = "rdw-chosen-file";
      var label = document.createElement("span");
      label.textContent = file.name + " (" + formatSize(file.size) + ")";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + file.name);
      remove.addEventListener("click", function () {
        chosen.splice(index, 1);
        showChosen();
      });
      entry.appendChild(label);
      entry.appendChild(remove);
      chosenList.appendChild(entry);
    });
    chosenList.hidden = chosen.length === 0;
  }
  function pickFiles(files) {
    var refused = [];
    Array.prototype.forEach.call(files, function (file) {
      if (file.size > settings.maxFileBytes) {
        refused.push("\u201C" + file.name + "\u201D is too large (" + formatSize(file.size) +
          "); files may be at most " + formatSize(settings.maxFileBytes) + ".");
      } else if (chosen.length >= settings.maxFiles) {
        refused.push("At most " + settings.maxFiles + " files per message.");
      } else {
        chosen.push(file);
      }
    });
    showError(refused.join(" "));
    showChosen();
  }
  function uploadOne(file) {
    var body = new FormData();
    body.append("file", file, file.name);
    return window.fetch("/widget/" + encodeURIComponent(settings.channel) + "/uploads", {
      method: "POST",
      body: body,
      credentials: "omit",
      headers: { "X-Widget-Token": storedToken() || "" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          var problem = (answer.error && answer.error.message) || ("error " + response.status);
          throw new Error("Could not upload " + file.name + ": " + problem);
        }
        return answer.id;
      });
    });
  }
  function uploadAll(files) {
    var ids = [];
    return files.reduce(function (done, file) {
      return done.then(function () {
        return uploadOne(file).then(function (id) { ids.push(id); });
      });
    }, Promise.resolve()).then(function () { return ids; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    var files = chosen.slice();
    if (!text && !files.length) { return; }
    if (text.length > settings.maxChars) {
      showError("Your message is too long (" + settings.maxChars + " characters at most).");
      return;
    }
    if (files.length && !storedToken()) {
      showError("Wait a moment until the chat is connected, then send your files.");
      return;
    }
    input.value = "";
    chosen = [];
    showChosen();
    showError("");
    sendText(text, files, null);
  });
  function sendText(text, files, button) {
    // A visitor's message (with files, or a button's payload): shown pending until acked.
    var client = clientId();
    var item = bubble("visitor", text, "", files.map(function (file) {
      return { filename: file.name, size: file.size };
    }));
    item.classList.add("rdw-pending");
    log.appendChild(item);
    scroll();
    var waiting = { text: text, element: item, fileIds: files.length ? null : [], button: button };
    pending[client] = waiting;
    settleBefore(0);
    if (!files.length) {
      if (ready) { send(messageFrame(client)); }
      return;
    }
    uploadAll(files).then(function (ids) {
      waiting.fileIds = ids;
      if (ready && pending[client]) { send(messageFrame(client)); }
    }, function (error) {
      item.classList.add("rdw-failed");
      delete pending[client];
      showError(error.message);
    });
  }
  attachButton.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    pickFiles(fileInput.files);
    fileInput.value = "";
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  if (emailForm) {
    emailForm.addEventListener("submit", function (event) {
      event.preventDefault();
      send({
        type: "email",
        email: document.getElementById("rdw-email").value,
        name: document.getElementById("rdw-name").value
      });
    });
  }
  connect();
}());
