// Noctune Studio web UI: plain JavaScript, no build step. Talks to the JSON API with the
// session cookie; state changes carry the page's CSRF token (common.js).
"use strict";

const main = document.getElementById("main");
let cleanup = [];

// ---------- helpers (more in common.js) ----------
function badge(status) {
  return h("span", { class: `badge ${status}` }, String(status).replace("_", " "));
}
function counts(tasks) {
  const c = { total: tasks.length, done: 0, waiting: 0, failed: 0, final: 0 };
  for (const t of tasks) {
    if (t.status === "done") c.done++;
    if (t.status === "waiting_approval" || t.status === "queued") c.waiting++;
    if (t.status === "failed") c.failed++;
    if (["done", "proposed", "queued", "rejected", "restored", "conflict", "skipped", "failed"].includes(t.status)) c.final++;
  }
  return c;
}
function progress(done, total) {
  const bar = h("span");
  bar.style.width = total ? `${Math.round((100 * done) / total)}%` : "0%";
  return h("div", { class: "progress", title: `${done}/${total}` }, bar);
}
function riskView(risk) {
  const level = risk >= 0.6 ? "high" : risk >= 0.3 ? "mid" : "low";
  const fill = h("span");
  fill.style.width = `${Math.round(risk * 100)}%`;
  return h("span", { class: `risk ${level}` }, h("span", { class: "bar" }, fill), risk.toFixed(2));
}

// ---------- Python highlighting ----------
// ---------- side-by-side diff ----------
function lineDiff(a, b) {
  const n = a.length, m = b.length;
  const dp = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const rows = [];
  let i = 0, j = 0, dels = [], adds = [];
  const flush = () => {
    const k = Math.max(dels.length, adds.length);
    for (let x = 0; x < k; x++) rows.push({ left: dels[x] || null, right: adds[x] || null });
    dels = []; adds = [];
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { flush(); rows.push({ left: { no: i + 1, text: a[i], kind: "" }, right: { no: j + 1, text: b[j], kind: "" } }); i++; j++; }
    else if (j < m && (i >= n || dp[i][j + 1] >= dp[i + 1][j])) { adds.push({ no: j + 1, text: b[j], kind: "add" }); j++; }
    else { dels.push({ no: i + 1, text: a[i], kind: "del" }); i++; }
  }
  flush();
  return rows;
}
function side(cells) {
  return h("div", { class: "side" }, cells.map((c) => {
    if (!c) return h("div", { class: "ln empty" }, h("span", { class: "no" }), h("code"));
    const code = h("code");
    code.innerHTML = highlight(c.text) || " ";
    return h("div", { class: `ln ${c.kind}` }, h("span", { class: "no" }, c.no), code);
  }));
}
function diffView(change) {
  const before = (change.before || "").replace(/\n$/, "").split("\n");
  const after = (change.after || "").replace(/\n$/, "").split("\n");
  const rows = lineDiff(change.before ? before : [], change.after ? after : []);
  return h("div", { class: "diff" },
    h("div", { class: "sym" }, change.symbol),
    h("div", { class: "dh" }, h("div", {}, change.before ? "Before" : "Before (new symbol)"), h("div", {}, change.after ? "After" : "After (removed)")),
    h("div", { class: "rows" }, side(rows.map((r) => r.left)), side(rows.map((r) => r.right))));
}

