// wxsim's phone page. It plays the user's phone through the control API under
// /_wxsim/v1/ (protoclient/wxsim/README.md) and polls it once a second. Every piece of data goes
// into the DOM as text (textContent, option.text, element.title), never as markup.
"use strict";

(function () {
  const API = new URL("../v1/", document.baseURI).pathname;
  const POLL_MS = 1000;
  const ME = "me"; // the author value for "me, from the phone"

  const $ = (id) => document.getElementById(id);

  // el("li", {class: "x", "data-chat": id}, child, "text", …): an element with attributes
  // and children; strings become text nodes.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(API + path, init);
    let data = null;
    try {
      data = await resp.json();
    } catch (_) {
      data = null;
    }
    if (!resp.ok) {
      const msg = data && data.error ? data.error : "HTTP " + resp.status;
      throw new Error(msg);
    }
    return data;
  }

  let toastTimer = null;
  function toast(msg) {
    const t = $("toast");
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
  }

  // act runs an action of the user and reports its error; the next poll shows the result.
  async function act(fn) {
    try {
      await fn();
    } catch (err) {
      toast(err.message);
    }
    poll();
  }

  const enc = encodeURIComponent;

  // --- state ---------------------------------------------------------------------------

  const state = {
    accounts: [],
    account: "",
    info: null,
    contacts: [],
    groups: [],
    logins: [],
    sent: [],
    revoked: new Set(),
    requests: [],
    view: "chats",
    chat: "", // the open chat: a contact's wxid or a group id
    seenSent: 0, // how many /sent entries the user has looked at (the tab's badge)
  };
  const drawn = {}; // what each part was last drawn from, to draw only what changed

  // What this page wrote (contacts' messages, the phone's own), kept per account for the
  // tab's life: wxsim has no list of them.
  function logKey() { return "wxsim-phone:" + state.account; }
  function loadLog() {
    try {
      return JSON.parse(sessionStorage.getItem(logKey())) || [];
    } catch (_) {
      return [];
    }
  }
  function saveLog(log) {
    try {
      sessionStorage.setItem(logKey(), JSON.stringify(log));
    } catch (_) { /* storage full or off: the log lives until the page reloads */ }
  }
  let written = [];
  function remember(entry) {
    written.push(entry);
    saveLog(written);
    drawAll();
  }

  // --- names -----------------------------------------------------------------------------

  const isGroup = (id) => id.endsWith("@chatroom");
  function contactName(c) { return c.remark_name || c.nickname || c.wxid; }
  function nameOf(wxid, group) {
    if (wxid === state.account) return (state.info && state.info.nickname) || "Me";
    if (group) {
      const dn = group.display_names && group.display_names[wxid];
      if (dn) return dn;
    }
    const c = state.contacts.find((c) => c.wxid === wxid);
    if (c) return contactName(c);
    if (group && group.nicknames && group.nicknames[wxid]) return group.nicknames[wxid];
    return wxid;
  }
  function chatName(id) {
    if (isGroup(id)) {
      const g = state.groups.find((g) => g.id === id);
      return g ? g.name || "Group chat" : id;
    }
    return nameOf(id);
  }

  const COLORS = ["#6d9bd1", "#e6a23c", "#67c23a", "#c279d8", "#f56c6c", "#4cb4b4", "#9a8c78"];
  function avatar(name, id, size) {
    let h = 0;
    for (const ch of id) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    const first = Array.from(name.trim())[0] || "?";
    const a = el("div", { class: "avatar" + (size ? " " + size : ""), "aria-hidden": "true" });
    a.style.background = COLORS[h % COLORS.length];
    a.textContent = first.toUpperCase();
    return a;
  }

  function clock(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // --- the messages of a chat ------------------------------------------------------------

  const TYPE_LABEL = { 3: "🖼 Image", 34: "🎤 Voice message", 43: "🎬 Video", 47: "Sticker", 42: "Contact card", 48: "📍 Location" };
  function sentText(s) {
    if (s.type === 1) return s.content;
    if (s.type === 49 || s.type === 6) return "📎 " + (s.file_name || s.content || "File");
    const label = TYPE_LABEL[s.type] || "Message (type " + s.type + ")";
    return s.file_name ? label + " · " + s.file_name : label;
  }

  // messagesOf lists what is known of a chat, oldest first: what the page wrote and what
  // the bridge sent. /sent has seconds; a bridge message sorts last within its second.
  function messagesOf(chat) {
    const out = [];
    for (const w of written) {
      if (w.chat === chat) out.push({ at: w.at, kind: "written", w });
    }
    for (const s of state.sent) {
      if (s.to === chat) out.push({ at: s.created * 1000 + 999, kind: "sent", s });
    }
    out.sort((a, b) => a.at - b.at);
    return out;
  }

  function previewOf(m) {
    if (!m) return "";
    if (m.kind === "sent") return (state.revoked.has(m.s.msg_id) ? "You recalled a message" : sentText(m.s));
    const w = m.w;
    if (w.recalled) return nameOf(w.author) + " recalled a message";
    const text = w.kind === "image" ? "🖼 Image" : w.kind === "file" ? "📎 " + w.file_name : w.content;
    if (isGroup(w.chat) && w.author !== ME) return nameOf(w.author, groupOf(w.chat)) + ": " + text;
    return text;
  }
  const groupOf = (id) => state.groups.find((g) => g.id === id);

  // --- drawing -----------------------------------------------------------------------------

  function changed(part, data) {
    const key = JSON.stringify(data);
    if (drawn[part] === key) return false;
    drawn[part] = key;
    return true;
  }

  function drawAccounts() {
    if (!changed("accounts", [state.accounts, state.account])) return;
    const sel = $("account");
    sel.replaceChildren();
    if (state.accounts.length === 0) sel.append(el("option", { value: "", text: "no account" }));
    for (const a of state.accounts) {
      const o = el("option", { value: a.wxid });
      o.text = (a.nickname || a.wxid) + " (" + a.wxid + ")";
      o.selected = a.wxid === state.account;
      sel.append(o);
    }
  }

  function drawStatus() {
    const info = state.info;
    const on = !!(info && info.logged_in);
    if (!changed("status", [info, state.account])) return;
    $("web-status").classList.toggle("on", on);
    let text;
    if (!state.account) text = "No WeChat account in wxsim yet.";
    else if (on) text = "WeChat for Web is logged in";
    else text = "WeChat for Web is not logged in";
    $("web-status-text").textContent = text;
    $("me-web").textContent = on ? "Logged in; the bridge holds the session." : "No web session.";
    $("logout").disabled = !on;
    const name = info ? info.nickname || info.wxid : "";
    $("me-name").textContent = name;
    $("me-wxid").textContent = info ? "WeChat ID: " + info.wxid : "";
    $("me-avatar").replaceWith(Object.assign(avatar(name || "?", state.account || "?", "big"), { id: "me-avatar" }));
  }

  function drawLogins() {
    const pending = state.logins.filter((l) => l.state === "waiting" || l.state === "scanned");
    if (!changed("logins", [pending, state.account])) return;
    const box = $("logins");
    box.replaceChildren();
    for (const l of pending) {
      const forOther = l.wxid && l.wxid !== state.account;
      const what = l.push ? "Log in to WeChat for Web? (push login)" : "Log in to WeChat for Web?";
      let sub;
      if (l.state === "waiting") sub = "A QR code is waiting to be scanned · " + l.uuid.slice(0, 8);
      else sub = "Scanned" + (l.wxid ? " by " + nameOf(l.wxid) : "") + " · confirm on the phone";
      if (forOther) sub += " (account " + l.wxid + ")";
      const actions = el("div", { class: "actions" });
      if (l.state === "waiting") {
        actions.append(el("button", {
          type: "button", "data-action": "scan", text: "Scan",
          disabled: !state.account,
          onclick: () => act(() => api("POST", "logins/" + enc(l.uuid) + "/scan", { wxid: state.account })),
        }));
      } else {
        actions.append(el("button", {
          type: "button", "data-action": "confirm", text: "Log in",
          onclick: () => act(() => api("POST", "logins/" + enc(l.uuid) + "/confirm")),
        }));
      }
      actions.append(el("button", {
        type: "button", class: "secondary", "data-action": "decline", text: "Decline",
        onclick: () => act(() => api("POST", "logins/" + enc(l.uuid) + "/cancel")),
      }));
      box.append(el("div", { class: "login", "data-uuid": l.uuid, "data-state": l.state },
        el("div", { class: "what", text: what }),
        el("div", { class: "sub", text: sub }),
        actions));
    }
  }

  function chatIDs() {
    return [...state.contacts.map((c) => c.wxid), ...state.groups.map((g) => g.id)];
  }

  function drawChats() {
    const rows = chatIDs().map((id, i) => {
      const ms = messagesOf(id);
      const last = ms[ms.length - 1];
      return { id, i, name: chatName(id), last: last ? last.at : 0, preview: previewOf(last) };
    });
    rows.sort((a, b) => (b.last - a.last) || (a.i - b.i));
    if (!changed("chats", rows)) return;
    const list = $("chats");
    list.replaceChildren();
    for (const r of rows) {
      const li = el("li", {
        class: "chat", tabindex: "0", role: "button", "data-chat": r.id,
        onclick: () => openChat(r.id),
        onkeydown: (e) => { if (e.key === "Enter") openChat(r.id); },
      },
      avatar(r.name, r.id),
      el("div", { class: "main" },
        el("div", { class: "top" },
          el("span", { class: "name", text: r.name }),
          el("span", { class: "time", text: r.last ? clock(r.last) : "" })),
        el("div", { class: "preview", text: r.preview || (isGroup(r.id) ? "Group chat" : "") })));
      list.append(li);
    }
    $("chats-empty").hidden = rows.length > 0;
  }

  function drawChat() {
    if (state.view !== "chat" || !state.chat) return;
    const chat = state.chat;
    const group = isGroup(chat) ? groupOf(chat) : null;
    const ms = messagesOf(chat);
    $("title").textContent = chatName(chat);
    drawAuthors(chat, group);
    if (!changed("chat", [chat, ms, [...state.revoked], state.contacts, state.groups])) return;
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren();
    if (ms.length === 0) list.append(el("li", { class: "notice", text: "No messages yet. Write as the contact below." }));
    for (const m of ms) list.append(drawMessage(m, group));
    if (atBottom || drawn.chatOpened !== chat) list.scrollTop = list.scrollHeight;
    drawn.chatOpened = chat;
  }

  function drawMessage(m, group) {
    if (m.kind === "sent") {
      const s = m.s;
      if (state.revoked.has(s.msg_id)) return el("li", { class: "notice", "data-msg": s.msg_id, text: "You recalled a message (from the web)" });
      return el("li", { class: "msg me", "data-from": "bridge", "data-msg": s.msg_id },
        avatar(nameOf(state.account), state.account, "small"),
        el("div", { class: "body" },
          el("div", { class: "bubble", text: sentText(s) }),
          el("div", { class: "meta", text: clock(m.at) + " · sent from the web (the bridge)" + (s.attempts > 1 ? " · " + s.attempts + " attempts" : "") })));
    }
    const w = m.w;
    const mine = w.author === ME;
    const who = mine ? nameOf(state.account) : nameOf(w.author, group);
    if (w.recalled) return el("li", { class: "notice", "data-msg": w.msg_id, text: (mine ? "You" : '"' + who + '"') + " recalled a message" });
    const bubble = el("div", { class: "bubble" });
    if (w.kind === "image") {
      if (w.preview) bubble.append(el("img", { src: w.preview, alt: w.file_name }));
      else bubble.textContent = "🖼 " + w.file_name;
    } else if (w.kind === "file") {
      bubble.textContent = "📎 " + w.file_name;
    } else {
      bubble.textContent = w.content;
    }
    const meta = el("div", { class: "meta", text: clock(w.at) + (mine ? " · from the phone" : "") });
    if (!mine) {
      meta.append(el("button", {
        type: "button", "data-action": "recall", text: "Recall",
        title: "The contact recalls this message",
        onclick: () => act(async () => {
          await api("POST", "accounts/" + enc(state.account) + "/revoke", { msg_id: w.msg_id });
          w.recalled = true;
          saveLog(written);
        }),
      }));
    }
    return el("li", { class: "msg" + (mine ? " me" : ""), "data-from": mine ? "phone" : w.author, "data-msg": w.msg_id },
      avatar(who, mine ? state.account : w.author, "small"),
      el("div", { class: "body" },
        group && !mine ? el("div", { class: "who", text: who }) : null,
        bubble, meta));
  }

  function drawAuthors(chat, group) {
    const opts = [];
    if (group) {
      for (const m of group.members) if (m !== state.account) opts.push([m, nameOf(m, group)]);
    } else {
      opts.push([chat, nameOf(chat)]);
    }
    opts.push([ME, "Me, from the phone"]);
    if (!changed("authors", [chat, opts])) return;
    const sel = $("author");
    const keep = sel.value;
    sel.replaceChildren();
    for (const [v, t] of opts) {
      const o = el("option", { value: v });
      o.text = t;
      sel.append(o);
    }
    if (opts.some(([v]) => v === keep) && drawn.authorsChat === chat) sel.value = keep;
    drawn.authorsChat = chat;
  }

  function drawSent() {
    const n = state.sent.length;
    $("sent-count").textContent = state.view !== "sent" && n > state.seenSent ? String(n - state.seenSent) : "";
    if (state.view === "sent") state.seenSent = n;
    if (!changed("sent", [state.sent, [...state.revoked], state.contacts, state.groups])) return;
    const list = $("sent");
    list.replaceChildren();
    for (const s of [...state.sent].reverse()) {
      const recalled = state.revoked.has(s.msg_id);
      list.append(el("li", { "data-msg": s.msg_id },
        el("div", { class: "top" },
          el("span", { class: "to", text: "to " + chatName(s.to) }),
          el("span", { text: clock(s.created * 1000) + (s.attempts > 1 ? " · " + s.attempts + " attempts" : "") + (recalled ? " · recalled" : "") })),
        el("div", { class: "text", text: sentText(s) })));
    }
    $("sent-empty").hidden = n > 0;
  }

  function drawRequests() {
    if (!changed("requests", state.requests)) return;
    const list = $("requests");
    list.replaceChildren();
    for (const r of state.requests) {
      list.append(el("li", { text: (r.nickname || r.from) + " (" + r.from + "): " + r.state }));
    }
  }

  function drawView() {
    for (const v of ["chats", "chat", "sent", "me"]) $("view-" + v).hidden = state.view !== v;
    for (const b of $("tabs").querySelectorAll("button")) {
      b.classList.toggle("on", b.dataset.view === state.view || (state.view === "chat" && b.dataset.view === "chats"));
    }
    $("back").hidden = state.view !== "chat";
    $("account").hidden = state.view === "chat";
    if (state.view !== "chat") $("title").textContent = { chats: "WeChat", sent: "Bridge sent", me: "Me" }[state.view];
  }

  function drawAll() {
    drawView();
    drawAccounts();
    drawStatus();
    drawLogins();
    drawChats();
    drawChat();
    drawSent();
    drawRequests();
  }

  // --- navigation and actions -------------------------------------------------------------

  function show(view) {
    state.view = view;
    if (view !== "chat") state.chat = "";
    drawAll();
  }

  function openChat(id) {
    state.chat = id;
    state.view = "chat";
    delete drawn.chat;
    drawAll();
    $("text").focus();
  }

  function selectAccount(wxid) {
    if (wxid === state.account) return;
    state.account = wxid;
    state.info = null;
    state.contacts = [];
    state.groups = [];
    state.sent = [];
    state.revoked = new Set();
    state.requests = [];
    state.seenSent = 0;
    written = loadLog();
    const url = new URL(location.href);
    url.searchParams.set("account", wxid);
    history.replaceState(null, "", url);
    show("chats");
    poll();
  }

  // write sends what the composer holds (or a picked file) as the chosen author.
  async function write(kind, extra) {
    const chat = state.chat;
    const author = $("author").value;
    const body = Object.assign({}, extra.body);
    let path;
    if (author === ME) {
      path = "from-phone";
      body.to = chat;
    } else {
      path = "incoming";
      body.from = author;
      if (isGroup(chat)) body.chat = chat;
    }
    const ref = await api("POST", "accounts/" + enc(state.account) + "/" + path, body);
    remember(Object.assign({ msg_id: ref.msg_id, chat, author, kind, at: Date.now() }, extra.log));
  }

  function readFile(file) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result); // a data: URL
      r.onerror = () => reject(new Error("cannot read " + file.name));
      r.readAsDataURL(file);
    });
  }

  async function sendPicked(input, kind) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    await act(async () => {
      const url = await readFile(file);
      const b64 = url.slice(url.indexOf(",") + 1);
      if (kind === "image") {
        // Small previews only, so that the tab's storage keeps them.
        const preview = url.length < 200000 && /^data:image\//.test(url) ? url : "";
        await write("image", { body: { type: 3, media_base64: b64, file_name: file.name }, log: { file_name: file.name, preview } });
      } else {
        await write("file", { body: { type: 49, app_msg_type: 6, media_base64: b64, file_name: file.name }, log: { file_name: file.name } });
      }
    });
  }

  function wire() {
    $("account").addEventListener("change", (e) => selectAccount(e.target.value));
    $("back").addEventListener("click", () => show("chats"));
    for (const b of $("tabs").querySelectorAll("button")) b.addEventListener("click", () => show(b.dataset.view));
    $("composer").addEventListener("submit", (e) => {
      e.preventDefault();
      const input = $("text");
      const text = input.value;
      if (!text.trim()) return;
      act(async () => {
        await write("text", { body: { type: 1, content: text }, log: { content: text } });
        input.value = "";
      });
    });
    $("attach-image").addEventListener("click", () => $("pick-image").click());
    $("attach-file").addEventListener("click", () => $("pick-file").click());
    $("pick-image").addEventListener("change", (e) => sendPicked(e.target, "image"));
    $("pick-file").addEventListener("change", (e) => sendPicked(e.target, "file"));
    $("logout").addEventListener("click", () => act(() => api("POST", "accounts/" + enc(state.account) + "/logout")));
    $("friend-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const body = { from: $("fr-wxid").value.trim(), nickname: $("fr-nick").value.trim(), content: $("fr-text").value };
      act(async () => {
        await api("POST", "accounts/" + enc(state.account) + "/friend-request", body);
        toast("Friend request from " + (body.nickname || body.from) + " sent to the account");
        $("friend-form").reset();
      });
    });
  }

  // --- polling ------------------------------------------------------------------------------

  let polling = false;
  let again = false;
  let timer = null;
  async function poll() {
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    clearTimeout(timer);
    try {
      const [accounts, logins] = await Promise.all([api("GET", "accounts"), api("GET", "logins")]);
      state.accounts = accounts;
      state.logins = logins;
      if (!state.account || !accounts.some((a) => a.wxid === state.account)) {
        const wanted = new URL(location.href).searchParams.get("account");
        const pick = accounts.find((a) => a.wxid === wanted) || accounts[0];
        if (pick && pick.wxid !== state.account) {
          state.account = pick.wxid;
          written = loadLog();
        }
      }
      if (state.account) {
        const a = "accounts/" + enc(state.account);
        const [info, contacts, groups, sent, revoked, requests] = await Promise.all([
          api("GET", a), api("GET", a + "/contacts"), api("GET", a + "/groups"),
          api("GET", a + "/sent"), api("GET", a + "/revoked"), api("GET", a + "/friend-requests"),
        ]);
        Object.assign(state, { info, contacts, groups, sent, requests });
        state.revoked = new Set(revoked.filter((r) => r.ret === 0).map((r) => r.msg_id));
      }
      drawAll();
    } catch (err) {
      $("web-status").classList.remove("on");
      $("web-status-text").textContent = "wxsim does not answer: " + err.message;
      delete drawn.status;
    } finally {
      polling = false;
      timer = setTimeout(poll, POLL_MS);
      if (again) {
        again = false;
        poll();
      }
    }
  }

  wire();
  drawAll();
  poll();
})();
