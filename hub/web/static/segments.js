/* Relaydesk segment editor: rows of field / operator / value in ALL or ANY groups, written into
   the JSON definition (the "advanced" textarea, which is what the form sends), a live count and
   sample fetched as the marketer edits (debounced), errors shown on the row they name, and the
   CSV import sent with the CSRF header so large files stream. Hand-written, no dependencies;
   without it the page still works through the JSON textarea. */
(() => {
  "use strict";
  /* The list page: counts the server had no time for, one after the other. */
  (async () => {
    for (const cell of document.querySelectorAll("[data-count-url]")) {
      cell.textContent = "counting…";
      try {
        const response = await fetch(cell.dataset.countUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
        const answer = await response.json();
        cell.textContent = response.ok ? answer.count.toLocaleString("en") : "–";
      } catch (error) {
        cell.textContent = "–";
      }
    }
  })();
  const form = document.querySelector("[data-segment-editor]");
  if (!form) return;
  const $ = (sel, root = document) => root.querySelector(sel);
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const FIELDS = JSON.parse($("#segment-fields").textContent);
  const byField = Object.fromEntries(FIELDS.map((f) => [f.field, f]));
  const textarea = $("#definition");
  const builder = $("#builder");
  const rowsBox = $("#builder-rows");
  const note = $("#builder-note");
  let model = null; // {mode, rows: [{field, op, value} | {mode, rows}]}
  let sequence = 0;
  let timer = null;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
    }
    children.forEach((child) => child && node.append(child));
    return node;
  }

  function select(label, options, chosen) {
    const box = el("select", { "aria-label": label });
    options.forEach(([value, text]) => box.append(el("option", { value, text, selected: String(value) === String(chosen) })));
    return box;
  }

  /* ---- definition <-> model ---------------------------------------------------------------- */
  function toModel(definition) {
    if (!definition || typeof definition !== "object" || Array.isArray(definition)) return null;
    if ("field" in definition) return { mode: "all", rows: [definition] };
    const mode = "all" in definition ? "all" : "any" in definition ? "any" : null;
    if (!mode || Object.keys(definition).length !== 1 || !Array.isArray(definition[mode])) return null;
    const rows = [];
    for (const child of definition[mode]) {
      if (child && typeof child === "object" && "field" in child) rows.push(child);
      else {
        const inner = toModel(child);
        if (!inner || inner.rows.some((r) => !("field" in r))) return null; // two levels at most
        rows.push(inner);
      }
    }
    return { mode, rows };
  }
  const toDefinition = (group) => ({
    [group.mode]: group.rows.map((row) => ("field" in row ? row : toDefinition(row))),
  });

  function kindOf(field) {
    return field.startsWith("attribute.") ? byField.attribute : byField[field] || byField.tag;
  }
  function blank(fieldName = "tag") {
    const spec = byField[fieldName];
    const op = Object.keys(spec.ops)[0];
    return { field: fieldName === "attribute" ? "attribute." : fieldName, op, value: defaultValue(spec, op) };
  }
  function defaultValue(spec, op) {
    if (spec.value === "choice") return spec.choices.length ? spec.choices[0][0] : "";
    if (spec.value === "bool" || op === "exists" || op === "is_null") return true;
    if (spec.value === "count_days") return { count: 1, days: 30 };
    if (spec.value === "days") return { days: 30 };
    if (spec.value === "number") return spec.field.startsWith("campaign") ? 1 : 0;
    if (spec.value === "segments") return spec.choices.length ? [Number(spec.choices[0][0])] : [];
    if (spec.value === "when") return "-30d";
    return "";
  }
  const asNumber = (text) => (/^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text);
  const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

  /* ---- rendering ---------------------------------------------------------------------------- */
  function valueInputs(row, spec, label, changed) {
    const box = el("span", { class: "seg-value" });
    const text = (value, hint, name = "value") => {
      const input = el("input", { type: "text", value: value ?? "", placeholder: hint || "", "aria-label": `${label} ${name}` });
      return input;
    };
    const yesNo = (value) => select(`${label} value`, [["true", "yes"], ["false", "no"]], String(value));
    const number = (value, name) => el("input", { type: "number", min: "0", value: value ?? 0, "aria-label": `${label} ${name}`, inputmode: "numeric" });
    if (row.op === "exists" || row.op === "is_null" || spec.value === "bool") {
      const box2 = yesNo(row.value);
      box2.addEventListener("change", () => changed({ value: box2.value === "true" }));
      box.append(box2);
    } else if (spec.value === "count_days") {
      const count = number(row.value && row.value.count, "count");
      const days = number(row.value && row.value.days, "days");
      const update = () => changed({ value: { count: Number(count.value || 0), days: Number(days.value || 0) } });
      count.addEventListener("input", update);
      days.addEventListener("input", update);
      box.append(count, el("span", { class: "muted", text: " in days " }), days);
    } else if (spec.value === "days") {
      const days = number(row.value && row.value.days, "days");
      days.addEventListener("input", () => changed({ value: { days: Number(days.value || 0) } }));
      box.append(days, el("span", { class: "muted", text: " days" }));
    } else if (spec.value === "number") {
      const input = number(row.value, "value");
      input.addEventListener("input", () => changed({ value: Number(input.value || 0) }));
      box.append(input);
    } else if (spec.value === "segments") {
      const chosen = Array.isArray(row.value) && row.value.length ? row.value[0] : "";
      const box2 = select(`${label} value`, spec.choices, chosen);
      box2.addEventListener("change", () => changed({ value: [Number(box2.value)] }));
      box.append(box2);
    } else if (spec.value === "choice" && row.op !== "in") {
      const box2 = select(`${label} value`, spec.choices, row.value);
      box2.addEventListener("change", () => changed({ value: box2.value }));
      box.append(box2);
    } else {
      const shown = Array.isArray(row.value) ? row.value.join(", ") : row.value;
      const hint = row.op === "in" ? "separate values with commas" : spec.hint;
      const input = text(shown, hint);
      input.addEventListener("input", () => {
        let value = input.value;
        if (row.op === "in") value = list(value);
        else if (spec.value === "attribute" && row.op !== "contains") value = asNumber(value);
        else value = value.trim();
        changed({ value });
      });
      box.append(input);
    }
    return box;
  }

  function conditionRow(row, path, label, parent, index) {
    const spec = kindOf(row.field);
    const line = el("div", { class: "seg-row", "data-path": path, role: "group", "aria-label": label });
    const fieldBox = select(`${label} field`, FIELDS.map((f) => [f.field, f.label]), spec.field);
    fieldBox.addEventListener("change", () => {
      parent.rows[index] = blank(fieldBox.value);
      render(path);
    });
    line.append(fieldBox);
    if (spec.value === "attribute") {
      const key = el("input", { type: "text", value: row.field.slice("attribute.".length), placeholder: spec.hint, "aria-label": `${label} attribute name`, class: "seg-key" });
      key.addEventListener("input", () => {
        row.field = "attribute." + key.value.trim();
        changed();
      });
      line.append(key);
    }
    const opBox = select(`${label} operator`, Object.entries(spec.ops), row.op);
    opBox.addEventListener("change", () => {
      const before = row.op;
      row.op = opBox.value;
      const flips = ["in", "exists", "is_null"];
      if (flips.includes(before) || flips.includes(row.op)) row.value = row.op === "in" ? [] : defaultValue(spec, row.op);
      render(path);
    });
    line.append(opBox);
    const changed = (patch = {}) => {
      Object.assign(row, patch);
      update();
    };
    line.append(valueInputs(row, spec, label, changed));
    const remove = el("button", { type: "button", class: "btn btn-small", "aria-label": `Remove ${label.toLowerCase()}`, text: "Remove" });
    remove.addEventListener("click", () => {
      parent.rows.splice(index, 1);
      render();
      const next = rowsBox.querySelector(".seg-row select") || rowsBox.querySelector(".seg-actions button");
      if (next) next.focus(); // keep the keyboard user in the builder
    });
    line.append(remove);
    line.append(el("p", { class: "field-error", id: `err-${path.replace(/[^a-z0-9]/gi, "-")}`, hidden: true }));
    return line;
  }

  function modeSelect(group, label) {
    const box = select(label, [["all", "ALL"], ["any", "ANY"]], group.mode);
    box.addEventListener("change", () => {
      group.mode = box.value;
      render();
    });
    return box;
  }

  function groupBlock(group, prefix, title) {
    const block = el("div", { class: prefix ? "seg-group" : "seg-top", "data-path": prefix || "" });
    const head = el("p", { class: "seg-mode" }, el("span", { text: prefix ? "Any customer matching " : "Customers who match " }), modeSelect(group, `${title} combine with`), el("span", { text: " of these:" }));
    block.append(head);
    group.rows.forEach((row, index) => {
      const path = `${prefix ? prefix + "." : ""}${group.mode}[${index}]`;
      const label = prefix ? `${title}, condition ${index + 1}` : `Condition ${index + 1}`;
      if ("field" in row) block.append(conditionRow(row, path, label, group, index));
      else {
        const inner = groupBlock(row, path, `Group ${index + 1}`);
        const remove = el("button", { type: "button", class: "btn btn-small", text: "Remove group" });
        remove.addEventListener("click", () => {
          group.rows.splice(index, 1);
          render();
        });
        inner.append(remove);
        block.append(inner);
      }
    });
    const add = el("button", { type: "button", class: "btn btn-small", text: prefix ? "+ Condition in this group" : "+ Condition" });
    add.addEventListener("click", () => {
      group.rows.push(blank());
      render(`${prefix ? prefix + "." : ""}${group.mode}[${group.rows.length - 1}]`);
    });
    const actions = el("div", { class: "seg-actions" }, add);
    if (!prefix) {
      const addGroup = el("button", { type: "button", class: "btn btn-small", text: "+ Group (ANY of…)" });
      addGroup.addEventListener("click", () => {
        group.rows.push({ mode: group.mode === "all" ? "any" : "all", rows: [blank()] });
        render();
      });
      actions.append(addGroup);
    }
    block.append(actions);
    return block;
  }

  function render(focusPath) {
    rowsBox.replaceChildren(groupBlock(model, "", "Top level"));
    write();
    schedule();
    if (focusPath) {
      const row = rowsBox.querySelector(`[data-path="${focusPath}"] select`);
      if (row) row.focus();
    }
  }

  /* ---- keeping the JSON and the preview in step ------------------------------------------------ */
  function write() {
    textarea.value = JSON.stringify(toDefinition(model), null, 2);
  }
  function update() {
    write();
    schedule();
  }
  function fromText() {
    let parsed;
    try {
      parsed = JSON.parse(textarea.value);
    } catch (error) {
      showError({ message: "The JSON is not valid yet: " + error.message });
      return;
    }
    const found = toModel(parsed);
    if (found) {
      model = found;
      builder.hidden = false;
      note.hidden = true;
      rowsBox.replaceChildren(groupBlock(model, "", "Top level"));
    } else {
      builder.hidden = false;
      note.hidden = false;
      note.textContent = "This definition uses NOT or deeper groups; edit it as JSON below.";
      rowsBox.replaceChildren();
    }
    schedule(parsed);
  }
  textarea.addEventListener("input", fromText);

  function schedule(definition) {
    clearTimeout(timer);
    $("#live-state-note").textContent = "counting…";
    timer = setTimeout(() => refresh(definition === undefined ? toDefinition(model) : definition), 300);
  }

  function clearErrors() {
    form.querySelectorAll(".seg-row[aria-invalid], .seg-group[aria-invalid]").forEach((row) => row.removeAttribute("aria-invalid"));
    form.querySelectorAll(".seg-row .field-error").forEach((p) => {
      p.hidden = true;
      p.textContent = "";
    });
    $("#preview-error").hidden = true;
  }

  function showError(error) {
    clearErrors();
    const fields = error.fields || {};
    for (const [path, problem] of Object.entries(fields)) {
      const match = /^definition\.((?:all|any)\[\d+\](?:\.(?:all|any)\[\d+\])?)/.exec(path);
      const row = match && rowsBox.querySelector(`[data-path="${match[1]}"]`);
      if (row) {
        row.setAttribute("aria-invalid", "true");
        const where = row.querySelector(".field-error");
        if (where) {
          const part = path.slice(("definition." + match[1]).length + 1) || "condition";
          where.textContent = `${row.getAttribute("aria-label")}: ${part} ${problem}`;
          where.hidden = false;
          row.querySelectorAll("select, input").forEach((c) => c.setAttribute("aria-describedby", where.id));
        }
      }
    }
    const box = $("#preview-error");
    box.textContent = error.message ? error.message[0].toUpperCase() + error.message.slice(1) : "The preview failed.";
    box.hidden = false;
    $("#live-count").textContent = "–";
    $("#live-state-note").textContent = "";
  }

  function showSample(found) {
    clearErrors();
    $("#live-count").textContent = found.count.toLocaleString("en");
    $("#live-unit").textContent = found.count === 1 ? "customer" : "customers";
    $("#live-state-note").textContent = "";
    const body = $("#sample-rows");
    body.replaceChildren();
    if (!found.sample.length) body.append(el("tr", {}, el("td", { colspan: "4", class: "muted", text: "Nobody matches yet." })));
    found.sample.forEach((m) => {
      body.append(
        el("tr", {},
          el("td", { text: m.name || "(no name)" }),
          el("td", { text: m.identities.map((i) => `${i.kind}: ${i.address}`).join(", ") }),
          el("td", { text: m.tier }),
          el("td", { text: m.tags.join(", ") })));
    });
  }

  async function refresh(definition) {
    const mine = ++sequence;
    try {
      const response = await fetch(form.dataset.preview, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify({ definition }),
      });
      const answer = await response.json();
      if (mine !== sequence) return; // a later edit is already being counted
      if (response.ok) showSample(answer);
      else showError(answer.error || {});
    } catch (error) {
      if (mine === sequence) showError({ message: "The preview could not be loaded; check your connection." });
    }
  }

  /* ---- start ------------------------------------------------------------------------------------- */
  let initial = null;
  try {
    initial = toModel(JSON.parse(textarea.value));
  } catch (error) {
    initial = null;
  }
  $("#advanced").open = !initial;
  model = initial || { mode: "all", rows: [blank()] };
  builder.hidden = false;
  if (initial) render();
  else fromText();
  const serverErrors = JSON.parse(form.dataset.errors || "{}");
  if (Object.keys(serverErrors).length) setTimeout(() => showError({ fields: serverErrors, message: ($("#form-error") || {}).textContent }), 350);

  /* ---- the CSV import: streamed with the CSRF header, problems listed in a table ------------------ */
  const importForm = document.querySelector("[data-import]");
  if (importForm) {
    importForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const result = $("#import-result");
      const button = importForm.querySelector("button");
      button.disabled = true;
      result.replaceChildren(el("p", { class: "muted", text: "Importing…" }));
      try {
        const data = new FormData();
        data.append("file", importForm.querySelector("input[type=file]").files[0]);
        const response = await fetch(importForm.action, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
          body: data,
        });
        const answer = await response.json();
        if (response.ok) {
          result.replaceChildren(el("p", { class: "ok", role: "status", text: `Imported ${answer.rows} rows: ${answer.created} new, ${answer.updated} updated, ${answer.added_to_segment} added to this segment, ${answer.consents_recorded} consent changes recorded.` }));
          if (answer.definition) {
            textarea.value = JSON.stringify(answer.definition, null, 2);
            fromText();
          }
        } else {
          const error = answer.error || {};
          result.replaceChildren(el("p", { class: "alert", role: "alert", text: (error.message || "The import failed") + "." }));
          if (answer.rows && answer.rows.length) {
            const body = el("tbody");
            answer.rows.forEach((p) => body.append(el("tr", {}, el("td", { text: String(p.row) }), el("td", {}, el("code", { text: p.column })), el("td", { text: p.problem }))));
            result.append(el("div", { class: "table-scroll" }, el("table", { class: "plain problems" },
              el("caption", { text: "Rows with problems (the header is row 1)" }),
              el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Row" }), el("th", { scope: "col", text: "Column" }), el("th", { scope: "col", text: "Problem" }))),
              body)));
          }
        }
      } catch (error) {
        result.replaceChildren(el("p", { class: "alert", role: "alert", text: "The file could not be sent; check your connection and try again." }));
      } finally {
        button.disabled = false;
      }
    });
  }
})();
