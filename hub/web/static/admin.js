/* Admin console: the live preview of a template as the admin types (the Preview button does
   the same without JavaScript). Hand-written, no dependencies. */
(() => {
  "use strict";
  const form = document.querySelector("form[data-live-preview]");
  if (!form) return;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const error = document.querySelector("[data-preview-error]");
  const subject = document.querySelector("[data-preview-subject]");
  const text = document.querySelector("[data-preview-text]");
  const html = document.querySelector("[data-preview-html]");
  let timer = null;
  let asked = 0;

  function show(answer) {
    const problem = answer.error || "";
    error.textContent = problem;
    error.hidden = !problem;
    form.querySelectorAll("textarea").forEach((area) => {
      area.toggleAttribute("aria-invalid", Boolean(problem) && answer.part === area.name);
    });
    if (problem) return;
    if (subject) subject.textContent = answer.subject || "";
    text.textContent = answer.text || "";
    if (html) {
      html.srcdoc = answer.html || "";
      html.hidden = !answer.html;
    }
  }

  async function refresh() {
    const mine = ++asked;
    const data = new URLSearchParams(new FormData(form));
    data.delete("action");
    const response = await fetch(form.dataset.livePreview, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body: data,
    });
    if (mine !== asked || !response.ok) return;
    show(await response.json());
  }

  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