// ---------- views ----------
async function runsView() {
  const data = await api("/api/runs");
  const rows = data.runs.map((r) => {
    const c = counts(r.tasks || []);
    return h("tr", { class: "link", "data-run": r.run.run_id, onclick: () => (location.hash = `#/runs/${r.run.run_id}`) },
      h("td", {}, h("a", { href: `#/runs/${r.run.run_id}`, class: "mono" }, r.run.run_id)),
      h("td", {}, badge(r.status)),
      h("td", { class: "hide-sm" }, r.run.pack || "—"),
      h("td", { class: "hide-sm", title: r.run.started_at }, when(r.run.started_at)),
      h("td", { class: "hide-sm", title: r.run.updated_at }, when(r.run.updated_at)),
      h("td", { class: "hide-sm" }, h("div", { class: "mono" }, `${c.final}/${c.total}`), progress(c.final, c.total)),
      h("td", { class: "num" }, r.pending_approvals ? h("a", { href: `#/runs/${r.run.run_id}/approvals` }, String(r.pending_approvals)) : "0"));
  });
  put(main, 
    h("div", { class: "head" },
      h("div", {}, h("h1", {}, "Runs"), h("p", { class: "sub" }, "Every run of this repository, newest first.")),
      h("div", { class: "actions" }, h("a", { class: "button primary", href: "#/new", id: "start-run" }, "Start a run"))),
    data.runs.length === 0
      ? h("div", { class: "card empty-state" }, h("b", {}, "No runs yet"), "Start one with a policy pack; it shows up here as it works.")
      : h("div", { class: "card scroll" }, h("table", { id: "runs" },
          h("thead", {}, h("tr", {}, h("th", {}, "Run"), h("th", {}, "Status"), h("th", { class: "hide-sm" }, "Pack"),
            h("th", { class: "hide-sm" }, "Started"), h("th", { class: "hide-sm" }, "Updated"), h("th", { class: "hide-sm" }, "Files"), h("th", { class: "num" }, "Waiting"))),
          h("tbody", {}, rows))));
  poll(runsView, 3000);
}

const EVENT_KIND = { run_failed: "bad", task_failed: "bad", gate_failed: "bad", conflict: "bad", policy_violation: "bad",
  endpoint_down: "bad", applied: "good", run_completed: "good", endpoint_up: "good", approval_queued: "ask",
  approval_decided: "ask", run_stopping: "ask", stopped: "ask", endpoint_retried: "ask" };
function eventRow(e) {
  const payload = e.payload && Object.keys(e.payload).length ? JSON.stringify(e.payload) : "";
  const t = new Date(e.ts);
  return h("div", { class: `event ${EVENT_KIND[e.type] || ""}`, "data-idx": e.idx },
    h("span", { class: "idx" }, e.idx),
    h("span", { class: "ts" }, t.toLocaleTimeString([], { hour12: false })),
    h("span", { class: "type" }, e.type),
    h("span", { class: "payload", title: payload }, payload));
}

// The run's patchsets and, on request, their commits on noctune/<run_id>.
function patchsetsCard(path, id) {
  const card = h("div", { class: "card pad", id: "patchsets" });
  const outcome = (line) => line.outcome === "committed"
    ? h("span", { class: "badge completed" }, `committed ${line.sha.slice(0, 12)}`)
    : h("span", { class: "badge failed", title: line.why }, `blocked: ${line.why}`);
  const show = (data, report) => {
    const lines = new Map(((report && report.patchsets) || []).map((l) => [l.patchset_id, l]));
    const rows = data.patchsets.map((p, n) => h("tr", { "data-patchset": p.id },
      h("td", { class: "num" }, `${n + 1}/${data.patchsets.length}`),
      h("td", { class: "mono" }, p.id), h("td", { class: "mono" }, p.key),
      h("td", { class: "mono" }, p.diffs.map((d) => h("div", {}, `${d.file} +${d.added} -${d.removed}${d.withheld ? ` (${d.withheld})` : ""}`))),
      h("td", {}, lines.has(p.id) ? outcome(lines.get(p.id)) : "")));
    const commit = h("button", { id: "commit-patchsets", disabled: !data.patchsets.length || !!report,
      onclick: async () => {
        commit.disabled = true;
        toast("Committing: the pack's tools run before each commit…");
        try { show(data, await api(`${path}/patchsets/commit`, { body: {} })); }
        catch (e) { toast(e.message); commit.disabled = false; }
      } }, "Commit patchsets");
    put(card,
      h("div", { class: "cardhead" }, h("h2", {}, "Patchsets"), commit),
      report ? h("p", { class: "sub", id: "patchset-branch" }, report.branch
        ? `Branch ${report.branch} from ${report.head_sha.slice(0, 12)}; your working tree, index and branch are unchanged.`
        : "No commit was made; no branch was created.") : null,
      rows.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", { class: "num" }, "#"), h("th", {}, "Id"), h("th", {}, "Module"), h("th", {}, "Files"), h("th", {}, ""))), h("tbody", {}, rows))
        : h("div", { class: "empty-state" }, "The run applied no change."));
  };
  api(`${path}/patchsets`).then((data) => show(data, null)).catch((e) => put(card, h("h2", {}, "Patchsets"), h("div", { class: "empty-state" }, e.message)));
  return card;
}

