/* Duizhao's segment editor (My documents): each segment's translation typed or accepted,
 * checked as one types, confirmed with Ctrl+Enter (stored at once: the document's record and a
 * unit of its memory), then on to the next segment. A confirm carries the version the segment had
 * when the page was loaded; a stale one is answered 409 with the other's text, shown here with a
 * button that takes it. The active segment's fragments (the lookup API's) come under its match.
 *
 * A segment's state is kept in data-state (open, confirmed, edited: confirmed once and changed
 * since, conflict) and said in words by its badge; data-confirmed marks that the server holds a
 * confirmed translation of it, which is what the progress figure counts. */
(function () {
  "use strict";

  var t = Duizhao.translator(Duizhao.readJSON("ed-messages"));
  var el = Duizhao.el;
  var langAttr = Duizhao.langAttr;
  // The forms that start a document (My documents, the article page's) keep the memory last
  // chosen, as the lookup page's store does: a translator mostly feeds the same one.
  Duizhao.remember(document.getElementById("ed-memory"), "document-memory");
  Duizhao.remember(document.getElementById("ed-a-memory"), "document-memory");
  var list = document.getElementById("ed-segments");
  if (!list) return;
  var csrfToken = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var confirmUrl = list.getAttribute("data-confirm-url").replace(/\/0$/, "/");
  var qaUrl = list.getAttribute("data-qa-url");
  var lookupUrl = list.getAttribute("data-lookup-url");
  var src = list.getAttribute("data-src"), tgt = list.getAttribute("data-tgt");
  var progress = document.getElementById("ed-progress");
  var progressBar = document.getElementById("ed-progress-bar");
  var allDone = document.getElementById("ed-all-done");
  var openOnly = document.getElementById("ed-open-only");
  var items = Array.prototype.slice.call(list.querySelectorAll(".ed-segment"));
  //: What the server holds for each segment (position -> text), to tell an edit from a revert.
  var stored = {};

  /* A JSON request of the page. A refusal by the server's admission gate (503 or 429 with
   * Retry-After) comes before the request ran at all, so it is sent again as the server says, a
   * few times, before the refusal is taken as the answer. */
  function send(method, url, body) {
    return Duizhao.fetchAdmitted(url, {method: method, body: JSON.stringify(body), credentials: "same-origin",
      headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken}});
  }

  function sourceOf(item) {
    return item.querySelector(".ed-source").textContent.trim();
  }

  function setState(item, state, note) {
    item.setAttribute("data-state", state);
    item.classList.toggle("ed-confirmed", state === "confirmed");
    item.classList.toggle("ed-conflict", state === "conflict");
    var badge = item.querySelector(".ed-badge");
    badge.textContent = t("state_" + state);
    if (note !== undefined) {
      if (note) badge.setAttribute("title", note); else badge.removeAttribute("title");
    }
    applyFilter();
  }

  function updateProgress() {
    var done = list.querySelectorAll(".ed-segment[data-confirmed]").length;
    var total = items.length;
    progress.textContent = t("progress", {done: done, total: total});
    progressBar.value = done;
    allDone.hidden = done < total;
  }

  /* "Unconfirmed segments only" hides the confirmed ones, except the one being worked on. */
  function applyFilter() {
    var only = openOnly.checked;
    items.forEach(function (item) {
      var hide = only && item.getAttribute("data-state") === "confirmed" && !item.contains(document.activeElement);
      item.hidden = hide;
    });
  }

  async function check(item) {
    var target = item.querySelector(".ed-target").value;
    var box = item.querySelector(".wb-qa");
    if (!target.trim()) { box.replaceChildren(); return; }
    try {
      var response = await send("POST", qaUrl, {source: sourceOf(item), target: target, src: src, tgt: tgt});
      if (response.ok) Duizhao.renderIssues(box, (await response.json()).issues, t);
    } catch (err) { /* the checks are advice: a failed one leaves the last shown */ }
  }

  function confirmedNote(body) {
    return t("confirmed", {who: body.confirmed_by || "?", when: (body.confirmed_at || "").replace("T", " ").slice(0, 16)});
  }

  async function confirm(item) {
    var status = item.querySelector(".ed-status");
    var target = item.querySelector(".ed-target").value.trim();
    if (!target) { status.textContent = t("emptyTarget"); return false; }
    status.textContent = t("confirming");
    try {
      var response = await send("PUT", confirmUrl + item.getAttribute("data-position"),
        {target: target, version: Number(item.getAttribute("data-version"))});
      var body = await response.json().catch(function () { return {}; });
      if (response.status === 409 && body.error && body.error.current) {
        var current = body.error.current;
        // The next confirm replaces theirs knowingly: it starts from their version.
        item.setAttribute("data-version", String(current.version));
        item.setAttribute("data-confirmed", "1");
        stored[item.getAttribute("data-position")] = current.target || "";
        setState(item, "conflict", confirmedNote(current));
        updateProgress();
        var theirsId = "ed-theirs-" + item.getAttribute("data-position");
        var useTheirs = el("button", {type: "button", className: "ed-use-theirs", "aria-describedby": theirsId,
          text: t("useTheirs")});
        useTheirs.addEventListener("click", function () { takeTheirs(item, current); });
        status.replaceChildren(body.error.message + " ",
          el("q", {className: "ed-theirs", id: theirsId, lang: langAttr(tgt), text: current.target || ""}), " ", useTheirs);
        return false;
      }
      if (!response.ok) {
        status.textContent = t("serverError", {message: (body.error && body.error.message) || response.status});
        return false;
      }
      item.setAttribute("data-version", String(body.version));
      item.setAttribute("data-confirmed", "1");
      stored[item.getAttribute("data-position")] = body.target;
      status.textContent = confirmedNote(body);
      setState(item, "confirmed", confirmedNote(body));
      updateProgress();
      return true;
    } catch (err) {
      status.textContent = t("networkError");
      return false;
    }
  }

  /* "Use their version" after a 409: their text in the box and the segment confirmed as theirs.
   * No request: the server already holds it, and data-version is already theirs. */
  function takeTheirs(item, current) {
    var box = item.querySelector(".ed-target");
    box.value = current.target || "";
    box.focus();  // before the button it leaves from goes away with the status's text
    item.querySelector(".ed-status").textContent = confirmedNote(current);
    setState(item, "confirmed", confirmedNote(current));
    check(item);
  }

  /* The fragments of a segment's source the memory has translated (the lookup API's "fragments",
   * glossary terms already left out), under its best match: asked when the segment first becomes
   * the active one. Finding them for every segment up front would cost the page's opening about
   * 10-40 ms a segment (bench/fragment_lookup.py: 100,000 units), seconds for a long document,
   * against 2-6 ms a segment for the best matches. limit=1 and min_score=100 keep the matches
   * part of this lookup small: the best match is on the page already. */
  async function loadFragments(item) {
    if (item.hasAttribute("data-fragments")) return;
    item.setAttribute("data-fragments", "loading");
    try {
      var response = await send("POST", lookupUrl, {q: sourceOf(item), src: src, tgt: tgt, limit: 1, min_score: 100});
      if (!response.ok) { item.removeAttribute("data-fragments"); return; }
      var fragments = (await response.json()).fragments || [];
      renderFragments(item, fragments);
      item.setAttribute("data-fragments", String(fragments.length));
    } catch (err) {
      item.removeAttribute("data-fragments");  // asked again when the segment is next active
    }
  }

  function renderFragments(item, fragments) {
    if (!fragments.length) return;
    var box = item.querySelector(".ed-target");
    var position = item.getAttribute("data-position");
    var shown = el("ul", {className: "wb-fragments ed-fragments", "aria-label": t("fragments")});
    fragments.forEach(function (fragment, index) {
      var best = fragment.translations[0];
      var renderingId = "ed-fragment-" + position + "-" + index;
      var use = el("button", {type: "button", className: "wb-use", "aria-describedby": renderingId, text: t("use")});
      use.addEventListener("click", function () { insertAtCursor(box, best.text); });
      shown.appendChild(Duizhao.fragmentItem(fragment, {t: t, src: src, tgt: tgt, id: renderingId, buttons: [use]}));
    });
    var after = item.querySelector(".ed-match") || item.querySelector(".ed-source");
    after.after(shown);
  }

  /* A fragment goes in where the cursor was (a textarea keeps its selection when the button
   * takes the focus), replacing what was selected, as on the lookup page. */
  function insertAtCursor(box, text) {
    var start = box.selectionStart, end = box.selectionEnd;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + text.length;
    box.focus();
    box.dispatchEvent(new Event("input"));
  }

  /* The segment ``step`` places after (1) or before (-1) ``item`` among those shown, made the
   * active one: its translation focused and the segment scrolled to the middle of the window. */
  function move(item, step) {
    var at = items.indexOf(item) + step;
    while (at >= 0 && at < items.length && items[at].hidden) at += step;
    if (at < 0 || at >= items.length) return false;
    activate(items[at]);
    return true;
  }

  function activate(item) {
    var box = item.querySelector(".ed-target");
    box.focus({preventScroll: true});
    item.scrollIntoView({block: "center"});
  }

  items.forEach(function (item) {
    var box = item.querySelector(".ed-target");
    var position = item.getAttribute("data-position");
    var timer = null;
    if (item.hasAttribute("data-confirmed")) stored[position] = box.value;
    box.addEventListener("input", function () {
      if (item.hasAttribute("data-confirmed") && item.getAttribute("data-state") !== "conflict") {
        setState(item, box.value.trim() === stored[position] ? "confirmed" : "edited");
      }
      clearTimeout(timer);
      timer = setTimeout(function () { check(item); }, 300);
    });
    box.addEventListener("keydown", async function (event) {
      if (event.ctrlKey && event.key === "Enter") {
        event.preventDefault();
        if (await confirm(item)) move(item, 1);
      } else if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
        event.preventDefault();
        move(item, event.key === "ArrowDown" ? 1 : -1);
      }
    });
    var accept = item.querySelector(".ed-accept");
    if (accept) {
      accept.addEventListener("click", function () {
        box.value = item.querySelector(".ed-match-text").textContent;
        box.dispatchEvent(new Event("input"));
        box.focus();
      });
    }
  });

  // The active segment is marked (and the filter keeps it shown while it has the focus).
  list.addEventListener("focusin", function (event) {
    var item = event.target.closest(".ed-segment");
    items.forEach(function (other) { other.classList.toggle("ed-active", other === item); });
    if (item) loadFragments(item);
  });
  list.addEventListener("focusout", function () {
    setTimeout(applyFilter, 0);
  });
  openOnly.addEventListener("change", applyFilter);
  updateProgress();

  // Resuming a document: the first segment still to do is where the work goes on.
  if (list.querySelector(".ed-segment[data-confirmed]")) {
    var first = items.filter(function (item) { return !item.hasAttribute("data-confirmed"); })[0];
    if (first) activate(first);
  }
  // Said once everything above is wired, for whoever waits on the page (the browser tests).
  list.setAttribute("data-ready", "");
})();
