// The hall dashboard: draws /halls/{id}/state, kept live by its event stream. Every value from a
// terminal goes into the page as text (textContent), never as HTML.
"use strict";

const config = JSON.parse(document.getElementById("config").dataset.config);
const words = config.vocabulary;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const base = "/halls/" + encodeURIComponent(config.hall_id);
let current = null;
let drawn = "";  // the state last drawn, without its timestamp: unchanged states are not redrawn

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function word(table, key) {
  return (table && Object.hasOwn(table, key) && table[key]) || key || "";
}

function ago(iso) {
  if (!iso) return "从未上报";
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return seconds + "秒前";
  if (seconds < 3600) return Math.round(seconds / 60) + "分钟前";
  if (seconds < 86400) return Math.round(seconds / 3600) + "小时前";
  return Math.round(seconds / 86400) + "天前";
}

function clock(iso) {  // the hall's time (China Standard Time), whatever the browser's zone
  return iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }) : "";
}

function toast(text) {
  const node = document.getElementById("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (node.hidden = true), 4000);
}

async function post(path, body) {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    toast((answer.error && answer.error.message) || "操作失败，请刷新页面后重试。");
    return null;
  }
  return answer;
}

function confirmThen(text, action) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  dialog.onclose = () => {
    if (dialog.returnValue === "ok") action();
  };
  dialog.showModal();
}

function helpCall(call) {
  const item = el("li", { class: "item help " + call.status, "data-call": call.call_id },
    el("strong", {}, word(words.help_reasons, call.reason)),
    el("span", {}, " · 终端 " + call.terminal_id + " · 在「" + word(words.steps, call.step) + "」"),
    el("span", { class: "state" }, word(words.help_status, call.status) +
      (call.acknowledged_by ? "（" + call.acknowledged_by + "）" : "")),
    el("span", { class: "time" }, "发起于 " + clock(call.created_at) + "（",
      el("span", { "data-ago": call.created_at }, ago(call.created_at)), "）"));
  if (call.status === "open") {
    item.append(el("button", { class: "primary", type: "button",
      onclick: () => post("/help-calls/" + encodeURIComponent(call.call_id) + "/acknowledge?terminal_id=" + encodeURIComponent(call.terminal_id)).then(refreshSoon) }, "我来处理"));
  }
  if (call.status !== "resolved") {
    item.append(el("button", { type: "button",
      onclick: () => post("/help-calls/" + encodeURIComponent(call.call_id) + "/resolve?terminal_id=" + encodeURIComponent(call.terminal_id)).then(refreshSoon) }, "已处理"));
  }
  return item;
}

function alertItem(alert) {
  const kind = words.alerts[alert.kind] || { label: alert.kind, severity: "warning" };
  const item = el("li", { class: "item alert " + kind.severity + (alert.muted ? " muted" : ""), "data-alert": alert.alert_id },
    el("strong", {}, kind.label),
    el("span", {}, " · 终端 " + alert.terminal_id + (alert.detail ? " · " + alert.detail : "")),
    el("span", { class: "time" }, "自 " + clock(alert.raised_at)),
    alert.muted ? el("span", { class: "state" }, "维护中，已静音") : null,
    alert.acknowledged_by ? el("span", { class: "state" }, "已确认（" + alert.acknowledged_by + "）") : null);
  if (!alert.acknowledged_by) {
    item.append(el("button", { type: "button",
      onclick: () => post("/alerts/" + alert.alert_id + "/acknowledge").then(refreshSoon) }, "确认"));
  }
  return item;
}

function deviceLine(kind, device) {
  const parts = [word(words.device_kinds, kind) + "：" + word(words.device_states, device.state)];
  if (device.paper) parts.push(word(words.paper, device.paper));
  if (device.reasons && device.reasons.length) parts.push(device.reasons.join("、"));
  if (device.detail) parts.push(device.detail);
  const bad = device.state === "hardware_error" || device.state === "offline" ||
    ["out", "jammed"].includes(device.paper);
  return el("li", { class: bad ? "bad" : device.paper === "low" ? "warn" : "" }, parts.join(" · "));
}

function terminalCard(terminal) {
  const card = el("article", { class: "card " + terminal.status, "data-terminal": terminal.terminal_id },
    el("h3", {}, terminal.terminal_id),
    el("p", { class: "status" }, word(words.link, terminal.status) +
      (terminal.availability ? " · " + word(words.availability, terminal.availability) : "")),
    el("p", { class: "small" }, "最后上报：", el("span", { "data-ago": terminal.last_seen || "" }, ago(terminal.last_seen)),
      terminal.app_version ? " · 版本 " + terminal.app_version : null));
  const devices = el("ul", { class: "devices" });
  for (const [kind, device] of Object.entries(terminal.devices || {})) devices.append(deviceLine(kind, device));
  card.append(devices);
  if (terminal.queue) {
    card.append(el("p", { class: terminal.queue.dead_letters ? "bad" : "small" },
      "离线队列：待提交 " + terminal.queue.pending + " 件" +
      (terminal.queue.dead_letters ? "，无法提交 " + terminal.queue.dead_letters + " 件" : "")));
  }
  if (terminal.last_error) card.append(el("p", { class: "small" }, "最近错误：" + terminal.last_error));
  if (terminal.maintenance_until) card.append(el("p", { class: "state" }, "维护中，至 " + clock(terminal.maintenance_until)));
  const buttons = el("div", { class: "buttons" });
  for (const kind of config.commands) {
    const label = words.commands[kind];
    buttons.append(el("button", { type: "button", "data-command": kind,
      onclick: () => confirmThen("向终端 " + terminal.terminal_id + " 发送命令：" + label + "？", () =>
        post("/terminals/" + encodeURIComponent(terminal.terminal_id) + "/commands", { kind })
          .then((answer) => answer && toast("命令已发出：" + label)).then(refreshSoon)) }, label));
  }
  buttons.append(el("button", { type: "button", class: "small",
    onclick: () => confirmThen("终端 " + terminal.terminal_id + " 进入维护状态2小时（告警静音）？", () =>
      post("/terminals/" + encodeURIComponent(terminal.terminal_id) + "/maintenance", { minutes: 120 }).then(refreshSoon)) },
    "维护2小时"));
  card.append(buttons);
  return card;
}