async function runView(id) {
  const path = `/api/runs/${encodeURIComponent(id)}`;
  const top = h("div");
  const filesCard = h("div", { class: "card" });
  const eventsBox = h("div", { class: "events", id: "events" });
  const liveLabel = h("span", { class: "live off" }, "ended");
  let cursor = 0, source = null, refresh = null, stopping = false;
  const paint = (run) => {
    const c = counts(run.tasks || []);
    const stop = h("button", { class: "danger", id: "stop", disabled: !run.worker || run.status === "stopping" || stopping,
      onclick: async () => {
        stop.disabled = true;
        stopping = true;
        try { await api(`${path}/stop`, { body: {} }); toast("Stopping at the next safe point…"); }
        catch (e) { toast(e.message); stop.disabled = false; stopping = false; }
      } }, "■ Stop");
    put(top,
      h("div", { class: "head" },
        h("div", {}, h("h1", { class: "mono" }, run.run.run_id), h("p", { class: "sub" }, `Pack ${run.run.pack || "default"} · started ${when(run.run.started_at)}`)),
        h("div", { class: "actions" },
          h("a", { class: "button", href: `#/runs/${id}/approvals` }, `Approvals (${run.pending_approvals})`),
          h("a", { class: "button", href: `#/runs/${id}/report` }, "Report"), stop)),
      run.run.error ? h("div", { class: "error", id: "run-error" }, run.run.error) : null,
      run.task ? h("div", { class: "card", id: "task" },
        h("div", { class: "cardhead" }, h("h2", {}, "Request"),
          run.task.outcome ? badge(run.task.outcome.outcome) : badge(run.status)),
        h("div", { class: "task-body" },
          h("p", { id: "task-request" }, run.task.request || "—"),
          run.task.summary ? h("p", { class: "sub", id: "task-outcome" }, run.task.summary) : null)) : null,
      h("div", { class: "stats" },
        h("div", { class: "card stat" }, h("div", { class: "k" }, "Status"), h("div", { class: "v", id: "run-status" }, badge(run.status))),
        h("div", { class: "card stat" }, h("div", { class: "k" }, "Files finished"), h("div", { class: "v" }, `${c.final} / ${c.total}`)),
        h("div", { class: "card stat" }, h("div", { class: "k" }, "Waiting for you"), h("div", { class: "v" }, String(run.pending_approvals))),
        h("div", { class: "card stat" }, h("div", { class: "k" }, "Updated"), h("div", { class: "v", title: run.run.updated_at }, when(run.run.updated_at)))));
    const tasks = (run.tasks || []).map((t) =>
      h("tr", {}, h("td", { class: "mono" }, t.file), h("td", {}, badge(t.status)),
        h("td", { class: "hide-sm" }, t.stage), h("td", { class: "num" }, t.pass), h("td", { class: "hide-sm" }, t.label || "—")));
    put(filesCard, h("div", { class: "cardhead" }, h("h2", {}, "Files"), progress(c.final, c.total)),
      tasks.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", {}, "Status"), h("th", { class: "hide-sm" }, "Stage"), h("th", { class: "num" }, "Pass"), h("th", { class: "hide-sm" }, "Label"))), h("tbody", {}, tasks))
        : h("div", { class: "empty-state" }, "No file started yet."));
    if (!["completed", "failed", "stopped"].includes(run.status) && !source) openTail();
  };
  const reload = async () => {
    if (location.hash !== `#/runs/${id}`) return;
    try { paint(await api(path)); } catch (e) { toast(e.message); }
  };
  const openTail = () => {
    source = new EventSource(`${path}/events/stream?cursor=${cursor}`);
    liveLabel.className = "live";
    liveLabel.textContent = "live";
    source.addEventListener("event", (m) => {
      const e = JSON.parse(m.data);
      if (e.idx <= cursor) return;
      cursor = e.idx;
      const follow = eventsBox.scrollTop + eventsBox.clientHeight >= eventsBox.scrollHeight - 30;
      eventsBox.append(eventRow(e));
      if (follow) eventsBox.scrollTop = eventsBox.scrollHeight;
      if (["stopped", "run_completed", "run_failed"].includes(e.type)) stopping = false;
      clearTimeout(refresh);
      refresh = setTimeout(reload, 500);
    });
    source.addEventListener("end", () => {
      source.close();
      source = null;
      liveLabel.className = "live off";
      liveLabel.textContent = "ended";
      reload();
    });
  };
  const run = await api(path);
  put(main, top, h("div", { class: "grid two" }, filesCard,
    h("div", { class: "card" }, h("div", { class: "cardhead" }, h("h2", {}, "Events"), liveLabel), eventsBox)),
    ["completed", "failed", "stopped"].includes(run.status) ? patchsetsCard(path, id) : null);
  paint(run);
  if (!source) openTail(); // the history, then live while the run works
  const timer = setInterval(reload, 5000); // a resume started by a decision elsewhere
  cleanup.push(() => { if (source) source.close(); clearTimeout(refresh); clearInterval(timer); });
}

