// Noctune Studio web UI: helpers shared by the pages (app.js, chat.js). Plain JavaScript,
// no build step: classic scripts, loaded first, whose functions are globals.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function put(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
async function api(path, options = {}) {
  const init = { credentials: "same-origin", headers: { Accept: "application/json" }, ...options };
  if (options.body !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  if (init.method && init.method !== "GET") init.headers["X-CSRF-Token"] = CSRF;
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error((data.error && data.error.message) || res.statusText);
    err.code = data.error && data.error.code;
    err.status = res.status;
    throw err;
  }
  return data;
}
function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 3500);
}
function when(ts) {
  if (!ts) return "—";
  const d = new Date(ts);
  const secs = (Date.now() - d.getTime()) / 1000;
  if (secs < 60) return "just now";
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h ago`;
  return d.toLocaleString();
}
// Python highlighting of one line: every piece is escaped, spans are ours.
const KW = new Set(("False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case").split(" "));
const BI = new Set(("print len range str int float list dict set tuple bool open isinstance super self cls Exception ValueError TypeError KeyError enumerate zip map filter sorted min max sum any all").split(" "));
const TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|[rbfuRBFU]{0,2}"(?:\\.|[^"\\\n])*"|[rbfuRBFU]{0,2}'(?:\\.|[^'\\\n])*')|(@[\w.]+)|\b(\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?j?|0[xob][\da-fA-F_]+)\b|([A-Za-z_]\w*)/g;
function highlight(line) {
  let out = "", last = 0, m, prev = "";
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(line))) {
    out += esc(line.slice(last, m.index));
    const [text, com, str, dec, num, word] = m;
    if (com) out += `<span class="tok-com">${esc(text)}</span>`;
    else if (str) out += `<span class="tok-str">${esc(text)}</span>`;
    else if (dec) out += `<span class="tok-dec">${esc(text)}</span>`;
    else if (num) out += `<span class="tok-num">${esc(text)}</span>`;
    else if (word && KW.has(word)) out += `<span class="tok-kw">${esc(text)}</span>`;
    else if (word && (prev === "def" || prev === "class")) out += `<span class="tok-fn">${esc(text)}</span>`;
    else if (word && BI.has(word)) out += `<span class="tok-bi">${esc(text)}</span>`;
    else out += esc(text);
    if (word) prev = word;
    last = m.index + text.length;
  }
  return out + esc(line.slice(last));
}

// Markdown to HTML: every piece of text is escaped first, so model or report text never
// becomes markup; only the tags built here appear.
function markdown(md) {
  const lines = md.split("\n");
  let html = "", inCode = false, python = false, inList = false, table = [];
  const inline = (s) => esc(s).replace(/`([^`]+)`/g, "<code>$1</code>").replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>");
  const flushTable = () => {
    if (!table.length) return;
    const rows = table.filter((r) => !/^\|?\s*:?-+/.test(r));
    html += "<table>" + rows.map((r, i) => "<tr>" + r.replace(/^\||\|$/g, "").split("|").map((c) => i ? `<td>${inline(c.trim())}</td>` : `<th>${inline(c.trim())}</th>`).join("") + "</tr>").join("") + "</table>";
    table = [];
  };
  for (const line of lines) {
    if (line.startsWith("```")) { flushTable(); html += inCode ? "</pre>" : "<pre>"; python = !inCode && /^```\s*(python|py)\s*$/.test(line); inCode = !inCode; continue; }
    if (inCode) { html += (python ? highlight(line) : esc(line)) + "\n"; continue; }
    if (line.startsWith("|")) { table.push(line); continue; }
    flushTable();
    if (/^\s*[-*] /.test(line)) { if (!inList) { html += "<ul>"; inList = true; } html += `<li>${inline(line.replace(/^\s*[-*] /, ""))}</li>`; continue; }
    if (inList) { html += "</ul>"; inList = false; }
    const m = /^(#{1,4}) (.*)/.exec(line);
    if (m) html += `<h${m[1].length}>${inline(m[2])}</h${m[1].length}>`;
    else if (line.trim()) html += `<p>${inline(line)}</p>`;
  }
  flushTable();
  if (inList) html += "</ul>";
  if (inCode) html += "</pre>";
  return html;
}

