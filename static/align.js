// Alignment pages: the upload form's progress note, and the review page's editor.
// Plain JavaScript, no build step. User text is only ever set with textContent.
"use strict";

(function alignForm() {
  const form = document.getElementById("align-form");
  if (!form) return;
  form.addEventListener("submit", () => {
    // The form posts as usual; aligning a long article takes a while, so say so.
    const progress = document.getElementById("align-progress");
    document.getElementById("align-submit").disabled = true;
    progress.textContent = progress.dataset.text;
  });
})();

(function alignReview() {
  const app = document.getElementById("align-app");
  if (!app) return;

  const job = JSON.parse(document.getElementById("align-job").textContent);
  const api = app.dataset.api;
  const storeUrl = app.dataset.store;
  const low = Number(app.dataset.low);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const list = document.getElementById("beads");
  const statusEl = document.getElementById("save-status");
  const reloadButton = document.getElementById("reload-job");
  const splitPanel = document.getElementById("split-panel");
  const SAVE_DELAY_MS = 400;
  const RETRY_MS = 3000;
  const t = Duizhao.translator(Duizhao.readJSON("align-strings"));
  const el = Duizhao.el;

  let selected = 0;
  let side = "zh";
  let dirty = false;
  let saving = null; // the Promise of the save in flight
  let saveTimer = null;
  let conflict = false;

  // ------------------------------------------------------------------ rendering

  function confidenceLabel(bead) {
    if (!bead.zh.length || !bead.en.length) return { text: t("unaligned"), low: false };
    if (bead.score === null || bead.score === undefined) return { text: t("edited"), low: false };
    const percent = Math.round(bead.score * 100) + "%";
    if (bead.score < low) return { text: t("lowConfidence", { percent }), low: true };
    return { text: t("confidence", { percent }), low: false };
  }

  function sideCell(bead, lang) {
    const cell = el("div", { className: "bead-side bead-" + lang });
    cell.lang = lang;
    const indices = bead[lang];
    if (!indices.length) {
      cell.appendChild(el("span", { className: "bead-empty", text: t(lang === "zh" ? "noZh" : "noEn") }));
      return cell;
    }
    for (const index of indices) {
      const sentence = el("span", { className: "sentence" });
      sentence.appendChild(el("span", { className: "sentence-number", text: String(index + 1) }));
      sentence.appendChild(document.createTextNode(job[lang][index].text));
      cell.appendChild(sentence);
      cell.appendChild(document.createTextNode(lang === "zh" ? "" : " "));
    }
    return cell;
  }

  function render() {
    const focusInList = list.contains(document.activeElement);
    list.replaceChildren();
    job.beads.forEach((bead, position) => {
      const item = el("li", { className: "bead" });
      item.id = "bead-" + position;
      item.setAttribute("role", "option");
      item.dataset.index = String(position);
      const label = confidenceLabel(bead);
      item.classList.toggle("low", label.low);
      item.classList.toggle("approved", Boolean(bead.approved));
      item.classList.toggle("one-sided", !bead.zh.length || !bead.en.length);
      item.setAttribute("aria-selected", position === selected ? "true" : "false");
      item.tabIndex = position === selected ? 0 : -1;
      const head = el("div", { className: "bead-meta" });
      head.appendChild(el("span", { className: "bead-number", text: "#" + (position + 1) }));
      head.appendChild(el("span", { className: "bead-confidence", text: label.text }));
      head.appendChild(el("span", { className: "bead-state", text: t(bead.approved ? "approved" : "notApproved") }));
      item.appendChild(head);
      const zh = sideCell(bead, "zh");
      const en = sideCell(bead, "en");
      if (position === selected) (side === "zh" ? zh : en).classList.add("active-side");
      item.appendChild(zh);
      item.appendChild(en);
      list.appendChild(item);
    });
    const approved = job.beads.filter((b) => b.approved).length;
    document.getElementById("approved-count").textContent =
      t("approvedCount", { approved, total: job.beads.length });
    if (focusInList) focusSelected();
  }

  function focusSelected() {
    const item = document.getElementById("bead-" + selected);
    if (item) {
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest" });
    }
  }

  function select(position, focus = true) {
    if (!job.beads.length) return;
    const previous = document.getElementById("bead-" + selected);
    selected = Math.max(0, Math.min(job.beads.length - 1, position));
    // Only the two rows change: re-rendering a long document on every arrow key would lag.
    if (previous) markSelection(previous, false);
    const item = document.getElementById("bead-" + selected);
    if (item) markSelection(item, true);
    if (focus) focusSelected();
  }

  function markSelection(item, on) {
    item.setAttribute("aria-selected", on ? "true" : "false");
    item.tabIndex = on ? 0 : -1;
    item.querySelector(".bead-zh").classList.toggle("active-side", on && side === "zh");
    item.querySelector(".bead-en").classList.toggle("active-side", on && side === "en");
  }

  function setSide(value) {
    side = value;
    for (const radio of document.querySelectorAll('input[name="side"]')) radio.checked = radio.value === side;
    const item = document.getElementById("bead-" + selected);
    if (item) markSelection(item, true);
  }

  // ------------------------------------------------------------------ saving

  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.dataset.state = kind;
  }

  function changed() {
    dirty = true;
    document.getElementById("align-note").textContent = "";
    render();
    if (conflict) return;
    setStatus(t("unsaved"), "pending");
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, SAVE_DELAY_MS);
  }

  function errorMessage(response) {
    return Duizhao.errorMessage(response, t("serverAnswered", { status: response.status }));
  }

  // Saves the current beads; concurrent calls wait for the save in flight, then save again if
  // anything changed meanwhile. The version makes a second tab's save fail with 409, not clobber.
  function save(options = {}) {
    clearTimeout(saveTimer);
    if (conflict) return Promise.resolve(false);
    if (saving) return saving.then(() => (dirty ? save(options) : true));
    if (!dirty) return Promise.resolve(true);
    dirty = false;
    setStatus(t("saving"), "saving");
    const body = JSON.stringify({ beads: job.beads, version: job.version });
    saving = Duizhao.fetchAdmitted(api, {
      method: "PUT",
      credentials: "same-origin",
      // keepalive lets a save finish after the tab closes, but browsers cap such bodies at 64 KB.
      keepalive: Boolean(options.keepalive) && body.length < 60000,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body,
    }).then(async (response) => {
      if (response.ok) {
        job.version = (await response.json()).version;
        if (!dirty) setStatus(t("saved"), "saved");
        return true;
      }
      dirty = true;
      if (response.status === 409) {
        conflict = true;
        setStatus(t("notSaved", { reason: await errorMessage(response) }), "error");
        reloadButton.hidden = false;
        return false;
      }
      setStatus(t("notSaved", { reason: await errorMessage(response) }), "error");
      return false;
    }, () => {
      dirty = true;
      setStatus(t("offline"), "error");
      saveTimer = setTimeout(save, RETRY_MS);
      return false;
    }).finally(() => {
      saving = null;
    });
    return saving.then((ok) => (ok && dirty ? save(options) : ok));
  }

  let leaving = false;
  reloadButton.addEventListener("click", () => {
    leaving = true; // the reviewer was told the edit cannot be saved: no "leave page?" prompt
    window.location.reload();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && dirty) save({ keepalive: true });
  });
  window.addEventListener("beforeunload", (event) => {
    if ((dirty || saving) && !conflict && !leaving) {
      save({ keepalive: true });
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ------------------------------------------------------------------ edits

  // A bead whose sentences changed is no longer what the aligner scored or the reviewer approved.
  function edited(bead) {
    bead.score = null;
    bead.approved = false;
    return bead;
  }

  function isEmpty(bead) {
    return !bead.zh.length && !bead.en.length;
  }

  function merge() {
    const bead = job.beads[selected];
    const next = job.beads[selected + 1];
    if (!next) return say(t("noNext"));
    job.beads.splice(selected, 2, edited({ zh: bead.zh.concat(next.zh), en: bead.en.concat(next.en) }));
    changed();
  }

  function firstToPrevious() {
    const bead = job.beads[selected];
    if (!bead[side].length) return say(t("nothingToMove"));
    const index = bead[side].shift();
    if (selected === 0) {
      job.beads.unshift(edited({ zh: [], en: [] }));
      job.beads[0][side].push(index);
      selected += 1;
    } else {
      edited(job.beads[selected - 1])[side].push(index);
    }
    edited(bead);
    if (isEmpty(bead)) {
      job.beads.splice(selected, 1);
      selected -= 1;
    }
    changed();
  }

  function lastToNext() {
    const bead = job.beads[selected];
    if (!bead[side].length) return say(t("nothingToMove"));
    const index = bead[side].pop();
    if (selected === job.beads.length - 1) {
      job.beads.push(edited({ zh: [], en: [] }));
    }
    edited(job.beads[selected + 1])[side].unshift(index);
    edited(bead);
    if (isEmpty(bead)) job.beads.splice(selected, 1);
    changed();
  }

  function unalign() {
    const bead = job.beads[selected];
    if (bead.zh.length + bead.en.length < 2) return say(t("alreadyUnaligned"));
    const rows = bead.zh.map((i) => edited({ zh: [i], en: [] }))
      .concat(bead.en.map((j) => edited({ zh: [], en: [j] })));
    job.beads.splice(selected, 1, ...rows);
    changed();
  }

  function toggleApproval() {
    const bead = job.beads[selected];
    bead.approved = !bead.approved;
    changed();
  }

  function approveAbove(threshold) {
    let count = 0;
    for (const bead of job.beads) {
      if (!bead.approved && bead.score !== null && bead.score >= threshold && bead.zh.length && bead.en.length) {
        bead.approved = true;
        count += 1;
      }
    }
    if (count) changed();
    say(t("approvedN", { count }));
  }

  // Short notes for screen readers and everyone else, in the save-status line's neighbour.
  function say(text) {
    document.getElementById("align-note").textContent = text;
  }

  // ------------------------------------------------------------------ split

  function fillSelect(selectEl, count, chosen) {
    selectEl.replaceChildren();
    for (let k = 0; k <= count; k += 1) {
      const option = el("option", { text: String(k) });
      option.value = String(k);
      option.selected = k === chosen;
      selectEl.appendChild(option);
    }
  }

  function openSplit() {
    const bead = job.beads[selected];
    if (bead.zh.length + bead.en.length < 2) return say(t("cannotSplit"));
    document.getElementById("split-number").textContent = "#" + (selected + 1);
    // A sensible default: half of each side in the first part, at least one sentence somewhere.
    fillSelect(document.getElementById("split-zh"), bead.zh.length, Math.ceil(bead.zh.length / 2));
    fillSelect(document.getElementById("split-en"), bead.en.length, Math.ceil(bead.en.length / 2));
    document.getElementById("split-error").textContent = "";
    splitPanel.hidden = false;
    // The chooser sits at the bottom of the window: keep the pair being split above it.
    document.getElementById("bead-" + selected).scrollIntoView({ block: "center" });
    document.getElementById("split-zh").focus({ preventScroll: true });
  }

  function closeSplit() {
    splitPanel.hidden = true;
    focusSelected();
  }

  splitPanel.addEventListener("submit", (event) => {
    event.preventDefault();
    const bead = job.beads[selected];
    const zhCut = Number(document.getElementById("split-zh").value);
    const enCut = Number(document.getElementById("split-en").value);
    const first = { zh: bead.zh.slice(0, zhCut), en: bead.en.slice(0, enCut) };
    const second = { zh: bead.zh.slice(zhCut), en: bead.en.slice(enCut) };
    if (isEmpty(first) || isEmpty(second)) {
      document.getElementById("split-error").textContent = t("splitNeedsBoth");
      return;
    }
    job.beads.splice(selected, 1, edited(first), edited(second));
    splitPanel.hidden = true;
    changed();
    focusSelected();
  });
  document.getElementById("split-cancel").addEventListener("click", closeSplit);
  splitPanel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeSplit();
    } else if (event.key === "Enter" && event.target.tagName === "SELECT") {
      event.preventDefault(); // a select does not submit its form on Enter by itself
      splitPanel.requestSubmit();
    }
  });

  // ------------------------------------------------------------------ input

  const ACTIONS = {
    merge, split: openSplit, "first-up": firstToPrevious, "last-down": lastToNext,
    unalign, approve: toggleApproval,
  };
  const KEYS = { m: "merge", s: "split", "[": "first-up", "]": "last-down", u: "unalign", a: "approve" };

  list.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    let handled = true;
    if (key === "ArrowDown" || key === "j") select(selected + 1);
    else if (key === "ArrowUp" || key === "k") select(selected - 1);
    else if (key === "Home") select(0);
    else if (key === "End") select(job.beads.length - 1);
    else if (key === "ArrowLeft" || key === "h") setSide("zh");
    else if (key === "ArrowRight" || key === "l") setSide("en");
    else if (KEYS[key]) ACTIONS[KEYS[key]]();
    else handled = false;
    if (handled) event.preventDefault();
  });

  list.addEventListener("click", (event) => {
    const item = event.target.closest("li.bead");
    if (!item) return;
    const cell = event.target.closest(".bead-side");
    select(Number(item.dataset.index));
    if (cell) setSide(cell.classList.contains("bead-zh") ? "zh" : "en");
  });

  for (const button of document.querySelectorAll("#align-bar [data-action]")) {
    button.addEventListener("click", () => {
      if (!job.beads.length) return;
      ACTIONS[button.dataset.action]();
      if (button.dataset.action !== "split") focusSelected();
    });
  }
  for (const radio of document.querySelectorAll('input[name="side"]')) {
    radio.addEventListener("change", () => setSide(radio.value));
  }

  document.getElementById("approve-above").addEventListener("submit", (event) => {
    event.preventDefault();
    const percent = Number(document.getElementById("approve-threshold").value);
    if (!(percent >= 0 && percent <= 100)) return say(t("badThreshold"));
    approveAbove(percent / 100);
  });

  document.getElementById("store-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("store-result");
    const memory = document.getElementById("store-memory").value.trim();
    result.className = "";
    result.textContent = t("storing");
    if (!(await save())) {
      result.className = "error";
      result.textContent = t("notStoredSave");
      return;
    }
    const response = await Duizhao.fetchAdmitted(storeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ memory }),
    });
    if (!response.ok) {
      result.className = "error";
      result.textContent = t("notStored", { reason: await errorMessage(response) });
      return;
    }
    const report = await response.json();
    result.className = "notice";
    const parts = [t("stored", { memory: report.memory, added: report.added })];
    if (report.duplicates) parts.push(t("duplicates", { duplicates: report.duplicates }));
    if (report.skipped_one_sided) parts.push(t("skipped", { skipped: report.skipped_one_sided }));
    result.textContent = parts.join(" ");
  });

  render();
  setStatus(t("saved"), "saved");
})();