let selected = 0;
async function approvalsView(id) {
  let items = [];
  if (id) {
    const data = await api(`/api/runs/${encodeURIComponent(id)}/approvals`);
    items = data.approvals;
  } else {
    const runs = await api("/api/runs");
    for (const r of runs.runs) {
      if (!r.pending_approvals) continue;
      const data = await api(`/api/runs/${encodeURIComponent(r.run.run_id)}/approvals`);
      items.push(...data.approvals);
    }
  }
  const order = { pending: 0, stale: 1, approved: 2, rejected: 2 };
  items.sort((a, b) => order[a.state] - order[b.state] || (a.created_at < b.created_at ? -1 : 1));
  if (!id) items = items.filter((a) => a.state === "pending");
  selected = Math.min(selected, Math.max(items.length - 1, 0));
  const title = id ? h("h1", {}, "Approvals of ", h("a", { href: `#/runs/${id}`, class: "mono" }, id)) : h("h1", {}, "Approvals");
  const header = h("div", { class: "head" },
    h("div", {}, title, h("p", { class: "sub" }, "Changes the policy would not apply alone. ", h("kbd", {}, "j"), " ", h("kbd", {}, "k"), " move, ", h("kbd", {}, "a"), " approve, ", h("kbd", {}, "r"), " reject.")));
  if (!items.length) {
    put(main, header, h("div", { class: "card empty-state", id: "queue-empty" }, h("b", {}, "Nothing waits for you"), "Queued changes appear here while runs work."));
    poll(() => approvalsView(id), 3000);
    return;
  }
  const list = h("div", { class: "card qlist", id: "queue" });
  const detail = h("div", { class: "card pad", id: "approval" });
  const render = () => {
    put(list, ...items.map((a, i) => h("button", { class: `qitem ${i === selected ? "sel" : ""}`, "data-approval": a.approval_id, onclick: () => { selected = i; render(); } },
      h("div", { class: "f" }, a.file),
      h("div", { class: "m" }, h("span", {}, a.symbols.join(", ")), badge(a.state)))));
    const a = items[selected];
    const reason = h("textarea", { id: "reason", rows: 2, placeholder: "Why (required to reject; Enter rejects)",
      onkeydown: (ev) => { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); detail.decide && detail.decide("reject"); } } });
    const decide = async (decision) => {
      if (decision === "reject" && !reason.value.trim()) { reason.focus(); toast("A rejection needs a reason"); return; }
      try {
        const res = await api(`/api/runs/${encodeURIComponent(a.run_id)}/approvals/${encodeURIComponent(a.approval_id)}`, { body: { decision, reason: reason.value.trim() || null } });
        toast(`${decision === "approve" ? "Approved" : "Rejected"} ${a.file}${res.resumed ? " — the run resumes" : ""}`);
        route();
      } catch (e) { toast(e.message); if (e.status === 409) route(); }
    };
    const open = a.state === "pending";
    put(detail, 
      h("div", { class: "head" },
        h("div", {}, h("h2", { class: "mono" }, a.file), h("div", { class: "sub" }, `${a.symbols.join(", ")} · run `, h("a", { href: `#/runs/${a.run_id}`, class: "mono" }, a.run_id))),
        h("div", {}, badge(a.state))),
      h("div", {}, h("span", { class: "k" }, "Risk "), riskView(a.risk)),
      h("div", { class: "reason", id: "approver-reason" }, a.reason),
      a.signals && a.signals.length ? h("ul", { class: "signals" }, a.signals.map((s) => h("li", {}, h("span", { class: "kind" }, s.kind.replace(/_/g, " ")), h("span", {}, `${s.symbol}: ${s.detail}`)))) : null,
      a.decision ? h("div", { class: "reason" }, `${a.decision.decision === "approve" ? "Approved" : "Rejected"} by ${a.decision.decided_by} ${when(a.decision.decided_at)}${a.decision.reason ? ` — ${a.decision.reason}` : ""}`) : null,
      open ? h("div", { class: "decide" }, h("div", {}, h("label", { for: "reason" }, "Reason"), reason),
        h("div", { class: "btns" },
          h("button", { class: "approve", id: "approve", onclick: () => decide("approve") }, "Approve ", h("kbd", {}, "a")),
          h("button", { class: "reject", id: "reject", onclick: () => decide("reject") }, "Reject ", h("kbd", {}, "r")))) : null,
      a.changes.map(diffView));
    detail.decide = open ? decide : null;
    detail.reason = reason;
  };
  render();
  put(main, header, h("div", { class: "queue" }, list, detail));
  const keys = (ev) => {
    if (ev.target.matches("textarea, input")) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "j") { selected = Math.min(selected + 1, items.length - 1); render(); }
    else if (ev.key === "k") { selected = Math.max(selected - 1, 0); render(); }
    else if (ev.key === "a" && detail.decide) detail.decide("approve");
    else if (ev.key === "r" && detail.decide) { if (detail.reason.value.trim()) detail.decide("reject"); else { ev.preventDefault(); detail.reason.focus(); } }
  };
  document.addEventListener("keydown", keys);
  // New or decided approvals show up without a reload, unless you are writing a reason.
  const signature = (list) => list.map((a) => `${a.approval_id}:${a.state}`).join(",");
  const seen = signature(items);
  const timer = setInterval(async () => {
    if (document.hidden || document.activeElement === detail.reason || (detail.reason && detail.reason.value)) return;
    try {
      const fresh = id ? (await api(`/api/runs/${encodeURIComponent(id)}/approvals`)).approvals : null;
      if (fresh && signature(fresh.sort((a, b) => order[a.state] - order[b.state] || (a.created_at < b.created_at ? -1 : 1))) !== seen) routeIfSame(location.hash);
    } catch (_) { /* the next tick tries again */ }
  }, 5000);
  cleanup.push(() => { document.removeEventListener("keydown", keys); clearInterval(timer); });
}

