/* Relaydesk agent app: live updates (server-sent events), keyboard shortcuts, the composer.
   Hand-written, no dependencies; the pages work without it, this makes them faster to use. */
(() => {
  "use strict";
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const body = document.body;
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const me = body.dataset.me || "";

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRF-Token": csrf(),
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(data),
    });
  }

  /* Notices fade out; the notice leaves the address bar so a reload does not repeat it. */
  const toast = $("[data-toast]");
  if (toast) {
    setTimeout(() => {
      toast.classList.add("gone");
      toast.inert = true; /* no longer reachable by keyboard or screen readers */
    }, 3000);
    setTimeout(() => toast.remove(), 3600);
    const url = new URL(location.href);
    if (url.searchParams.has("notice")) {
      url.searchParams.delete("notice");
      history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLSelectElement)) return;
    const form = target.form;
    if (!form) return;
    if (target.hasAttribute("data-autosubmit") || form.hasAttribute("data-autosubmit")) {
      form.requestSubmit();
    } else if (target.hasAttribute("data-autosubmit-field")) {
      form.requestSubmit();
    }
  });
  $$("[data-back]").forEach((link) =>
    link.addEventListener("click", (event) => {
      if (history.length > 1) {
        event.preventDefault();
        history.back();
      }
    })
  );

  /* Live updates. EventSource reconnects by itself and sends Last-Event-ID, so the server
     replays what was missed; if the browser gives up, we reconnect with ?after=. */
  const KINDS = ["message", "activity", "assignment", "note", "tags", "team", "delivery", "typing", "presence", "sla", "notice", "reset", "bot_handoff"];
  function connect(onEvent) {
    const badge = $("#live-state");
    let lastId = body.dataset.eventId || ""; // events after the page was rendered are replayed
    let down = false;
    const show = (ok) => {
      if (!badge) return;
      badge.hidden = false;
      badge.textContent = ok ? "\u25CF Live" : "Reconnecting\u2026";
      badge.className = "live-state " + (ok ? "ok" : "down");
      badge.dataset.state = ok ? "live" : "down";
    };
    const open = () => {
      const source = new EventSource("/ui/events" + (lastId ? "?after=" + encodeURIComponent(lastId) : ""));
      source.onopen = () => {
        show(true);
        if (down) {
          down = false;
          onEvent({ kind: "reconnected" });
        }
      };
      source.onerror = () => {
        show(false);
        down = true;
        if (source.readyState !== EventSource.CLOSED) return;
        // Refused: signed out (or deactivated) sends the page to sign-in; else try again.
        fetch(location.href, { redirect: "manual" }).then((r) => {
          if (r.type === "opaqueredirect" || r.status === 401) location.reload();
          else setTimeout(open, 2000);
        }, () => setTimeout(open, 2000));
      };
      KINDS.forEach((kind) =>
        source.addEventListener(kind, (event) => {
          if (event.lastEventId) lastId = event.lastEventId;
          const data = JSON.parse(event.data);
          announce(data);
          onEvent(data);
        })
      );
    };
    open();
  }

  /* SLA countdowns: the page gives the due time (data-due) and the browser keeps the text and
     the colour current between pushes (an "sla" event re-renders the part with a new due time). */
  const SOON_SECONDS = 3600;
  function span(seconds) {
    for (const [size, unit] of [[86400, "d"], [3600, "h"], [60, "m"]]) {
      if (seconds >= size) return Math.floor(seconds / size) + unit;
    }
    return seconds < 45 ? "now" : "1m";
  }
  function tickSla() {
    document.querySelectorAll("[data-due]").forEach((timer) => {
      const left = Math.round((Date.parse(timer.dataset.due) - Date.now()) / 1000);
      if (Number.isNaN(left)) return;
      const text = span(Math.abs(left));
      const when = text === "now" ? text : left > 0 ? "in " + text : text + " ago";
      timer.textContent = "SLA " + (left < 0 ? "breached " : "") + when;
      timer.classList.toggle("sla-breached", left < 0);
      timer.classList.toggle("sla-due_soon", left >= 0 && left < SOON_SECONDS);
      timer.classList.toggle("sla-on_track", left >= SOON_SECONDS);
    });
  }
  setInterval(tickSla, 15000);
  tickSla();

  /* Notices for me (an SLA at risk or breached, an @mention) pop up on whatever page is open. */
  const announced = new Set();
  function announce(event) {
    const mine = (ids) => Array.isArray(ids) && ids.map(String).includes(me);
    let text = null;
    if (event.kind === "notice" && mine(event.recipients)) text = event.text;
    if (event.kind === "bot_handoff" && event.state === "pending_human") {
      text = "Bot " + event.bot + " handed conversation #" + event.conversation_id + " over: " + event.reason_text + ".";
    }
    if (event.kind === "note" && mine(event.mentioned)) {
      text = "You were mentioned in conversation #" + event.conversation_id + ".";
    }
    const key = event.kind + ":" + event.conversation_id + ":" + (event.message_id || event.text);
    if (!text || announced.has(key)) return;
    announced.add(key);
    /* The live region holds the link: a link given the role "status" loses its name. */
    const box = document.createElement("div");
    box.className = "toast";
    box.setAttribute("role", event.notice === "sla_breach" ? "alert" : "status");
    box.dataset.notice = event.notice || "mention";
    const link = document.createElement("a");
    link.href = "/ui/conversations/" + event.conversation_id;
    link.textContent = text;
    box.append(link);
    document.body.append(box);
    setTimeout(() => {
      box.classList.add("gone");
      box.inert = true; /* no longer reachable by keyboard or screen readers */
    }, 8000);
    setTimeout(() => box.remove(), 8600);
  }

  function refresher(load) {
    let busy = false;
    let again = false;
    let timer = null;
    const run = async () => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        await load();
      } finally {
        busy = false;
        if (again) {
          again = false;
          run();
        }
      }
    };
    return () => {
      clearTimeout(timer);
      timer = setTimeout(run, 60);
    };
  }

  /* ---------- Live operations (supervisors) ----------
     Any event that can move a figure (a message, an assignment, a status, a delivery, an
     agent's presence) fetches the figures again; a clock tick every 30 s keeps waits and SLA
     deadlines current. A refresh waits while the keyboard focus is in the figures (a link or
     a reassign form), so it never takes the focus away; it runs when the focus leaves. */
  if (body.dataset.live === "ops") {
    const figures = $("#live-figures");
    let held = false;
    const busy = () => {
      const active = document.activeElement;
      return Boolean(active && active !== figures && figures.contains(active));
    };
    const refresh = refresher(async () => {
      if (busy()) {
        held = true;
        return;
      }
      const response = await fetch(body.dataset.figuresUrl, {
        credentials: "same-origin",
        headers: { Accept: "text/html", "X-Relaydesk-Background": "1" },
      });
      if (!response.ok) return;
      figures.innerHTML = await response.text();
      figures.dataset.refreshed = String(Date.now());
    });
    figures.addEventListener("focusout", () => {
      setTimeout(() => {
        if (held && !busy()) {
          held = false;
          refresh();
        }
      }, 0);
    });
    connect((event) => {
      if (event.kind !== "typing") refresh();
    });
    setInterval(refresh, 30000);
  }

  /* ---------- Inbox ---------- */
  if (body.dataset.live === "inbox") {
    const rows = $("#rows");
    const bulk = $("[data-bulk]");
    let cursor = -1;
    const rowEls = () => $$("tr.conv", rows);
    const updateBulk = () => {
      const n = $$('input[name="ids"]:checked').length;
      bulk.classList.toggle("active", n > 0);
      $("[data-bulk-count]").textContent =
        n > 0 ? n + " selected" : "Select conversations for a bulk action";
    };
    const select = (index) => {
      const all = rowEls();
      if (!all.length) return;
      cursor = Math.max(0, Math.min(all.length - 1, index));
      all.forEach((row, i) => row.classList.toggle("selected", i === cursor));
      all[cursor].scrollIntoView({ block: "nearest" });
    };
    const refresh = refresher(async () => {
      const response = await fetch(body.dataset.rowsUrl + location.search, {
        credentials: "same-origin",
        headers: { Accept: "text/html", "X-Relaydesk-Background": "1" },
      });
      if (!response.ok) return;
      const checked = new Set($$('input[name="ids"]:checked').map((i) => i.value));
      const before = new Set(rowEls().map((row) => row.dataset.id));
      const selected = cursor >= 0 && rowEls()[cursor] ? rowEls()[cursor].dataset.id : null;
      rows.innerHTML = await response.text();
      $$('input[name="ids"]', rows).forEach((input) => (input.checked = checked.has(input.value)));
      rowEls().forEach((row, i) => {
        if (!before.has(row.dataset.id)) row.classList.add("fresh");
        if (row.dataset.id === selected) cursor = i;
      });
      if (selected) select(cursor);
      updateBulk();
      rows.dataset.refreshed = String(Date.now());
    });
    connect((event) => {
      if (event.kind !== "typing" && event.kind !== "presence") refresh();
    });
    rows.addEventListener("click", (event) => {
      const row = event.target.closest("tr.conv");
      if (!row || event.target.closest("input, a, button, label")) return;
      location.href = row.dataset.href;
    });
    document.addEventListener("change", (event) => {
      if (event.target.matches('input[name="ids"]')) updateBulk();
      if (event.target.matches("[data-check-all]")) {
        $$('input[name="ids"]').forEach((input) => (input.checked = event.target.checked));
        updateBulk();
      }
      if (event.target.matches("[data-bulk-action]")) {
        $$("[data-bulk-for]").forEach((control) => {
          const on = control.dataset.bulkFor === event.target.value;
          control.hidden = !on;
          control.disabled = !on;
        });
      }
    });
    updateBulk();
    shortcuts({
      j: () => select(cursor + 1),
      k: () => select(cursor - 1),
      o: () => cursor >= 0 && rowEls()[cursor] && (location.href = rowEls()[cursor].dataset.href),
      Enter: () => cursor >= 0 && rowEls()[cursor] && (location.href = rowEls()[cursor].dataset.href),
      x: () => {
        const row = rowEls()[cursor];
        if (!row) return;
        const box = $('input[name="ids"]', row);
        box.checked = !box.checked;
        updateBulk();
      },
      "/": () => $("[data-search]").focus(),
    });
  }

  /* ---------- Conversation ---------- */
  function fitFrames(root) {
    $$("iframe.mail-frame", root).forEach((frame) => {
      const fit = () => {
        try {
          const doc = frame.contentDocument;
          if (doc && doc.documentElement) {
            frame.style.height = Math.min(doc.documentElement.scrollHeight + 6, 1600) + "px";
          }
        } catch (error) {
          /* a frame we cannot measure keeps its default height */
        }
      };
      frame.addEventListener("load", fit);
      fit();
    });
  }

  if (body.dataset.live === "conversation") {
    const id = body.dataset.conversation;
    const live = $("#live");
    const collision = $("#collision");
    const typists = new Map();
    fitFrames(live);

    /* Remote images of a mail stay held until the agent asks for them, once per mail for as
       long as the page is open. */
    const shownImages = new Set();
    const showImages = (article) => {
      const frame = article.querySelector("iframe.mail-frame");
      const held = article.querySelector(".held");
      if (!frame || !held) return;
      frame.srcdoc = frame.srcdoc
        .split(' data-rd-src="')
        .join(' src="')
        .replace("img-src data: cid:", "img-src data: cid: https: http:");
      held.remove();
    };

    const showCollision = () => {
      const now = Date.now();
      for (const [key, entry] of typists) if (entry.until < now) typists.delete(key);
      const names = Array.from(typists.values()).map((entry) => entry.name);
      collision.hidden = names.length === 0;
      if (names.length) {
        $("[data-collision-names]", collision).textContent = names.join(", ");
        collision.querySelector("span").textContent =
          (names.length > 1 ? "are" : "is") + " replying to this conversation right now.";
      }
    };
    const refresh = refresher(async () => {
      const response = await fetch(body.dataset.liveUrl + location.search, {
        credentials: "same-origin",
        headers: { Accept: "text/html", "X-Relaydesk-Background": "1" },
      });
      if (!response.ok) return;
      live.innerHTML = await response.text();
      /* A refresh renders every mail with its remote images held again: show them once more
         where the agent already chose to see them. */
      shownImages.forEach((messageId) => {
        const article = document.getElementById(messageId);
        if (article) showImages(article);
      });
      fitFrames(live);
      live.dataset.refreshed = String(Date.now());
    });
    /* The outbox publishes every delivery state change (sent, failed with the reason,
       retrying): show it on the message at once, then re-render for the Retry button. */
    const LABELS = { queued: "Queued", retrying: "Queued", sent: "Sent", failed: "Failed" };
    const showDelivery = (event) => {
      const article = document.getElementById("m" + event.message_id);
      const footer = article && $("footer.delivery", article);
      if (!footer || !LABELS[event.state]) return;
      const state = event.state === "retrying" ? "queued" : event.state;
      article.dataset.state = state;
      footer.className = "delivery delivery-" + state;
      $(".state", footer).textContent = LABELS[event.state];
      let reason = $(".state + .small", footer);
      if (event.error && !reason) {
        reason = document.createElement("span");
        reason.className = "small";
        $(".state", footer).after(" ", reason);
      }
      if (reason) reason.textContent = event.error || "";
    };
    connect((event) => {
      if (event.kind === "typing") {
        if (String(event.conversation_id) !== id || String(event.agent_id) === me) return;
        if (event.stopped) typists.delete(event.agent_id);
        else typists.set(event.agent_id, { name: event.name, until: Date.now() + 9000 });
        showCollision();
        setTimeout(showCollision, 9500);
        return;
      }
      if (event.kind === "delivery" && String(event.conversation_id) === id) showDelivery(event);
      if (event.kind === "reset" || event.kind === "reconnected" || String(event.conversation_id) === id) {
        refresh();
      }
    });

    live.addEventListener("click", (event) => {
      const button = event.target.closest("[data-show-images]");
      if (!button) return;
      const article = button.closest("article");
      shownImages.add(article.id);
      showImages(article);
    });

    /* Composer: reply or note, typing signal, canned responses, Ctrl+Enter. */
    const composer = $("[data-composer]");
    const text = $("#composer-text");
    const send = $("[data-send]", composer);
    const setMode = (mode) => {
      $$("[data-mode]", composer).forEach((tab) => {
        const on = tab.dataset.mode === mode;
        tab.setAttribute("aria-selected", String(on));
        if (on) {
          composer.action = tab.dataset.action;
          send.textContent = tab.dataset.label;
        }
      });
      composer.classList.toggle("note-mode", mode === "note");
      text.placeholder =
        mode === "note"
          ? "Private note for your team. @name mentions a colleague."
          : "Write your reply\u2026 (type / for canned responses)";
    };
    $$("[data-mode]", composer).forEach((tab) =>
      tab.addEventListener("click", () => {
        setMode(tab.dataset.mode);
        text.focus();
      })
    );
    setMode("reply");
    let lastTyping = 0;
    text.addEventListener("input", () => {
      const now = Date.now();
      if (composer.classList.contains("note-mode")) return;
      if (now - lastTyping > 4000 && text.value.trim()) {
        lastTyping = now;
        post(`/ui/conversations/${id}/typing`, {}).catch(() => {});
      }
      const match = /^\/(\S*)$/.exec(text.value);
      if (match) openCanned(match[1]);
    });
    text.addEventListener("blur", () => {
      if (!text.value.trim() && lastTyping) {
        lastTyping = 0;
        post(`/ui/conversations/${id}/typing`, { state: "stop" }).catch(() => {});
      }
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
    composer.addEventListener("submit", () => {
      send.disabled = true;
    });

    const pop = $("[data-canned-pop]");
    const query = $("[data-canned-q]");
    const list = $("[data-canned-list]");
    let cannedTimer = null;
    const searchCanned = async () => {
      const url = `/ui/canned/search?conversation=${id}&q=${encodeURIComponent(query.value)}`;
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const { items } = await response.json();
      list.replaceChildren(
        ...items.map((item) => {
          const li = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          const title = document.createElement("strong");
          title.textContent = item.title;
          const shortcut = document.createElement("span");
          shortcut.className = "muted small";
          shortcut.textContent = "  /" + item.shortcut;
          button.append(title, shortcut);
          button.addEventListener("click", () => {
            text.value = /^\/\S*$/.test(text.value) ? item.text : (text.value ? text.value + "\n" : "") + item.text;
            pop.hidden = true;
            text.focus();
          });
          li.append(button);
          return li;
        })
      );
      if (!items.length) {
        const li = document.createElement("li");
        li.className = "muted small";
        li.textContent = "No canned response matches.";
        list.append(li);
      }
    };
    const openCanned = (initial) => {
      pop.hidden = false;
      if (typeof initial === "string") query.value = initial;
      searchCanned();
    };
    $("[data-canned]").addEventListener("click", () => {
      if (pop.hidden) {
        openCanned();
        query.focus();
      } else pop.hidden = true;
    });
    query.addEventListener("input", () => {
      clearTimeout(cannedTimer);
      cannedTimer = setTimeout(searchCanned, 120);
    });
    query.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        pop.hidden = true;
        text.focus();
      }
      if (event.key === "Enter") {
        event.preventDefault();
        const first = $("button", list);
        if (first) first.click();
      }
    });

    const choice = $("[data-snooze-choice]");
    const until = $("[data-snooze-until]");
    choice.addEventListener("change", () => {
      until.hidden = choice.value !== "custom";
      until.required = choice.value === "custom";
    });

    const click = (selector) => () => {
      const element = $(selector);
      if (element) element.click();
    };
    shortcuts({
      r: () => {
        setMode("reply");
        text.focus();
      },
      n: () => {
        setMode("note");
        text.focus();
      },
      a: click('[data-shortcut="a"]'),
      e: click('[data-shortcut="e"]'),
      O: click('[data-shortcut="O"]'),
      c: () => {
        openCanned();
        query.focus();
      },
    });
  }

  /* ---------- Keyboard shortcuts ---------- */
  function shortcuts(map) {
    let pendingG = false;
    document.addEventListener("keydown", (event) => {
      const target = event.target;
      if (event.key === "Escape" && target instanceof HTMLElement) {
        target.blur();
        return;
      }
      if (
        event.ctrlKey ||
        event.metaKey ||
        event.altKey ||
        target.closest("input, textarea, select, [contenteditable]") ||
        (event.key === "Enter" && target.closest("a, button, summary"))
      ) {
        return; /* Enter on a focused link or button follows it, as without the shortcuts */
      }
      if (pendingG) {
        pendingG = false;
        if (event.key === "i") location.href = "/ui/inbox";
        return;
      }
      if (event.key === "g") {
        pendingG = true;
        setTimeout(() => (pendingG = false), 1000);
        return;
      }
      if (event.key === "?") {
        const help = $("#help");
        if (help && !help.open) help.showModal();
        return;
      }
      const action = map[event.key];
      if (action) {
        event.preventDefault();
        action();
      }
    });
  }
  if (!body.dataset.live) shortcuts({});
  const helpButton = $("[data-help]");
  if (helpButton) helpButton.addEventListener("click", () => $("#help").showModal());
})();
