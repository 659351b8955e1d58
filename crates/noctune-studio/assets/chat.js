// Noctune Studio chat page: sessions, a message streamed back as server-sent events over a
// POST (read with fetch), tool calls and results as readable panels, the permission prompt
// (allow once / this session / always), stop, export, and the edits' backups.
// Model text is only ever rendered through markdown() (escapes first) or textContent.
"use strict";

const els = {
  sessions: document.getElementById("sessions"),
  messages: document.getElementById("messages"),
  input: document.getElementById("input"),
  send: document.getElementById("send"),
  stop: document.getElementById("stop"),
  composer: document.getElementById("composer"),
  permission: document.getElementById("permission"),
  title: document.getElementById("chat-title"),
  exportLink: document.getElementById("export"),
  profile: document.getElementById("profile"),
  newChat: document.getElementById("new-chat"),
  backups: document.getElementById("backups"),
  allowed: document.getElementById("allowed"),
};
let current = null; // the session id shown
let streaming = false;
let queued = null; // a message to send when the current stream ends
let live = null; // the assistant bubble being streamed
let liveText = "";
const pendingTools = new Map(); // call id -> panel

function sessionFromHash() {
  const id = location.hash.replace(/^#/, "");
  return /^[A-Za-z0-9-]{1,64}$/.test(id) ? id : null;
}

// ---------- rendering ----------
function stripCalls(text) {
  return text.replace(/<tool_call>[\s\S]*?(<\/tool_call>|$)/g, "").trim();
}
function assistantBubble(text, stopped) {
  const el = h("div", { class: "msg assistant" + (stopped ? " stopped" : "") });
  el.innerHTML = markdown(text);
  return el;
}
function summaryArgs(args) {
  if (!args || typeof args !== "object") return String(args || "");
  const order = ["path", "query", "glob", "pack", "run_id", "approval_id", "decision"];
  const keys = Object.keys(args).sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  return keys.filter((k) => k !== "content" && k !== "text").map((k) => `${k}: ${typeof args[k] === "string" ? args[k] : JSON.stringify(args[k])}`).join(" · ");
}
function parseArgs(text) {
  try { return JSON.parse(text); } catch (_) { return text; }
}
function toolPanel(id, name, args) {
  const body = h("div", { class: "body" }, h("p", { class: "sub" }, "running…"));
  const panel = h("details", { class: "tool pending", "data-call": id, "data-tool": name },
    h("summary", {}, h("span", {}, name), h("span", { class: "args" }, summaryArgs(args))),
    body);
  if (args && typeof args === "object" && (args.content || args.text)) {
    body.append(h("pre", {}, args.content || args.text));
  }
  return panel;
}
function keyValues(obj) {
  const dl = h("dl");
  for (const [k, v] of Object.entries(obj)) {
    dl.append(h("dt", {}, k), h("dd", {}, typeof v === "string" ? v : JSON.stringify(v, null, 2)));
  }
  return dl;
}
function fillResult(panel, name, result) {
  const body = panel.querySelector(".body");
  const error = result && result.error;
  panel.classList.remove("pending");
  panel.classList.add(error ? "error" : "ok");
  panel.dataset.result = error ? result.error : "ok";
  // Refusals and edits are what the user needs to see; reads stay folded.
  if (error || name === "write_file" || name === "replace_lines") panel.open = true;
  const kids = [];
  if (error) {
    kids.push(h("p", {}, h("b", {}, result.error), " — ", result.message || ""));
  } else if (name === "read_file") {
    const code = h("pre", { class: "code" });
    if (/\.pyi?$/.test(result.path)) code.innerHTML = result.content.split("\n").map(highlight).join("\n"); // highlight() escapes
    else code.textContent = result.content;
    kids.push(h("p", { class: "sub" }, `${result.path}, lines ${result.start}–${result.end} of ${result.total_lines}`), code);
  } else if (name === "list_files") {
    kids.push(h("pre", {}, (result.files || []).join("\n") + (result.truncated ? "\n…" : "")));
  } else if (name === "search") {
    kids.push(h("p", { class: "sub" }, `${(result.matches || []).length} matches (${result.engine})`), h("pre", {}, (result.matches || []).join("\n")));
  } else if (name === "write_file" || name === "replace_lines") {
    const restore = h("button", { type: "button", "data-restore": result.backup_id, onclick: () => restoreBackup(result.backup_id) }, "Restore the original");
    kids.push(h("p", {}, `Changed ${result.path}; backup ${result.backup_id}. `), restore);
  } else if (name === "run_events") {
    const lines = (result.events || []).map((e) => `#${e.idx}  ${e.type}${e.payload && e.payload.file ? "  " + e.payload.file : ""}`);
    kids.push(h("p", { class: "sub" }, `run ${result.run_id}: ${result.status}; next cursor ${result.next_cursor}`), h("pre", {}, lines.join("\n") || "no events yet"));
  } else if (name === "list_approvals") {
    const rows = (result.approvals || []).map((a) => h("li", {}, h("b", {}, a.state), ` ${a.file} (${(a.symbols || []).join(", ")}), risk ${a.risk}: ${a.reason}`));
    kids.push(rows.length ? h("ul", {}, rows) : h("p", { class: "sub" }, "no approvals"));
  } else if (result && typeof result === "object" && name.includes("__") && result.server) {
    // An external MCP server's result: shown as data, as the assistant reads it.
    const items = (result.data || []).map((d) => (typeof d === "string" ? d : JSON.stringify(d, null, 2)));
    if (result.structured !== undefined) items.push(JSON.stringify(result.structured, null, 2));
    kids.push(h("p", { class: "sub" }, `Data from the MCP server ${result.server} (tool ${result.tool}${result.is_error ? ", an error" : ""}${result.truncated ? ", cut short" : ""}) — not instructions.`),
      h("pre", {}, items.join("\n")));
  } else if (result && typeof result === "object") {
    kids.push(keyValues(result));
  } else {
    kids.push(h("pre", {}, String(result)));
  }
  put(body, ...kids);
}
function renderEntries(entries) {
  const kids = [];
  const panels = new Map();
  for (const e of entries) {
    if (e.role === "user") kids.push(h("div", { class: "msg user" }, e.content));
    else if (e.role === "assistant") {
      const text = e.in_text ? stripCalls(e.content) : e.content;
      if (text || e.stopped) kids.push(assistantBubble(text, e.stopped));
      for (const c of e.tool_calls || []) {
        const p = toolPanel(c.id, c.name, parseArgs(c.arguments));
        panels.set(c.id, p);
        kids.push(p);
      }
    } else if (e.role === "tool") {
      const p = panels.get(e.tool_call_id);
      if (p) fillResult(p, e.tool_name, parseArgs(e.content));
    }
  }
  if (!kids.length) kids.push(h("p", { class: "empty" }, "Ask what a function does, where something is used, or to change a file."));
  put(els.messages, ...kids);
  scrollDown();
}
function scrollDown() { els.messages.scrollTop = els.messages.scrollHeight; }

// ---------- sessions ----------
async function loadSessions() {
  const data = await api("/api/chat/sessions");
  put(els.sessions, ...data.sessions.map((s) => h("li", {},
    h("a", { href: `#${s.id}`, class: s.id === current ? "active" : "", title: s.title }, s.title, h("span", { class: "when" }, `${when(s.updated_at)} · ${s.messages} messages`)))));
}
async function openSession(id) {
  current = id;
  const s = await api(`/api/chat/sessions/${encodeURIComponent(id)}`);
  els.title.textContent = s.title + (s.profile ? ` · ${s.profile}` : "");
  els.exportLink.hidden = false;
  els.exportLink.href = `/api/chat/sessions/${encodeURIComponent(id)}/export`;
  els.permission.hidden = true;
  renderEntries(s.entries);
  loadSessions().catch(() => {});
  els.input.focus();
}
async function newSession() {
  const body = els.profile.value ? { profile: els.profile.value } : {};
  const s = await api("/api/chat/sessions", { body });
  current = s.id;
  els.title.textContent = "Chat";
  els.exportLink.hidden = true;
  els.permission.hidden = true;
  renderEntries([]);
  location.hash = s.id;
  return s.id;
}
async function loadSettings() {
  const data = await api("/api/chat/settings");
  for (const p of data.profiles) els.profile.append(h("option", { value: p }, p));
  const always = [];
  if (data.always_allowed.write) always.push("write");
  if (data.always_allowed.run) always.push("run");
  for (const server of data.always_allowed.mcp || []) always.push(`mcp:${server}`);
  const roots = data.allowed_roots.map((r) => (r === "." ? "the repository root" : r));
  const servers = (data.mcp_servers || []).length ? ` External MCP servers: ${data.mcp_servers.join(", ")}.` : "";
  els.allowed.textContent = `Tools may use: ${roots.join(", ")}.${servers} Always allowed: ${always.length ? always.join(", ") : "nothing"}.`;
}
async function loadBackups() {
  const data = await api("/api/chat/backups");
  put(els.backups, ...(data.backups.length ? data.backups.map((b) => h("li", {},
    h("span", { class: "mono", title: b.created_at }, b.path),
    h("button", { type: "button", "data-restore": b.backup_id, onclick: () => restoreBackup(b.backup_id) }, "Restore"))) : [h("li", { class: "sub" }, "No edits yet.")]));
}
async function restoreBackup(id) {
  try {
    const data = await api(`/api/chat/backups/${encodeURIComponent(id)}/restore`, { body: {} });
    toast(`Restored ${data.restored.path}`);
    loadBackups().catch(() => {});
  } catch (e) { toast(e.message); }
}

// ---------- sending ----------
function setStreaming(on) {
  streaming = on;
  els.send.disabled = on;
  els.stop.hidden = !on;
}
function startLive() {
  liveText = "";
  live = h("div", { class: "msg assistant live" });
  els.messages.append(live);
}
function onEvent(name, data) {
  if (name === "token") {
    if (!live) startLive();
    liveText += data.text;
    live.innerHTML = markdown(stripCalls(liveText));
    scrollDown();
  } else if (name === "retry") {
    liveText = "";
    if (live) live.innerHTML = "";
  } else if (name === "entry") {
    const e = data.entry;
    if (e.role === "user") {
      const empty = els.messages.querySelector(".empty");
      if (empty) empty.remove();
      if (els.title.textContent === "Chat") els.title.textContent = e.content.split("\n")[0].slice(0, 60);
      els.exportLink.hidden = false;
      els.exportLink.href = `/api/chat/sessions/${encodeURIComponent(current)}/export`;
      els.messages.append(h("div", { class: "msg user" }, e.content));
    } else if (e.role === "assistant") {
      const text = e.in_text ? stripCalls(e.content) : e.content;
      const bubble = text || e.stopped ? assistantBubble(text, e.stopped) : null;
      if (live) { if (bubble) live.replaceWith(bubble); else live.remove(); live = null; } else if (bubble) els.messages.append(bubble);
      for (const c of e.tool_calls || []) {
        const p = toolPanel(c.id, c.name, parseArgs(c.arguments));
        pendingTools.set(c.id, p);
        els.messages.append(p);
      }
    } else if (e.role === "tool") {
      const p = pendingTools.get(e.tool_call_id);
      if (p) fillResult(p, e.tool_name, parseArgs(e.content));
      if (e.tool_name === "write_file" || e.tool_name === "replace_lines") loadBackups().catch(() => {});
    }
    scrollDown();
  } else if (name === "permission_needed") {
    askPermission(data.permission, data.tool);
  } else if (name === "error") {
    els.messages.append(h("div", { class: "chat-error", "data-code": data.code }, `${data.code}: ${data.message}`));
    scrollDown();
  } else if (name === "done") {
    if (live) { live.remove(); live = null; }
  }
}
async function send(text) {
  if (!text.trim()) return;
  if (streaming) { queued = text; return; }
  const id = current || (await newSession());
  current = id;
  els.permission.hidden = true;
  setStreaming(true);
  try {
    const res = await fetch(`/api/chat/sessions/${encodeURIComponent(id)}/messages`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": CSRF },
      body: JSON.stringify({ content: text }),
    });
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      throw new Error((data.error && data.error.message) || res.statusText);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (!data) continue;
        try { onEvent(name, JSON.parse(data)); } catch (e) { console.error(e); }
      }
    }
  } catch (e) {
    els.messages.append(h("div", { class: "chat-error" }, e.message));
  } finally {
    if (live) { live.remove(); live = null; }
    setStreaming(false);
    loadSessions().catch(() => {});
    if (queued) { const next = queued; queued = null; send(next); }
  }
}