function newRunView() {
  const pack = h("input", { type: "text", id: "pack", value: "lint_fix", required: true, list: "packs", autocomplete: "off" });
  const files = h("textarea", { id: "files", rows: 6, placeholder: "pkg/module.py\npkg/other.py" });
  const error = h("div", { class: "error", hidden: true });
  const submit = h("button", { class: "primary", type: "submit", id: "start" }, "Start run");
  const form = h("form", { class: "card pad form", id: "new-run", onsubmit: async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    const list = files.value.split("\n").map((s) => s.trim()).filter(Boolean);
    try {
      const res = await api("/api/runs", { body: { pack: pack.value.trim(), files: list.length ? list : null } });
      location.hash = `#/runs/${res.run_id}`;
    } catch (e) { error.textContent = e.message; error.hidden = false; submit.disabled = false; }
  } },
    error,
    h("div", { class: "field" }, h("label", { for: "pack" }, "Policy pack"), pack,
      h("datalist", { id: "packs" }, ["lint_fix", "typing_pass", "py_upgrade", "deps_bump"].map((p) => h("option", { value: p }))),
      h("div", { class: "hint" }, "The pack decides which changes apply alone and which wait for you.")),
    h("div", { class: "field" }, h("label", { for: "files" }, "Files"), files,
      h("div", { class: "hint" }, "One repository-relative .py path per line; empty for every file.")),
    submit);
  put(main, h("div", { class: "head" }, h("div", {}, h("h1", {}, "Start a run"), h("p", { class: "sub" }, "A worker process drives the run; you can close this page."))), form);
  pack.focus();
}

