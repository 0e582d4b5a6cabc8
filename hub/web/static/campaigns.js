/* Relaydesk campaign pages: the editor's live preview (debounced), the segment's live count,
   and the campaign page's live progress (polled every second). Hand-written, no dependencies;
   every form works without it. */
(() => {
  "use strict";
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const number = (n) => Number(n || 0).toLocaleString("en-US");

  /* Every schedule field says where the browser is (minutes behind UTC). */
  $$("[data-tz-offset]").forEach((input) => { input.value = String(new Date().getTimezoneOffset()); });

  /* Confirmation before dangerous actions on the campaign page. */
  $$("form[data-confirm]").forEach((form) =>
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    })
  );

  /* --- the editor -------------------------------------------------------------------------- */
  const editor = $("#editor");
  const panel = $(".preview[data-preview-url]");
  if (editor && panel) {
    const channel = $("#preview-channel");
    const customer = $("#preview-customer");
    const state = $("#preview-state");
    const problem = $("#preview-error");
    const subject = $("#preview-subject");
    const frame = $("#preview-html");
    const text = $("#preview-text");
    let timer = 0;
    let sequence = 0;

    const showErrors = (fields) => {
      $$("[data-error-for]", editor).forEach((p) => {
        const key = p.dataset.errorFor;
        if (!key.startsWith("content.")) return;
        const why = fields[key];
        p.textContent = why || "";
        p.hidden = !why;
        const input = editor.querySelector(`[name="${key}"]`);
        if (input) {
          if (why) input.setAttribute("aria-invalid", "true");
          else input.removeAttribute("aria-invalid");
        }
      });
    };

    const refresh = async () => {
      const mine = ++sequence;
      const data = new URLSearchParams(new FormData(editor));
      data.delete("then");
      data.delete("preview_customer");
      data.set("channel", channel.value);
      data.set("customer_id", customer.value);
      state.textContent = "Updating the preview\u2026";
      let response;
      try {
        response = await fetch(panel.dataset.previewUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
          body: data,
        });
      } catch (error) {
        state.textContent = "The preview could not be loaded; it will try again as you type.";
        return;
      }
      if (mine !== sequence) return; // a newer preview is on its way
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        const fields = (body.error && body.error.fields) || {};
        showErrors(fields);
        problem.textContent = (body.error && body.error.message) || "The preview failed.";
        problem.hidden = false;
        state.textContent = "Fix the template to see the preview.";
        return;
      }
      showErrors({});
      problem.hidden = true;
      subject.hidden = !body.subject;
      subject.textContent = body.subject ? "Subject: " + body.subject : "";
      frame.hidden = !body.html;
      if (body.html) frame.srcdoc = body.html;
      text.textContent = body.text || "";
      state.textContent = "Preview on " + body.channel + (customer.value ? " as " + customer.selectedOptions[0].textContent : " as a sample customer") + ".";
      panel.dataset.fresh = String(mine);
    };
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    };
    editor.addEventListener("input", (event) => {
      if (event.target.matches("[data-preview]")) soon();
    });
    channel.addEventListener("change", refresh);
    customer.addEventListener("change", refresh);

    /* The segment's live count, and its members to preview as. */
    const segment = $("#segment");
    const count = $("#segment-count");
    if (segment && count) {
      const recount = async () => {
        if (!segment.value) {
          count.textContent = "";
          return;
        }
        count.textContent = "counting\u2026";
        const response = await fetch("/ui/campaigns/segments/" + encodeURIComponent(segment.value), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!response.ok) {
          count.textContent = "";
          return;
        }
        const body = await response.json();
        count.textContent = body.count_text;
        const keep = customer.options[0];
        customer.replaceChildren(keep);
        const chosen = customer.value;
        body.members.forEach((m) => customer.append(new Option(m.name, m.id, false, String(m.id) === chosen)));
      };
      segment.addEventListener("change", recount);
      if (segment.value && !count.textContent.trim()) recount(); // not counted within the page's budget
    }
    refresh();
  }

  /* --- the campaign page: live progress ------------------------------------------------------ */
  const page = $(".campaign-page[data-progress-url]");
  if (page) {
    const live = $("#live");
    const meter = $("#meter");
    let finished = page.dataset.finished === "yes";
    let failures = 0;
    const ACTIVE = ["sending", "paused", "scheduled"];
    const apply = (doc) => {
      $$("[data-count]", page).forEach((el) => {
        const key = el.dataset.count;
        const value = key === "recipients" ? doc.recipients : doc.counts[key];
        if (value !== undefined) el.textContent = number(value);
      });
      const badge = $("#state-badge");
      badge.textContent = doc.state_label;
      badge.className = "badge state-" + doc.state;
      page.dataset.state = doc.state;
      meter.setAttribute("aria-valuenow", String(doc.percent));
      meter.firstElementChild.style.width = doc.percent + "%";
      $("[data-why]", page).textContent = doc.why;
      $("[data-explanation]", page).textContent = doc.explanation;
      $$("#actions [data-action]").forEach((el) => { el.hidden = !doc.actions.includes(el.dataset.action); });
    };
    const loadResults = async () => {
      const response = await fetch(page.dataset.resultsUrl, { credentials: "same-origin" });
      if (response.ok) $("#results").innerHTML = await response.text();
    };
    const poll = async () => {
      let doc;
      try {
        const response = await fetch(page.dataset.progressUrl, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!response.ok) throw new Error(String(response.status));
        doc = await response.json();
        failures = 0;
      } catch (error) {
        failures += 1;
        live.textContent = "Reconnecting\u2026";
        setTimeout(poll, Math.min(10000, 1000 * 2 ** failures));
        return;
      }
      apply(doc);
      const running = ACTIVE.includes(doc.state) || !doc.finished;
      live.hidden = !running;
      live.textContent = "Updating every second";
      if (doc.finished && !finished) {
        finished = true;
        page.dataset.finished = "yes";
        await loadResults();
      } else if (running) {
        finished = false;
        page.dataset.finished = "no";
      }
      if (running || !doc.finished) setTimeout(poll, 1000);
      else setTimeout(poll, 5000);
    };
    poll();
  }
})();
