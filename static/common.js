/* What the pages' scripts share: their translated strings, building elements, and the server's
 * words for a failed request. A plain script (no build step, no modules) that defines
 * window.Duizhao, so the templates load it before workbench.js and align.js.
 *
 * Strings reach a script as a JSON blob the template renders (<script type="application/json">),
 * translated on the server. Their placeholders are {name}, as in the server's own messages
 * (common.messages.Message, the API's error texts): a template's _() formats every string with
 * %, so %(name)s could not pass through one, and {name} passes through both. */
(function () {
  "use strict";

  /* The JSON a <script type="application/json"> element holds; {} when the page has none. */
  function readJSON(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  /* t(key, values): the string ``key`` of ``strings`` with each {name} filled from ``values``
   * (a placeholder without a value stays as written); the key itself when there is no string. */
  function translator(strings) {
    return function t(key, values) {
      const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
      if (!values) return text;
      return text.replace(/\{(\w+)\}/g, (whole, name) =>
        (Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole));
    };
  }

  /* A new element: ``attrs`` sets text (textContent, so user text is never parsed as HTML),
   * className and attributes (null, undefined and false leave one out, true sets it empty);
   * ``children`` are nodes or strings, null and undefined skipped. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach((name) => {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach((child) => {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /* Why a request failed, in the server's words (its JSON error's message, already in the
   * reader's language), or ``fallback`` when the answer is not such an error (a proxy's page). */
  async function errorMessage(response, fallback) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (ignored) { /* not JSON: the fallback */ }
    return fallback;
  }

  /* Keep a form control's value in the browser (localStorage, under "duizhao." + ``key``): the
   * last choice comes back when the page is opened again, so a translator storing segment after
   * segment does not pick the same memory and title each time. A select gets the value back only
   * while it still offers it; a browser that refuses storage (private mode) just forgets. */
  function remember(control, key) {
    if (!control) return;
    const name = "duizhao." + key;
    try {
      const kept = window.localStorage.getItem(name);
      const offered = control.tagName !== "SELECT" || [...control.options].some((o) => o.value === kept);
      if (kept !== null && offered) control.value = kept;
    } catch (ignored) { /* storage refused: nothing to restore */ }
    const save = () => {
      try { window.localStorage.setItem(name, control.value); } catch (ignored) { /* storage refused */ }
    };
    control.addEventListener("change", save);
    control.addEventListener("input", save);
  }

  function langAttr(code) {
    return code === "zh" ? "zh-Hans" : "en";
  }

  /* One fragment of a lookup answer as a list item, the same on the lookup page and in the
   * editor: the fragment marked in the source's language, its most frequent rendering (element
   * ``id``, which the caller's ``buttons`` name in aria-describedby) with its count, and in a
   * disclosure (a <details>, so the keyboard reaches it) the other renderings and an example
   * unit with the rendering marked in its target. ``t`` gives the page's strings fragmentUnit,
   * fragmentUnits, fragmentMore and memory. */
  function fragmentItem(fragment, options) {
    const t = options.t, src = options.src, tgt = options.tgt;
    const best = fragment.translations[0];
    const count = (units) => t(units === 1 ? "fragmentUnit" : "fragmentUnits", {count: units});
    const others = fragment.translations.slice(1).map((other) =>
      el("li", {}, [el("span", {lang: langAttr(tgt), text: other.text}), " " + count(other.units)]));
    const example = best.example;
    const span = example.target_span;
    const details = el("details", {className: "wb-fragment-more"}, [
      el("summary", {text: t("fragmentMore")}),
      others.length ? el("ul", {className: "wb-fragment-others"}, others) : null,
      el("p", {className: "wb-fragment-example", lang: langAttr(src), text: example.source}),
      el("p", {className: "wb-fragment-example", lang: langAttr(tgt)}, [
        example.target.slice(0, span[0]), el("mark", {text: example.target.slice(span[0], span[1])}),
        example.target.slice(span[1])]),
      el("p", {className: "wb-muted", text: t("memory") + ": " + (example.memory || "")}),
    ]);
    const buttons = [];
    options.buttons.forEach((button) => buttons.push(" ", button));
    return el("li", {className: "wb-fragment", "data-start": String(fragment.start), "data-end": String(fragment.end)}, [
      el("div", {className: "wb-fragment-head"}, [
        el("mark", {className: "wb-fragment-source", lang: langAttr(src), text: fragment.source}),
        " → ",
        el("span", {id: options.id, className: "wb-fragment-text", lang: langAttr(tgt), text: best.text}),
        " ", el("span", {className: "wb-muted", text: count(best.units)}),
        ...buttons]),
      details]);
  }

  /* The issues of a QA answer (POST /api/v1/qa) as the items of ``list``: severity in words,
   * the message (in the reader's language already, quoting the spans' text itself); one item
   * saying so when there are none. ``t`` gives noIssues and severity_error/_warning. */
  function renderIssues(list, issues, t) {
    list.replaceChildren();
    if (!issues.length) {
      list.appendChild(el("li", {className: "wb-qa-ok", text: t("noIssues")}));
      return;
    }
    issues.forEach((issue) => {
      list.appendChild(el("li", {className: "wb-qa-issue wb-qa-" + issue.severity, "data-kind": issue.kind}, [
        el("span", {className: "wb-qa-severity", text: t("severity_" + issue.severity)}), " ",
        el("span", {text: issue.message})]));
    });
  }

  /* Milliseconds to wait before sending a request again that the server's admission gate
   * refused (503 or 429 with Retry-After: refused before it ran, so sending it again is safe),
   * bounded to 0.2-10 s; null for any other answer. */
  function retryDelay(response) {
    const seconds = parseFloat(response.headers.get("Retry-After"));
    if ((response.status !== 503 && response.status !== 429) || Number.isNaN(seconds)) return null;
    return Math.min(Math.max(seconds, 0.2), 10) * 1000;
  }

  /* fetch(url, init), sent again as the server says when its admission gate refused it (see
   * retryDelay), at most ``retries`` times; then the refusal is the answer. For requests that a
   * person waits on and that nothing newer replaces (a save, a confirm, a cancel); the lookup
   * page, whose requests the next keystroke replaces, keeps its own loop. */
  async function fetchAdmitted(url, init, retries = 3) {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(url, init);
      const delay = retryDelay(response);
      if (delay === null || attempt >= retries) return response;
      await new Promise((done) => setTimeout(done, delay));
    }
  }

  window.Duizhao = Object.freeze({readJSON, translator, el, errorMessage, remember, langAttr, fragmentItem,
    renderIssues, retryDelay, fetchAdmitted});
})();
