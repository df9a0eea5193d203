// A job's progress (templates/jobs/_progress.html), polled until it ends, then its file's link
// when it gives one (or the page its result names): the import page's, the article page's
// pre-translation of a large XLIFF, and the alignment of a long text.
// On the import page also the upload's progress while the file is sent. Without JavaScript the
// forms post as usual and the job's page has a link to look again.
const form = document.getElementById("import-form");
form?.addEventListener("submit", (event) => {
  const bar = document.getElementById("upload-progress");
  event.preventDefault();
  const data = new FormData(form);
  const upload = (attempt) => {
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    request.addEventListener("load", () => {
      // Accepted: the server redirected to the job's page, which polls it.
      if (request.status === 200 && request.responseURL.includes("job=")) {
        window.location.assign(request.responseURL);
        return;
      }
      // Refused by the admission gate at a busy moment, before anything was read: sent again
      // as the server says, a few times, as the other pages do.
      const delay = Duizhao.retryDelay({ status: request.status, headers: { get: (name) => request.getResponseHeader(name) } });
      if (delay !== null && attempt < 3) {
        window.setTimeout(() => upload(attempt + 1), delay);
        return;
      }
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.send(data);
  };
  upload(0);
});

const section = document.querySelector("section[data-job-url]");
if (section) {
  const progress = document.getElementById("job-progress");
  const fill = progress.querySelector(".job-progress-bar");
  const status = document.getElementById("job-status");
  const failure = document.getElementById("job-error");
  const cancel = document.getElementById("job-cancel");
  const refresh = document.getElementById("job-refresh");
  const download = document.getElementById("job-download");
  const resultLink = document.getElementById("job-result-link");
  const fillIn = (template, values) => template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  let lastText = status.textContent;

  const setPercent = (percent) => {
    progress.setAttribute("aria-valuenow", String(percent));
    progress.setAttribute("aria-valuetext", `${percent}%`);
    fill.style.width = `${percent}%`;
  };
  const say = (text) => {
    // Only a change is written, so a screen reader hears each state once, not every poll.
    if (text !== lastText) {
      status.textContent = text;
      lastText = text;
    }
  };
  setPercent(Number(fill.dataset.percent || 0));

  const show = (job) => {
    const { done, total } = job.progress;
    const percent = total ? Math.min(100, Math.round((100 * done) / total)) : job.state === "done" ? 100 : 0;
    setPercent(percent);
    section.dataset.state = job.state;
    if (job.state === "done") {
      say(fillIn(status.dataset.done, job.result));
      if (download && job.download) {
        download.querySelector("a").href = job.download;
        download.hidden = false;
      }
      // A page the result names (an alignment's review page), once there is one.
      const target = job.result?.[resultLink?.dataset.field];
      if (resultLink && typeof target === "string") {
        resultLink.querySelector("a").href = target;
        resultLink.hidden = false;
      }
    } else if (job.state === "failed") {
      say("");
      failure.textContent = job.error.message;
      failure.hidden = false;
    } else if (job.state === "cancelled") {
      say(status.dataset.cancelled);
    } else if (job.state === "running") {
      // Every tenth of the way, not every poll: a screen reader is not flooded.
      say(fillIn(status.dataset.running, { percent: Math.floor(percent / 10) * 10 }));
    } else {
      say(status.dataset.queued);
    }
    const ended = ["done", "failed", "cancelled"].includes(job.state);
    if (cancel) cancel.hidden = ended;
    if (refresh && ended) refresh.hidden = true;
    return ended;
  };

  const poll = async () => {
    try {
      const response = await fetch(section.dataset.jobUrl, { headers: { Accept: "application/json" } });
      if (response.ok && show(await response.json())) return;
    } catch (_error) {
      // A dropped connection: try again at the next tick.
    }
    window.setTimeout(poll, 700);
  };
  if (!["done", "failed", "cancelled"].includes(section.dataset.state)) {
    if (cancel) {
      cancel.hidden = false;
      cancel.addEventListener("click", async () => {
        cancel.disabled = true;
        await Duizhao.fetchAdmitted(section.dataset.jobUrl, { method: "DELETE", headers: { "X-CSRFToken": cancel.dataset.csrf } });
      });
    }
    poll();
  }
}
