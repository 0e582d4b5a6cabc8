/* Relaydesk agent app: files in the reply box. Lists the chosen files (name, size, remove),
   refuses ones over the limit before sending, and sends the form as multipart with the CSRF
   header so the server can stream large files. Without this script the form still posts. */
(() => {
  "use strict";
  const box = document.querySelector("[data-attach]");
  if (!box) return;
  const form = box.closest("form");
  const input = box.querySelector("[data-attach-input]");
  const list = box.querySelector("[data-attach-list]");
  const problem = box.querySelector("[data-attach-error]");
  const maxBytes = Number(box.dataset.maxBytes);
  const maxFiles = Number(box.dataset.maxFiles);
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  let chosen = [];

  const size = (bytes) => {
    if (bytes < 1024) return `${bytes} bytes`;
    if (bytes < 1048576) return `${(bytes / 1024).toFixed(1)} KiB`;
    return `${(bytes / 1048576).toFixed(1)} MiB`;
  };
  const say = (text) => {
    problem.textContent = text;
    problem.hidden = !text;
  };

  const sync = () => {
    const transfer = new DataTransfer();
    chosen.forEach((file) => transfer.items.add(file));
    input.files = transfer.files;
    list.replaceChildren(
      ...chosen.map((file, index) => {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.className = "attach-name";
        name.textContent = file.name;
        const bytes = document.createElement("span");
        bytes.className = "muted small";
        bytes.textContent = size(file.size);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "attach-x";
        remove.textContent = "\u00d7";
        remove.setAttribute("aria-label", `Remove ${file.name}`);
        remove.addEventListener("click", () => {
          chosen.splice(index, 1);
          say("");
          sync();
        });
        item.append(name, " ", bytes, " ", remove);
        return item;
      })
    );
  };

  input.addEventListener("change", () => {
    const problems = [];
    for (const file of Array.from(input.files)) {
      const same = chosen.some(
        (f) => f.name === file.name && f.size === file.size && f.lastModified === file.lastModified
      );
      if (same) continue;
      if (file.size > maxBytes) {
        problems.push(`${file.name} is larger than the limit of ${size(maxBytes)}.`);
      } else if (chosen.length >= maxFiles) {
        problems.push(`At most ${maxFiles} files per message; ${file.name} was not added.`);
      } else {
        chosen.push(file);
      }
    }
    say(problems.join(" "));
    sync();
  });

  form.addEventListener("submit", async (event) => {
    if (!chosen.length) return;
    event.preventDefault();
    const send = form.querySelector("[data-send]");
    const action = form.getAttribute("action");
    say("");
    try {
      const response = await fetch(action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
        body: new FormData(form),
      });
      if (response.ok) {
        const mode = action.endsWith("/note") ? "note" : "reply";
        location.href = `${location.pathname}?notice=${mode}`;
        return;
      }
      let text = `The message was not sent (HTTP ${response.status}).`;
      try {
        const body = await response.json();
        if (body.error && body.error.message) text = `Not sent: ${body.error.message}.`;
      } catch (_) {
        /* not JSON: keep the generic text */
      }
      say(text);
    } catch (_) {
      say("The message was not sent: the server could not be reached. Try again.");
    }
    if (send) send.disabled = false;
  });
})();
