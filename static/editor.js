/* Duizhao's segment editor (My documents): each segment's translation typed or accepted,
 * checked as one types, confirmed with Ctrl+Enter (stored at once: the document's record and a
 * unit of its memory), then on to the next segment. A confirm carries the version the segment had
 * when the page was loaded; a stale one is answered 409 with the other's text, shown here. */
(function () {
  "use strict";

  var t = Duizhao.translator(Duizhao.readJSON("ed-messages"));
  var el = Duizhao.el;
  var list = document.getElementById("ed-segments");
  if (!list) return;
  var csrfToken = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var confirmUrl = list.getAttribute("data-confirm-url").replace(/\/0$/, "/");
  var qaUrl = list.getAttribute("data-qa-url");
  var src = list.getAttribute("data-src"), tgt = list.getAttribute("data-tgt");

  function send(method, url, body) {
    return fetch(url, {method: method, body: JSON.stringify(body), credentials: "same-origin",
      headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken}});
  }

  function sourceOf(item) {
    var p = item.querySelector(".ed-source");
    return p.textContent.replace(/^\s*\d+\s/, "");
  }

  function renderIssues(box, issues) {
    box.replaceChildren();
    if (!issues.length) {
      box.appendChild(el("li", {className: "wb-qa-ok", text: t("noIssues")}));
      return;
    }
    issues.forEach(function (issue) {
      box.appendChild(el("li", {className: "wb-qa-issue wb-qa-" + issue.severity, "data-kind": issue.kind}, [
        el("span", {className: "wb-qa-severity", text: t("severity_" + issue.severity)}), " ",
        el("span", {text: issue.message})]));
    });
  }

  async function check(item) {
    var target = item.querySelector(".ed-target").value;
    var box = item.querySelector(".wb-qa");
    if (!target.trim()) { box.replaceChildren(); return; }
    try {
      var response = await send("POST", qaUrl, {source: sourceOf(item), target: target, src: src, tgt: tgt});
      if (response.ok) renderIssues(box, (await response.json()).issues);
    } catch (err) { /* the checks are advice: a failed one leaves the last shown */ }
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
        item.classList.add("ed-conflict");
        status.replaceChildren(body.error.message + " ",
          el("q", {className: "ed-theirs", lang: tgt === "zh" ? "zh-Hans" : "en", text: current.target || ""}));
        return false;
      }
      if (!response.ok) {
        status.textContent = t("serverError", {message: (body.error && body.error.message) || response.status});
        return false;
      }
      item.setAttribute("data-version", String(body.version));
      item.classList.add("ed-confirmed");
      item.classList.remove("ed-conflict");
      status.textContent = t("confirmed", {who: body.confirmed_by, when: body.confirmed_at.replace("T", " ").slice(0, 16)});
      return true;
    } catch (err) {
      status.textContent = t("networkError");
      return false;
    }
  }

  function next(item) {
    var following = item.nextElementSibling;
    if (following) {
      var box = following.querySelector(".ed-target");
      box.focus();
      following.scrollIntoView({block: "nearest"});
    }
  }

  list.querySelectorAll(".ed-segment").forEach(function (item) {
    var box = item.querySelector(".ed-target");
    var timer = null;
    box.addEventListener("input", function () {
      item.classList.remove("ed-confirmed");
      clearTimeout(timer);
      timer = setTimeout(function () { check(item); }, 300);
    });
    box.addEventListener("keydown", async function (event) {
      if (event.ctrlKey && event.key === "Enter") {
        event.preventDefault();
        if (await confirm(item)) next(item);
      }
    });
    var accept = item.querySelector(".ed-accept");
    if (accept) {
      accept.addEventListener("click", function () {
        box.value = item.querySelector(".ed-match-text").textContent;
        box.focus();
        check(item);
      });
    }
  });
})();