async function reportView(id) {
  const data = await api(`/api/runs/${encodeURIComponent(id)}/report`);
  const body = h("div", { class: "card pad report", id: "report" });
  body.innerHTML = markdown(data.markdown);
  put(main, h("div", { class: "head" }, h("div", {}, h("h1", {}, "Morning report"), h("p", { class: "sub" }, h("a", { href: `#/runs/${id}`, class: "mono" }, id)))), body);
}

// ---------- routing ----------
let pollTimer = null;
function poll(fn, ms) {
  clearTimeout(pollTimer);
  const hash = location.hash;
  pollTimer = setTimeout(() => { if (location.hash === hash && !document.hidden) fn().catch(() => {}); else if (location.hash === hash) poll(fn, ms); }, ms);
}
function routeIfSame(hash) { if (location.hash === hash) route(); }
async function route() {
  for (const f of cleanup) f();
  cleanup = [];
  clearTimeout(pollTimer);
  const hash = location.hash || "#/";
  const parts = hash.slice(2).split("/").map(decodeURIComponent);
  for (const a of document.querySelectorAll("[data-nav]")) {
    const nav = a.dataset.nav;
    a.classList.toggle("active", (nav === "runs" && (parts[0] === "" || (parts[0] === "runs" && parts[2] !== "approvals"))) || (nav === "approvals" && (parts[0] === "approvals" || parts[2] === "approvals")) || nav === parts[0]);
  }
  try {
    if (parts[0] === "runs" && parts[1] && parts[2] === "approvals") await approvalsView(parts[1]);
    else if (parts[0] === "runs" && parts[1] && parts[2] === "report") await reportView(parts[1]);
    else if (parts[0] === "runs" && parts[1]) await runView(parts[1]);
    else if (parts[0] === "approvals") await approvalsView(null);
    else if (parts[0] === "new") newRunView();
    else await runsView();
  } catch (e) {
    put(main, h("div", { class: "error" }, e.message));
  }
  updatePending();
}
async function updatePending() {
  try {
    const data = await api("/api/runs");
    const n = data.runs.reduce((s, r) => s + (r.pending_approvals || 0), 0);
    const el = document.getElementById("pending-count");
    el.textContent = n;
    el.hidden = n === 0;
  } catch (_) { /* the page shows the error */ }
}

// ---------- theme ----------
function applyTheme(t) { document.documentElement.dataset.theme = t; }
const saved = localStorage.getItem("noctune-theme");
applyTheme(saved || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
document.getElementById("theme").addEventListener("click", () => {
  const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  localStorage.setItem("noctune-theme", next);
  applyTheme(next);
});

window.addEventListener("hashchange", () => { selected = 0; route(); });
route();