function bundleLink(bundle) {
  return el("li", { class: "item" },
    el("a", { href: base + "/diagnostics/" + bundle.bundle_id, download: "" },
      "终端 " + bundle.terminal_id + " 的诊断包（" + clock(bundle.received_at) + "）"));
}

function commandItem(command) {
  const item = el("li", { class: "item command " + command.status, "data-command-id": command.command_id },
    el("strong", {}, word(words.commands, command.kind)),
    el("span", {}, " · 终端 " + command.terminal_id + " · " + command.created_by),
    el("span", { class: "state" }, word(words.command_status, command.status) + (command.detail ? "：" + command.detail : "")),
    el("span", { class: "time" }, clock(command.created_at)));
  if (command.status === "pending" || command.status === "sent") {
    item.append(el("button", { type: "button",
      onclick: () => post("/commands/" + command.command_id + "/cancel").then(refreshSoon) }, "取消"));
  }
  return item;
}

function fill(id, nodes, empty) {
  const target = document.getElementById(id);
  target.replaceChildren(...(nodes.length ? nodes : [el("li", { class: "empty" }, empty)]));
}

function render(state) {
  current = state;
  const { generated_at, ...content } = state;
  const key = JSON.stringify(content);
  if (key === drawn) return;  // a redraw would swap the buttons under a finger for nothing
  drawn = key;
  const badge = document.getElementById("open-badge");
  badge.textContent = state.open ? "营业中" : "已闭厅";
  badge.className = "badge " + (state.open ? "open" : "closed");
  document.getElementById("hall-name").textContent = state.hall_id;
  const waiting = state.help_calls.filter((c) => c.status !== "resolved");
  document.getElementById("help-count").textContent = waiting.length ? waiting.length + " 待处理" : "";
  fill("help-calls", state.help_calls.map(helpCall), "暂无求助");
  const loud = state.alerts.filter((a) => !a.muted && !a.acknowledged_by);
  document.getElementById("alert-count").textContent = loud.length ? String(loud.length) : "";
  fill("alerts", state.alerts.map(alertItem), "暂无告警");
  document.getElementById("terminals").replaceChildren(...state.terminals.map(terminalCard));
  fill("commands", state.commands.map(commandItem), "暂无命令");
  fill("bundles", state.diagnostics.map(bundleLink), "暂无诊断包");
}

async function refresh() {
  const response = await fetch(base + "/state", { credentials: "same-origin" });
  if (response.status === 401) location.href = "/halls/login";
  else if (response.ok) render(await response.json());
}

function refreshSoon() {
  setTimeout(refresh, 300);
}

async function loadStats() {
  const response = await fetch(base + "/stats?days=7", { credentials: "same-origin" });
  if (!response.ok) return;
  const data = await response.json();
  const rows = data.rows.filter((r) => r.terminal_id === "ALL");
  const head = el("tr", {}, ...["日期", "出具报告", "离线取件", "核验", "异议", "求助", "响应中位数", "可用率"].map((t) => el("th", {}, t)));
  const body = rows.map((r) => el("tr", {}, el("td", {}, r.date), el("td", {}, r.reports), el("td", {}, r.pickups),
    el("td", {}, r.verifications), el("td", {}, r.objections), el("td", {}, r.help_calls),
    el("td", {}, r.ack_median_s === null ? "—" : r.ack_median_s + "秒"),
    el("td", {}, r.availability_pct === null ? "—" : r.availability_pct + "%")));
  document.getElementById("stats").replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)));
  document.getElementById("csv").href = base + "/stats.csv?days=31";
}

function connect() {
  const live = document.getElementById("live");
  const stream = new EventSource(base + "/events");
  stream.addEventListener("state", (event) => {
    live.textContent = "实时";
    live.className = "live on";
    render(JSON.parse(event.data));
  });
  stream.addEventListener("logged_out", () => {  // logged out elsewhere, expired or disabled
    stream.close();
    location.href = "/halls/login";
  });
  stream.onerror = () => {
    live.textContent = "连接中断，正在重连…";
    live.className = "live off";
  };
}

document.getElementById("logout").addEventListener("click", async () => {
  await fetch("/halls/logout", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
  location.href = "/halls/login";
});
setInterval(() => {  // "N秒前" keeps moving between updates, in place
  for (const node of document.querySelectorAll("[data-ago]")) node.textContent = ago(node.dataset.ago);
}, 5000);
refresh().then(connect);
loadStats();
