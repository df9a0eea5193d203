/* Duizhao workbench: lookup as you type and the concordance. No build step, no dependencies.
 * Every text from the server or the user goes into the page with textContent, never innerHTML. */
(function () {
  "use strict";

  // Long enough to coalesce a burst of keys (and an IME composition), short enough that a
  // keystroke to rendered matches stays well under 150 ms.
  var DEBOUNCE_MS = 60;
  // Refusals of one query asked again before the refusal is shown (at Retry-After, ~1 s each).
  var BUSY_RETRIES = 5;
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/g;
  var LATIN = /[A-Za-z]/g;
  var NUMBER = /\d+(?:[.,]\d+)*/g;
  var M = Duizhao.readJSON("wb-messages");
  var t = Duizhao.translator(M);
  var el = Duizhao.el;
  var langAttr = Duizhao.langAttr;
  // The score bands and the language of a text without letters, as the server defines them
  // (workbench.analysis.BANDS, common.languages.UNDETECTED).
  var CONFIG = Duizhao.readJSON("wb-config");

  /* Same rule as common.languages.detect_language: a Han character weighs about four letters. */
  function detectLanguage(text) {
    var han = (text.match(HAN) || []).length;
    var latin = (text.match(LATIN) || []).length;
    if (!han && !latin) return null;
    return han * 4 >= latin ? "zh" : "en";
  }

  /* The first band whose floor the score reaches; the band without a floor is "no match". */
  function bandOf(score) {
    var bands = CONFIG.bands;
    for (var i = 0; i < bands.length; i++) {
      if (bands[i].floor === null || score >= bands[i].floor) return bands[i].key;
    }
    return bands[bands.length - 1].key;
  }

  /* Exact score as the API gives it (76.92), for a title and for penalty points. */
  function formatScore(score) {
    return String(Math.round(score * 100) / 100);
  }

  /* A score as CAT tools show it: a whole percentage (77%); the exact value goes in a title. */
  function percent(score) {
    return Math.round(score) + "%";
  }

  function formatDate(iso) {
    if (!iso) return "";
    return iso.slice(0, 10);
  }

  async function errorMessage(response) {
    var reason = await Duizhao.errorMessage(response, response.status + " " + response.statusText);
    return t("serverError", {message: reason});
  }

  /* ------------------------------------------------------------------ lookup */

  function initLookup(root) {
    // Matches come as one types; the form itself never submits (no inline handler: the CSP forbids it).
    root.querySelector("form.wb-query").addEventListener("submit", function (event) { event.preventDefault(); });
    var box = document.getElementById("wb-q");
    var list = document.getElementById("wb-matches");
    var fragmentList = document.getElementById("wb-fragments");
    var status = document.getElementById("wb-status");
    var marked = document.getElementById("wb-marked");
    var detected = document.getElementById("wb-detected");
    var memory = document.getElementById("wb-memory");
    var minScore = document.getElementById("wb-min");
    var url = root.getAttribute("data-lookup-url");
    // A POST from a logged-in browser needs the CSRF token (web.util.api_guard); anonymous
    // readers send it too, harmlessly.
    var csrfToken = document.querySelector("meta[name=csrf-token]").getAttribute("content");
    var pane = document.getElementById("wb-term-pane");
    var timer = null;
    var controller = null;
    var selected = -1;
    var editor = initEditor(document.getElementById("wb-editor"), {
      source: function () { return box.value.trim(); },
      direction: function () { return direction(); },
      csrfToken: csrfToken,
    });
    var pendingSince = null; // performance.now() of the input event whose answer is awaited
    var latencies = [];
    window.wbLatencies = latencies;

    function direction() {
      var chosen = root.querySelector("input[name=direction]:checked").value;
      if (chosen === "zh-en") return ["zh", "en"];
      if (chosen === "en-zh") return ["en", "zh"];
      var src = detectLanguage(box.value) || CONFIG.undetected;
      return [src, src === "zh" ? "en" : "zh"];
    }

    function showDirection() {
      var pair = direction();
      var auto = root.querySelector("input[name=direction]:checked").value === "auto";
      detected.textContent = auto && box.value.trim() ? t("detected", {direction: t(pair[0] === "zh" ? "zhen" : "enzh")}) : "";
    }

    var refusals = 0;  // of the current query in a row; past BUSY_RETRIES the refusal is shown

    function schedule() {
      if (pendingSince === null) pendingSince = performance.now();
      refusals = 0;
      clearTimeout(timer);
      timer = setTimeout(run, DEBOUNCE_MS);
      showDirection();
    }

    async function run() {
      var q = box.value.trim();
      if (controller) controller.abort();
      if (!q) {
        controller = null;
        pendingSince = null;
        list.replaceChildren();
        fragmentList.replaceChildren();
        renderTerms("", []);
        status.textContent = t("typeToSearch");
        return;
      }
      var pair = direction();
      // POST, not GET: a long segment in a query string (500 Chinese characters are 4.5 KB
      // URL-encoded) passes the request-line limit of gunicorn and of proxies (414).
      var params = {q: q, src: pair[0], tgt: pair[1], min_score: Number(minScore.value), limit: 10};
      if (memory.value) params.memory = [memory.value];
      controller = new AbortController();
      var mine = controller;
      status.textContent = t("searching");
      root.setAttribute("aria-busy", "true");
      try {
        var response = await fetch(url, {
          method: "POST", body: JSON.stringify(params), signal: mine.signal, credentials: "same-origin",
          headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken}});
        if (!response.ok) {
          var delay = Duizhao.retryDelay(response);
          if (delay !== null && refusals < BUSY_RETRIES && mine === controller) {
            refusals += 1;
            // Refused at a busy moment (the server was still answering the keystrokes before):
            // asked again as the server says, unless the translator types on meanwhile.
            status.textContent = t("busyRetrying");
            timer = setTimeout(function () { if (mine === controller) run(); }, delay);
            return;
          }
          status.textContent = await errorMessage(response);
          list.replaceChildren();
          return;
        }
        refusals = 0;
        var body = await response.json();
        if (mine !== controller) return; // a newer request is on its way
        render(body);
        if (pendingSince !== null) {
          latencies.push(performance.now() - pendingSince);
          pendingSince = null;
        }
        root.setAttribute("data-rendered-query", body.query);
      } catch (err) {
        if (err.name === "AbortError") return;
        status.textContent = t("networkError");
      } finally {
        if (mine === controller) root.removeAttribute("aria-busy");
      }
    }

    function render(body) {
      renderTerms(body.query, body.terms || [], body.src);
      list.replaceChildren();
      selected = -1;
      var matches = body.matches || [];
      status.textContent = matches.length ? "" : t("noMatches");
      matches.forEach(function (match, index) {
        list.appendChild(renderMatch(match, index, body));
      });
      if (matches.length) select(0, false);
      renderFragments(body.fragments || [], body.src, body.tgt);
      editor.check();
    }

    /* Under the matches: each fragment of the query the memory has translated, its most
     * frequent rendering with a Copy button, and the other renderings and an example unit in a
     * disclosure (a <details>, so the keyboard reaches it as it reaches the buttons). */
    function renderFragments(fragments, src, tgt) {
      fragmentList.replaceChildren();
      fragments.forEach(function (fragment, index) {
        var best = fragment.translations[0];
        var renderingId = "wb-fragment-" + index;
        var copyButton = el("button", {type: "button", className: "wb-copy", "aria-describedby": renderingId,
          text: t("copy")});
        copyButton.addEventListener("click", function () { copyText(best.text); });
        var useButton = el("button", {type: "button", className: "wb-use", "aria-describedby": renderingId, text: t("use")});
        useButton.addEventListener("click", function () { editor.use(best.text, false); });
        fragmentList.appendChild(Duizhao.fragmentItem(fragment,
          {t: t, src: src, tgt: tgt, id: renderingId, buttons: [copyButton, useButton]}));
      });
    }

    async function copyText(text) {
      try {
        await navigator.clipboard.writeText(text);
        status.textContent = t("copied");
      } catch (err) {
        status.textContent = t("copyFailed");
      }
      root.setAttribute("data-copied", text);
    }

    function renderMatch(match, index, body) {
      var band = bandOf(match.score);
      var targetText = match.adapted_target || match.target;
      var targetId = "wb-target-" + index;
      var copyButton = el("button", {type: "button", className: "wb-copy", "aria-describedby": targetId,
        text: t("copy")});
      copyButton.addEventListener("click", function () { copyTarget(index); });
      var useButton = el("button", {type: "button", className: "wb-use", "aria-describedby": targetId, text: t("use")});
      useButton.addEventListener("click", function () { editor.use(targetText, true); });
      var penalties = (match.penalties || []).map(function (p) {
        return el("li", {text: (M["penalty_" + p.reason] || p.reason) + " −" + formatScore(p.points)});
      });
      var meta = el("dl", {className: "wb-meta"}, [
        el("dt", {text: t("memory")}), el("dd", {text: match.memory || ""}),
        match.doc_title ? el("dt", {text: t("document")}) : null,
        match.doc_title ? el("dd", {text: match.doc_title}) : null,
        el("dt", {text: t("date")}), el("dd", {text: formatDate(match.changed_at)}),
        el("dt", {text: t("who")}), el("dd", {text: match.changed_by || match.created_by || "—"}),
        match.status === "draft" ? el("dt", {text: t("status")}) : null,
        match.status === "draft" ? el("dd", {text: t("draft")}) : null,
      ]);
      var item = el("li", {className: "wb-match", tabindex: "-1", "data-index": String(index),
        "data-band": band}, [
        el("div", {className: "wb-match-head"}, [
          el("span", {className: "wb-band wb-band-" + band}, [
            el("span", {className: "wb-score", title: formatScore(match.score), text: percent(match.score)}),
            " " + t("bandword_" + band)]),
          match.adapted ? el("span", {className: "wb-adapted", text: t("adapted")}) : null,
        ]),
        el("div", {className: "wb-pair"}, [
          el("div", {className: "wb-source"}, [
            el("span", {className: "wb-caption", text: t("source")}),
            diffView(body.query, match, body.src)]),
          el("div", {className: "wb-target"}, [
            el("span", {className: "wb-caption", text: t("target")}),
            targetView(match, targetId, body.tgt),
            copyButton, " ", useButton]),
        ]),
        penalties.length ? el("div", {className: "wb-penalties"}, [
          el("span", {className: "wb-caption", text: t("penalties")}), el("ul", {}, penalties)]) : null,
        meta,
      ]);
      item.addEventListener("click", function (event) {
        if (event.target.closest("button")) return;
        select(index, false);
      });
      item.wbTarget = targetText;
      return item;
    }

    /* The target to use; in an adapted target the numbers carried over from the query are marked. */
    function targetView(match, id, tgt) {
      var p = el("p", {id: id, className: "wb-target-text", lang: langAttr(tgt)});
      if (!match.adapted_target) {
        p.textContent = match.target;
        return p;
      }
      var original = {};
      (match.target.match(NUMBER) || []).forEach(function (n) { original[n] = true; });
      var pos = 0;
      match.adapted_target.replace(NUMBER, function (number, offset) {
        p.appendChild(document.createTextNode(match.adapted_target.slice(pos, offset)));
        p.appendChild(original[number] ? document.createTextNode(number)
          : el("mark", {className: "wb-num", title: t("adapted"), text: number}));
        pos = offset + number.length;
        return number;
      });
      p.appendChild(document.createTextNode(match.adapted_target.slice(pos)));
      return p;
    }

    /* The matched source as written, with what the query lacks struck out (<del>) and what
     * only the query has inserted (<ins>): read left to right it turns the source into the query.
     * The edits' spans cover words only: the text between them (spaces, punctuation) is drawn
     * from both texts, plain where they agree, so without the <ins> the paragraph reads as the
     * source and without the <del> as the query. */
    function diffView(query, match, src) {
      var p = el("p", {className: "wb-diff", lang: langAttr(src)});
      var ops = match.diff || [];
      if (!ops.length) {
        p.textContent = match.source;
        return p;
      }
      var parts = [];  // [kind, text], kind "" (both), "del" or "ins"; merged when adjacent
      function add(kind, text) {
        if (!text) return;
        var last = parts[parts.length - 1];
        if (last && last[0] === kind) last[1] += text; else parts.push([kind, text]);
      }
      var sPos = 0, qPos = 0;
      function gap(sEnd, qEnd) {
        var sGap = match.source.slice(sPos, sEnd), qGap = query.slice(qPos, qEnd);
        if (sGap === qGap) {
          add("", sGap);
        } else {
          add("del", sGap);
          add("ins", qGap);
        }
      }
      ops.forEach(function (op) {
        gap(op.s[0], op.q[0]);
        var sText = match.source.slice(op.s[0], op.s[1]);
        var qText = query.slice(op.q[0], op.q[1]);
        if (op.op === "equal") add("", sText);
        else {
          add("del", sText);
          add("ins", qText);
        }
        sPos = Math.max(sPos, op.s[1]);
        qPos = Math.max(qPos, op.q[1]);
      });
      gap(match.source.length, query.length);
      parts.forEach(function (part) {
        if (!part[0]) p.appendChild(document.createTextNode(part[1]));
        else p.appendChild(el(part[0], {title: t(part[0] === "del" ? "deleted" : "inserted"), text: part[1]}));
      });
      return p;
    }

    function renderTerms(query, terms, src) {
      marked.replaceChildren();
      if (!query) {
        marked.textContent = t("typeToSearch");
        renderPane([], CONFIG.undetected);
        return;
      }
      marked.setAttribute("lang", langAttr(src || detectLanguage(query) || CONFIG.undetected));
      var sorted = terms.slice().sort(function (a, b) { return a.start - b.start || b.end - a.end; });
      var pos = 0;
      var shown = 0;
      sorted.forEach(function (term, index) {
        if (term.start < pos) return; // overlaps one already marked
        // Two terms with nothing between them (新华社人民日报) would read as one band:
        // every other marked term gets the second colour.
        var alternate = shown % 2 === 1;
        shown += 1;
        marked.appendChild(document.createTextNode(query.slice(pos, term.start)));
        var tipId = "wb-tip-" + index;
        var renderings = (term.targets || []).map(function (target) {
          var words = [target.text, "(" + (M[target.status] || target.status) + ")"];
          if (target.do_not_translate) words.push("— " + t("doNotTranslate"));
          return el("li", {lang: langAttr(target.lang), text: words.join(" ")});
        });
        var tip = el("span", {className: "wb-tip", role: "tooltip", id: tipId}, [
          el("span", {className: "wb-tip-title", text: t("renderings") + " · " +
            (M[term.term && term.term.status] || (term.term && term.term.status) || "")}),
          el("ul", {}, renderings),
          term.definition ? el("span", {className: "wb-tip-def", text: term.definition}) : null,
        ]);
        var mark = el("span", {className: "wb-term" + (alternate ? " wb-term-alt" : ""), tabindex: "0",
          "aria-describedby": tipId,
          "data-entry": term.entry_id}, [el("mark", {text: query.slice(term.start, term.end)}), tip]);
        mark.addEventListener("keydown", function (event) {
          if (event.key === "Escape") mark.classList.add("wb-tip-hidden");
        });
        mark.addEventListener("blur", function () { mark.classList.remove("wb-tip-hidden"); });
        mark.addEventListener("mouseenter", function () { keepInView(tip); });
        mark.addEventListener("focus", function () { keepInView(tip); });
        marked.appendChild(mark);
        pos = term.end;
      });
      marked.appendChild(document.createTextNode(query.slice(pos)));
      if (!sorted.length) {
        marked.appendChild(el("span", {className: "wb-muted", text: " — " + t("noTerms")}));
      }
      renderPane(sorted, src || detectLanguage(query) || CONFIG.undetected);
    }

    /* The term pane beside the matches, as CAT tools have it: each term of the segment with all
     * its renderings always in view. Preferred and admitted ones have a Copy button; deprecated
     * and forbidden ones are listed struck through with their status in words, and no button. */
    function renderPane(terms, src) {
      var list = pane.querySelector(".wb-pane-list");
      list.replaceChildren();
      var seen = {};
      terms.forEach(function (term, termIndex) {
        var key = term.entry_id + "@" + term.start;
        if (seen[key]) return;
        seen[key] = true;
        var renderings = (term.targets || []).map(function (target, index) {
          var textId = "wb-rendering-" + termIndex + "-" + index;
          var usable = target.status === "preferred" || target.status === "admitted";
          var copyButton = null, useButton = null;
          if (usable) {
            copyButton = el("button", {type: "button", className: "wb-copy", "aria-describedby": textId, text: t("copy")});
            copyButton.addEventListener("click", function () { copyText(target.text); });
            useButton = el("button", {type: "button", className: "wb-use", "aria-describedby": textId, text: t("use")});
            useButton.addEventListener("click", function () { editor.use(target.text, false); });
          }
          return el("li", {className: "wb-rendering", "data-status": target.status}, [
            el("span", {id: textId, className: "wb-rendering-text", lang: langAttr(target.lang), text: target.text}),
            " ", el("span", {className: "wb-rendering-status", text: M[target.status] || target.status}),
            target.do_not_translate ? el("span", {className: "wb-rendering-status", text: t("doNotTranslate")}) : null,
            copyButton ? " " : null, copyButton, useButton ? " " : null, useButton]);
        });
        var status = term.term && term.term.status;
        list.appendChild(el("li", {className: "wb-pane-term", "data-entry": term.entry_id}, [
          el("div", {className: "wb-pane-head"}, [
            el("span", {className: "wb-pane-source", lang: langAttr(src), text: term.surface}),
            status && status !== "preferred" && status !== "admitted"
              ? el("span", {className: "wb-rendering-status", text: M[status] || status}) : null]),
          el("ul", {className: "wb-renderings", "aria-label": t("renderings")}, renderings),
          term.definition ? el("p", {className: "wb-pane-def", text: term.definition}) : null]));
      });
    }

    // A tooltip opens below its term, starting at the term's left edge; for a term near the right
    // edge of a phone screen that would run off the page, so it is shifted back into view.
    function keepInView(tip) {
      tip.style.left = "";
      var margin = 8;
      var box = tip.getBoundingClientRect();
      var overflow = box.right - (document.documentElement.clientWidth - margin);
      if (overflow > 0) {
        tip.style.left = Math.min(overflow, box.left - margin) * -1 + "px";
      }
    }

    function items() {
      return Array.prototype.slice.call(list.querySelectorAll(".wb-match"));
    }

    function select(index, focus) {
      var all = items();
      if (!all.length) return;
      selected = Math.max(0, Math.min(index, all.length - 1));
      all.forEach(function (node, i) {
        if (i === selected) node.setAttribute("aria-current", "true"); else node.removeAttribute("aria-current");
        node.classList.toggle("wb-selected", i === selected);
      });
      if (focus) {
        all[selected].focus();
        all[selected].scrollIntoView({block: "nearest"});
      }
    }

    async function copyTarget(index) {
      var all = items();
      var item = all[index === undefined ? selected : index];
      if (!item) return;
      try {
        await navigator.clipboard.writeText(item.wbTarget);
        status.textContent = t("copied");
      } catch (err) {
        status.textContent = t("copyFailed");
      }
      root.setAttribute("data-copied", item.wbTarget);
    }

    function switchDirection() {
      var pair = direction();
      var next = pair[0] === "zh" ? "en-zh" : "zh-en";
      root.querySelector("input[name=direction][value='" + next + "']").checked = true;
      showDirection();
      run();
    }

    function typing(target) {
      return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" ||
        target.tagName === "SELECT" || target.isContentEditable);
    }

    document.addEventListener("keydown", function (event) {
      if (event.altKey && (event.key === "d" || event.key === "D" || event.code === "KeyD")) {
        event.preventDefault();
        switchDirection();
        return;
      }
      if (event.ctrlKey && event.key === "Enter") {
        event.preventDefault();
        if (event.target === editor.box) editor.store(); else copyTarget();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (event.key === "/") {
        event.preventDefault();
        box.focus();
      } else if (event.key === "j" || event.key === "ArrowDown") {
        if (!items().length) return;
        event.preventDefault();
        select(selected + 1, true);
      } else if (event.key === "k" || event.key === "ArrowUp") {
        if (!items().length) return;
        event.preventDefault();
        select(selected - 1, true);
      } else if (event.key === "c") {
        event.preventDefault();
        copyTarget();
      }
    });

    box.addEventListener("input", schedule);
    memory.addEventListener("change", run);
    minScore.addEventListener("change", run);
    root.querySelectorAll("input[name=direction]").forEach(function (radio) {
      radio.addEventListener("change", function () { showDirection(); run(); });
    });
    status.textContent = t("typeToSearch");
    var initial = new URLSearchParams(location.search).get("q");
    if (initial) {
      box.value = initial;
      schedule();
    }
  }

  /* ------------------------------------------------------------------ the translation box */

  async function postJSON(url, body, csrfToken, signal) {
    return fetch(url, {method: "POST", body: JSON.stringify(body), signal: signal, credentials: "same-origin",
      headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken}});
  }

  /* The editable target under the matches: filled by Use (a match replaces it, a fragment or a
   * term goes in at the cursor), checked as one types (debounced), stored with Ctrl+Enter or the
   * Store button into the chosen memory. */
  function initEditor(section, source) {
    var box = document.getElementById("wb-tgt");
    var issues = document.getElementById("wb-qa");
    var status = document.getElementById("wb-store-status");
    var memorySelect = document.getElementById("wb-store-memory");
    var titleBox = document.getElementById("wb-doc-title");
    var storeButton = document.getElementById("wb-store");
    var timer = null, controller = null;
    Duizhao.remember(memorySelect, "store-memory");
    Duizhao.remember(titleBox, "store-doc-title");

    function use(text, replace) {
      if (replace || !box.value) {
        box.value = text;
      } else {
        var start = box.selectionStart, end = box.selectionEnd;
        box.value = box.value.slice(0, start) + text + box.value.slice(end);
        box.selectionStart = box.selectionEnd = start + text.length;
      }
      box.focus();
      check();
    }

    function check() {
      clearTimeout(timer);
      // Longer than the lookup's: a check per word typed is plenty.
      timer = setTimeout(runCheck, 250);
    }

    async function runCheck() {
      if (controller) controller.abort();
      var q = source.source(), target = box.value;
      if (!q || !target.trim()) {
        issues.replaceChildren();
        section.removeAttribute("data-checked");
        return;
      }
      var pair = source.direction();
      controller = new AbortController();
      var mine = controller;
      try {
        var response = await postJSON(section.getAttribute("data-qa-url"),
          {source: q, target: target, src: pair[0], tgt: pair[1]}, source.csrfToken, mine.signal);
        if (mine !== controller) return;
        if (!response.ok) {
          issues.replaceChildren(el("li", {className: "wb-qa-issue", text: await errorMessage(response)}));
          return;
        }
        Duizhao.renderIssues(issues, (await response.json()).issues, t);
        section.setAttribute("data-checked", target);
      } catch (err) {
        if (err.name !== "AbortError") issues.replaceChildren(el("li", {text: t("networkError")}));
      }
    }

    async function store() {
      if (!storeButton) return;
      var q = source.source(), target = box.value.trim();
      if (!q) { status.textContent = t("emptySource"); return; }
      if (!target) { status.textContent = t("emptyTarget"); box.focus(); return; }
      if (!memorySelect.value) { status.textContent = t("noMemory"); return; }
      var pair = source.direction();
      status.textContent = t("storing");
      storeButton.disabled = true;
      try {
        var response = await postJSON(section.getAttribute("data-store-url"), {
          memory: memorySelect.value, source: q, target: target, src: pair[0], tgt: pair[1],
          doc_title: titleBox.value.trim() || null}, source.csrfToken);
        if (!response.ok) {
          status.textContent = await errorMessage(response);
          return;
        }
        var unit = await response.json();
        var key = unit.outcome === "created" ? "stored_created_" + unit.status : "stored_" + unit.outcome;
        status.textContent = t(key, {memory: unit.memory});
        section.setAttribute("data-stored-unit", String(unit.id));
      } catch (err) {
        status.textContent = t("networkError");
      } finally {
        storeButton.disabled = false;
      }
    }

    box.addEventListener("input", check);
    if (storeButton) storeButton.addEventListener("click", store);
    return {use: use, check: check, store: store, box: box};
  }

  /* ------------------------------------------------------------------ concordance */

  function initConcordance(form) {
    var table = document.getElementById("wb-kwic");
    var tbody = table.querySelector("tbody");
    var status = document.getElementById("wb-cstatus");
    var pages = document.getElementById("wb-cpages");
    var controller = null;
    var KWIC = 30;
    var labels = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent; });

    async function search(page) {
      var data = new FormData(form);
      var q = String(data.get("q") || "").trim();
      if (!q) return;
      var dated = data.get("since") || data.get("until");
      var params = new URLSearchParams({q: q, page: String(page), per_page: "20"});
      ["lang", "memory", "since", "until"].forEach(function (name) {
        if (data.get(name)) params.set(name, data.get(name));
      });
      if (!dated) { params.delete("since"); params.delete("until"); }
      var url = (dated ? form.getAttribute("data-dated-url") : form.getAttribute("data-api-url")) + "?" + params;
      if (controller) controller.abort();
      controller = new AbortController();
      status.textContent = t("searching");
      try {
        var response = await fetch(url, {signal: controller.signal, headers: {"Accept": "application/json"},
          credentials: "same-origin"});
        if (!response.ok) {
          status.textContent = await errorMessage(response);
          table.hidden = true;
          pages.replaceChildren();
          return;
        }
        render(await response.json());
        history.replaceState(null, "", "?" + new URLSearchParams({q: q}).toString());
      } catch (err) {
        if (err.name !== "AbortError") status.textContent = t("networkError");
      }
    }

    function render(body) {
      tbody.replaceChildren();
      var other = body.lang === "zh" ? "en" : "zh";
      body.results.forEach(function (unit) {
        var text = unit[body.lang];
        var spans = (unit.hits && unit.hits[body.lang]) || [[0, 0]];
        var first = spans[0];
        var before = text.slice(Math.max(0, first[0] - KWIC), first[0]);
        var after = text.slice(first[1], first[1] + KWIC);
        tbody.appendChild(el("tr", {}, [
          el("td", {className: "wb-left", lang: langAttr(body.lang), text: (first[0] > KWIC ? "…" : "") + before}),
          el("td", {className: "wb-hit", lang: langAttr(body.lang)}, [el("mark", {text: text.slice(first[0], first[1])})]),
          el("td", {className: "wb-right", lang: langAttr(body.lang), text: after + (first[1] + KWIC < text.length ? "…" : "")}),
          // On a phone each row is a card: these cells carry their header's name (style.css).
          el("td", {className: "wb-translation", "data-label": labels[3], lang: langAttr(other), text: unit[other]}),
          el("td", {className: "wb-memory-name", "data-label": labels[4], text: unit.memory}),
          el("td", {className: "wb-date", "data-label": labels[5], text: formatDate(unit.changed_at || unit.created_at)}),
        ]));
      });
      table.hidden = !body.results.length;
      status.textContent = body.results.length ? t("hits", {total: body.total}) : t("notFound");
      var count = Math.max(1, Math.ceil(body.total / body.per_page));
      pages.replaceChildren();
      if (body.page > 1) {
        var prev = el("button", {type: "button", text: "← " + t("previous")});
        prev.addEventListener("click", function () { search(body.page - 1); });
        pages.appendChild(prev);
      }
      pages.appendChild(el("span", {text: " " + t("page", {page: body.page, pages: count}) + " "}));
      if (body.page < count) {
        var next = el("button", {type: "button", text: t("next") + " →"});
        next.addEventListener("click", function () { search(body.page + 1); });
        pages.appendChild(next);
      }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      search(1);
    });
    if (form.elements.q.value.trim()) search(1);
  }

  var lookupRoot = document.querySelector(".wb-lookup");
  if (lookupRoot) initLookup(lookupRoot);
  var concordanceForm = document.getElementById("wb-conc-form");
  if (concordanceForm) initConcordance(concordanceForm);
})();