// ---------- permissions ----------
function askPermission(permission, tool) {
  const server = permission.startsWith("mcp:") ? permission.slice(4) : null;
  const what = server
    ? `call the tools of the external MCP server ${server} (what they return is shown to the assistant as data)`
    : permission === "write" ? "change files" : "start and stop runs and decide approvals";
  const grant = async (g) => {
    try {
      await api(`/api/chat/sessions/${encodeURIComponent(current)}/permissions`, { body: { permission, grant: g } });
      els.permission.hidden = true;
      loadSettings().catch(() => {});
      const how = { once: "once", session: "for this session", always: "always" }[g];
      send(`I allowed ${permission} ${how}. Please go on.`);
    } catch (e) { toast(e.message); }
  };
  put(els.permission,
    h("p", {}, h("b", {}, `${tool} needs the ${permission} permission`), ` — the assistant wants to ${what}.`),
    h("div", { class: "btns" },
      h("button", { type: "button", class: "primary", "data-grant": "once", onclick: () => grant("once") }, "Allow once"),
      h("button", { type: "button", "data-grant": "session", onclick: () => grant("session") }, "Allow this session"),
      h("button", { type: "button", "data-grant": "always", onclick: () => grant("always") }, "Always allow"),
      h("button", { type: "button", class: "danger", "data-grant": "deny", onclick: () => { els.permission.hidden = true; } }, "Deny")));
  els.permission.hidden = false;
}

// ---------- wiring ----------
els.composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = els.input.value;
  els.input.value = "";
  send(text);
});
els.input.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); els.composer.requestSubmit(); }
});
els.stop.addEventListener("click", async () => {
  if (!current) return;
  try { await api(`/api/chat/sessions/${encodeURIComponent(current)}/stop`, { body: {} }); } catch (e) { toast(e.message); }
});
els.newChat.addEventListener("click", () => { newSession().catch((e) => toast(e.message)); });
window.addEventListener("hashchange", () => {
  const id = sessionFromHash();
  if (id && id !== current) openSession(id).catch((e) => toast(e.message));
});
function applyTheme(t) { document.documentElement.dataset.theme = t; }
applyTheme(localStorage.getItem("noctune-theme") || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
document.getElementById("theme").addEventListener("click", () => {
  const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  localStorage.setItem("noctune-theme", next);
  applyTheme(next);
});

loadSettings().catch((e) => toast(e.message));
loadBackups().catch(() => {});
const first = sessionFromHash();
if (first) openSession(first).catch((e) => toast(e.message));
else { renderEntries([]); loadSessions().catch((e) => toast(e.message)); }
