/* ediary sandbox: the web chat. Plain JS, no build step.
 *
 * Reads GET /sandbox/api/setup once and long-polls GET /sandbox/api/state?since=<tag>; every
 * action is a POST to /sandbox/api/... (see bot/sandbox/web.py). The bot's formatting arrives
 * as plain text + entities (UTF-16 offsets, as in the Bot API) and is turned into DOM nodes
 * with textContent only: no HTML from the server is ever parsed.
 */
"use strict";

(function () {
  const API = "/sandbox/api";
  const PHONE_WIDTH = 760;

  // ------------------------------------------------------------------ texts of the page

  const UI = {
    ru: {
      sandbox: "песочница",
      people: "Люди",
      people_hint: "Каждый — отдельный пользователь Telegram. Нажмите, чтобы открыть или закрыть чат.",
      add_person: "Добавить человека",
      name_placeholder: "Имя и фамилия",
      create: "Создать",
      guide: "Что попробовать",
      role_parent: "Родитель",
      role_school_admin: "Администратор школы",
      role_region_admin: "Администратор региона",
      live: "на связи",
      offline: "нет связи",
      connecting: "подключение…",
      start: "Начать",
      start_hint: "Электронный дневник: оценки, домашние задания и расписание ребёнка. Нажмите «Начать», как в Telegram.",
      message: "Сообщение",
      send: "Отправить",
      menu: "Меню команд",
      keyboard: "Клавиатура бота",
      close_chat: "Закрыть чат",
      edited: "изм.",
      today: "Сегодня",
      yesterday: "Вчера",
      download: "Скачать",
      contact_title: "Поделиться номером",
      contact_hint: "В Telegram эта кнопка отправляет собственный номер. Выберите, чей номер у этого человека: номера родителей из демо-журнала или номер, которого нет в журнале.",
      contact_search: "Поиск по фамилии или номеру",
      contact_nobody: "Номер, которого нет в журнале",
      contact_nobody_sub: "бот ответит, что совпадений нет",
      contact_other: "Другой номер",
      contact_share: "Отправить",
      cancel: "Отмена",
      children: "дети",
      no_phones: "Журнал не демо: введите номер вручную.",
      shown_of: (n, total) => `Показано ${n} из ${total}`,
      error: "Ошибка",
      ok: "OK",
      you: "вы",
      no_chats: "Откройте чат: выберите человека слева.",
      mark_now: "Поставить оценку сейчас",
      mark_saved: "Учитель поставил оценку; бот сообщит о ней после синхронизации журнала.",
      every: (s) => `Учитель демо-журнала ставит новую оценку каждые ${s} с (детям тех, чей номер отправлен здесь).`,
      guide_more: "Ещё: второй родитель может отправить номер, которого нет в журнале; администратор региона — назначить завуча командой /admin_add 2001 sch-1, после чего завуч (/start) получает запросы и команды /pending, /classes, /invite.",
      steps: [
        ["Администратор региона открывает бот", "Без этого ему некуда прислать запрос.", "region", "send", "/start"],
        ["Родитель даёт согласие", "«Начать», затем «✅ Согласен» под текстом согласия.", "parent", "send", "/start"],
        ["Родитель привязывает ребёнка", "Кнопка «📱 Привязать ребёнка» внизу → номер родителя из журнала.", "parent", "contact", ""],
        ["Администратор подтверждает", "Ему приходит запрос: «✅ Подтвердить». Родителю придёт ответ.", "region", "focus", ""],
        ["Родитель смотрит оценки", "«📊 Оценки» на клавиатуре или /grades.", "parent", "send", "/grades"],
        ["Новая оценка приходит сама", "", "parent", "mark", ""],
      ],
      step_do: { send: (t) => `Отправить ${t}`, contact: "Открыть список номеров", focus: "Открыть чат", mark: "Поставить оценку сейчас" },
    },
    en: {
      sandbox: "sandbox",
      people: "People",
      people_hint: "Each one is a separate Telegram user. Click to open or close a chat.",
      add_person: "Add a person",
      name_placeholder: "Name and surname",
      create: "Create",
      guide: "What to try",
      role_parent: "Parent",
      role_school_admin: "School admin",
      role_region_admin: "Region admin",
      live: "live",
      offline: "offline",
      connecting: "connecting…",
      start: "Start",
      start_hint: "The electronic diary: a child's marks, homework and timetable. Press “Start”, as in Telegram.",
      message: "Message",
      send: "Send",
      menu: "Command menu",
      keyboard: "Bot keyboard",
      close_chat: "Close chat",
      edited: "edited",
      today: "Today",
      yesterday: "Yesterday",
      download: "Download",
      contact_title: "Share a phone number",
      contact_hint: "In Telegram this button sends the user's own number. Pick whose number this person has: a parent's from the demo journal, or one the journal does not know.",
      contact_search: "Search by surname or number",
      contact_nobody: "A number the journal does not know",
      contact_nobody_sub: "the bot will say nothing matches",
      contact_other: "Another number",
      contact_share: "Send",
      cancel: "Cancel",
      children: "children",
      no_phones: "Not the demo journal: type a number.",
      shown_of: (n, total) => `Showing ${n} of ${total}`,
      error: "Error",
      ok: "OK",
      you: "you",
      no_chats: "Open a chat: pick a person on the left.",
      mark_now: "Save a mark now",
      mark_saved: "The teacher saved a mark; the bot reports it after the next journal sync.",
      every: (s) => `The demo journal's teacher saves a new mark every ${s} s (for the children of the numbers shared here).`,
      guide_more: "More: the second parent can share a number the journal does not know; the region admin can appoint the head teacher with /admin_add 2001 sch-1, who then (/start) gets the requests and /pending, /classes, /invite.",
      steps: [
        ["The region admin opens the bot", "Otherwise there is nowhere to send the request.", "region", "send", "/start"],
        ["The parent gives consent", "“Start”, then “✅ Согласен” (I agree) under the consent text.", "parent", "send", "/start"],
        ["The parent links a child", "The “📱 Привязать ребёнка” (link a child) button at the bottom → a parent's number from the journal.", "parent", "contact", ""],
        ["The admin approves", "The request arrives: “✅ Подтвердить” (approve). The parent is told.", "region", "focus", ""],
        ["The parent looks at the marks", "“📊 Оценки” (marks) on the keyboard, or /grades.", "parent", "send", "/grades"],
        ["A new mark arrives by itself", "", "parent", "mark", ""],
      ],
      step_do: { send: (t) => `Send ${t}`, contact: "Open the numbers", focus: "Open the chat", mark: "Save a mark now" },
    },
  };

  const stored = (key, fallback) => {
    try { const v = localStorage.getItem("ediary-sandbox:" + key); return v === null ? fallback : JSON.parse(v); }
    catch (e) { return fallback; }
  };
  const store = (key, value) => {
    try { localStorage.setItem("ediary-sandbox:" + key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  };

  let lang = stored("lang", (navigator.language || "ru").toLowerCase().startsWith("ru") ? "ru" : "en");
  if (!UI[lang]) lang = "ru";
  const tr = (key, ...args) => { const v = UI[lang][key]; return typeof v === "function" ? v(...args) : v; };

  // ------------------------------------------------------------------ state

  const state = {
    setup: null,
    snap: { people: [], chats: {}, tag: null },
    open: stored("open", null),        // ids of chats shown as columns (desktop)
    active: stored("active", null),    // the chat shown on a phone
    seen: stored("seen", {}),          // person id -> number of bot messages seen
    hiddenKb: {},                      // person id -> true when the reply keyboard is folded
    shownAnswers: new Set(),
    columns: new Map(),                // person id -> column controller
  };

  // ------------------------------------------------------------------ small DOM helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const $ = (id) => document.getElementById(id);
  const isPhone = () => window.innerWidth <= PHONE_WIDTH;
  const person = (id) => state.snap.people.find((p) => p.id === id);
  const byRole = (role) => state.snap.people.find((p) => p.role === role);

  function initials(name) {
    const words = name.replace(/\(.*?\)/g, "").split(/\s+/).filter(Boolean);
    return ((words[0] || "?")[0] + (words[1] ? words[1][0] : "")).toUpperCase();
  }

  const AVATAR_COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
  const avatarColor = (id) => AVATAR_COLORS[id % AVATAR_COLORS.length];

  function avatar(p, size) {
    return el("span", { class: "avatar" + (size ? " " + size : ""), style: `background:${avatarColor(p.id)}`, "aria-hidden": "true" },
      initials(p.name));
  }

  function fmtTime(unix) {
    const d = new Date(unix * 1000);
    return d.toLocaleTimeString(lang === "ru" ? "ru-RU" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  }

  function fmtDay(unix) {
    const d = new Date(unix * 1000);
    const today = new Date();
    const yesterday = new Date(Date.now() - 86400000);
    if (d.toDateString() === today.toDateString()) return tr("today");
    if (d.toDateString() === yesterday.toDateString()) return tr("yesterday");
    return d.toLocaleDateString(lang === "ru" ? "ru-RU" : "en-GB", { day: "numeric", month: "long" });
  }

  function fmtSize(bytes) {
    if (bytes === null || bytes === undefined) return "";
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function fmtPhone(phone) {
    const d = String(phone).replace(/\D/g, "");
    if (d.length === 11 && d[0] === "7") return `+7 ${d.slice(1, 4)} ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9)}`;
    return phone;
  }

  // ------------------------------------------------------------------ the bot's formatting

  const SAFE_URL = /^(https?:|tg:|mailto:)/i;
  const AUTO = /(\/[A-Za-z0-9_]{1,32}(?![\w/]))|(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]])/g;

  /** Plain text, with /commands made pressable and URLs made links (as Telegram clients do). */
  function plain(parent, text, ctx) {
    if (!ctx.auto) { parent.append(document.createTextNode(text)); return; }
    let last = 0;
    for (const m of text.matchAll(AUTO)) {
      const before = m.index === 0 ? "" : text[m.index - 1];
      if (m[1] && before && !/\s|\(/.test(before)) continue;  // not a command: part of a word or a path
      if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
      if (m[1]) {
        const command = m[1];
        parent.append(el("span", { class: "cmd", role: "button", tabindex: "0", title: command,
          onclick: () => ctx.command(command), onkeydown: (e) => { if (e.key === "Enter") ctx.command(command); } }, command));
      } else {
        parent.append(el("a", { href: m[2], target: "_blank", rel: "noopener noreferrer" }, m[2]));
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
  }

  function entityNode(entity, text) {
    switch (entity.type) {
      case "bold": return el("b");
      case "italic": return el("i");
      case "underline": return el("u");
      case "strikethrough": return el("s");
      case "code": return el("code");
      case "pre": return el("pre", { class: entity.language ? "lang-" + String(entity.language).replace(/\W/g, "") : null });
      case "blockquote": case "expandable_blockquote": return el("blockquote");
      case "spoiler": {
        const node = el("span", { class: "spoiler", title: "spoiler" });
        node.addEventListener("click", () => node.classList.add("revealed"));
        return node;
      }
      case "text_link": case "url": {
        const href = entity.type === "url" ? text : entity.url;
        return SAFE_URL.test(href || "") ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span", { class: "link" });
      }
      case "email": return el("a", { href: "mailto:" + text });
      case "bot_command": return el("span", { class: "cmd-own" });
      default: return el("span");
    }
  }

  /** Append ``text`` with Bot API ``entities`` (UTF-16 offsets; JS strings are UTF-16 too). */
  function formatted(parent, text, entities, ctx) {
    const sorted = (entities || [])
      .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    build(parent, text, 0, text.length, sorted, ctx);
  }

  function build(parent, text, start, end, entities, ctx) {
    let pos = start;
    let i = 0;
    while (i < entities.length) {
      const e = entities[i];
      const eEnd = Math.min(e.offset + e.length, end);
      const inside = [];
      let j = i + 1;
      while (j < entities.length && entities[j].offset < e.offset + e.length) inside.push(entities[j++]);
      const eStart = Math.max(e.offset, pos);
      if (eStart > pos) plain(parent, text.slice(pos, eStart), ctx);
      if (eEnd > eStart) {
        const node = entityNode(e, text.slice(eStart, eEnd));
        const raw = ["code", "pre", "text_link", "url", "email", "bot_command"].includes(e.type);
        build(node, text, eStart, eEnd, inside, raw ? { ...ctx, auto: false } : ctx);
        parent.append(node);
        pos = eEnd;
      }
      i = j;
    }
    if (pos < end) plain(parent, text.slice(pos, end), ctx);
  }

  // ------------------------------------------------------------------ talking to the server

  async function post(path, body) {
    const response = await fetch(API + path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  async function act(promise) {
    try { return await promise; } catch (error) { toast(`${tr("error")}: ${error.message}`, "error"); return null; }
  }

  const sendText = (id, text) => act(post(`/chats/${id}/send`, { text }));
  const press = (id, messageId, data) => act(post(`/chats/${id}/press`, { message_id: messageId, data }));
  const shareContact = (id, phone) => act(post(`/chats/${id}/contact`, { phone }));

  async function poll() {
    for (;;) {
      try {
        const since = state.snap.tag ? `&since=${encodeURIComponent(state.snap.tag)}` : "";
        const response = await fetch(`${API}/state?wait=25${since}`, { cache: "no-store" });
        if (!response.ok) throw new Error(String(response.status));
        const snap = await response.json();
        setLive("live");
        if (snap.tag !== state.snap.tag) { state.snap = snap; render(); }
      } catch (error) {
        setLive("offline");
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
    }
  }

  function setLive(kind) {
    const live = $("live");
    live.dataset.state = kind;
    $("live-text").textContent = tr(kind);
  }

  // ------------------------------------------------------------------ toasts and dialogs

  function toast(text, kind, anchor) {
    const node = el("div", { class: "toast" + (kind ? " " + kind : "") }, text);
    (anchor || $("toasts")).append(node);
    setTimeout(() => node.classList.add("gone"), 3500);
    setTimeout(() => node.remove(), 4000);
  }

  function alertBox(column, text) {
    const box = el("div", { class: "sheet-backdrop" },
      el("div", { class: "alert", role: "alertdialog" },
        el("p", {}, text),
        el("button", { class: "primary", type: "button", onclick: () => box.remove() }, tr("ok"))));
    column.root.append(box);
    box.querySelector("button").focus();
  }

  // ------------------------------------------------------------------ one chat column

  function makeColumn(id) {
    const col = { id, rendered: new Map(), days: new Map() };
    const p = () => person(id);

    col.list = el("div", { class: "message-list" });
    col.messages = el("div", { class: "messages", role: "log" }, col.list);
    col.stick = true;  // follow new messages while the reader is at the bottom
    col.messages.addEventListener("scroll", () => {
      col.stick = col.messages.scrollHeight - col.messages.scrollTop - col.messages.clientHeight < 60;
    });
    col.toBottom = () => { if (col.stick) col.messages.scrollTop = col.messages.scrollHeight; };
    if (window.ResizeObserver) {
      const observer = new ResizeObserver(() => col.toBottom());
      observer.observe(col.list);
      observer.observe(col.messages);
    }
    col.empty = el("div", { class: "empty-chat" });
    col.input = el("textarea", { class: "input", rows: "1", "aria-label": tr("message") });
    col.kbToggle = el("button", { class: "icon-btn kb-toggle", type: "button", title: tr("keyboard"), "aria-label": tr("keyboard"),
      onclick: () => { state.hiddenKb[id] = !state.hiddenKb[id]; renderKeyboard(col); } }, "⌨");
    col.menuBtn = el("button", { class: "menu-btn", type: "button", title: tr("menu"), "aria-label": tr("menu"),
      onclick: () => toggleMenu(col) }, "/");
    col.sendBtn = el("button", { class: "send-btn", type: "button", title: tr("send"), "aria-label": tr("send"),
      onclick: () => submit(col) }, "➤");
    col.keyboard = el("div", { class: "reply-kb" });
    col.menu = el("div", { class: "cmd-menu", hidden: true });
    col.toasts = el("div", { class: "chat-toasts", "aria-live": "polite" });
    col.name = el("div", { class: "chat-name" });
    col.role = el("div", { class: "chat-role" });
    col.avatarSlot = el("span");
    col.head = el("header", { class: "chat-head" },
      col.avatarSlot,
      el("div", { class: "chat-title" }, col.name, col.role),
      el("button", { class: "icon-btn close-chat only-desktop", type: "button", title: tr("close_chat"), "aria-label": tr("close_chat"),
        onclick: () => toggleOpen(id) }, "✕"));
    col.root = el("section", { class: "chat", dataset: { person: String(id) } },
      col.head,
      el("div", { class: "chat-body" }, col.messages, col.empty, col.toasts),
      col.menu,
      el("div", { class: "composer" }, col.menuBtn, col.input, col.kbToggle, col.sendBtn),
      col.keyboard);

    col.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); submit(col); }
    });
    col.input.addEventListener("input", () => {
      col.input.style.height = "auto";
      col.input.style.height = Math.min(col.input.scrollHeight, 120) + "px";
    });
    col.command = (text) => sendText(id, text);
    col.person = p;
    return col;
  }

  async function submit(col) {
    const text = col.input.value.trim();
    if (!text) return;
    col.input.value = "";
    col.input.style.height = "auto";
    col.menu.hidden = true;
    await sendText(col.id, text);
    col.input.focus();
  }

  function toggleMenu(col) {
    if (!col.menu.hidden) { col.menu.hidden = true; return; }
    const p = col.person();
    const all = state.snap.commands || {};
    const commands = (all[p.lang] || []).length ? all[p.lang] : (all.ru || []);
    col.menu.replaceChildren(...commands.map((c) =>
      el("button", { class: "cmd-item", type: "button", onclick: () => { col.menu.hidden = true; sendText(col.id, "/" + c.command); } },
        el("span", { class: "cmd-name" }, "/" + c.command), el("span", { class: "cmd-desc" }, c.description))));
    col.menu.hidden = false;
  }

  function renderColumn(col) {
    const p = col.person();
    const chat = state.snap.chats[String(col.id)] || { messages: [], reply_keyboard: null, answers: [] };
    col.avatarSlot.replaceChildren(avatar(p));
    col.name.textContent = p.name;
    col.role.textContent = `${tr("role_" + p.role)} · id ${p.id}`;
    col.input.placeholder = tr("message");

    const wanted = new Set();
    let previous = null;
    for (const m of chat.messages) {
      const day = fmtDay(m.date);
      if (!previous || fmtDay(previous.date) !== day) {
        const key = "day:" + day;
        wanted.add(key);
        let sep = col.rendered.get(key);
        if (!sep) { sep = { node: el("div", { class: "day" }, el("span", {}, day)), sig: key }; col.rendered.set(key, sep); }
        col.list.append(sep.node);
      }
      const key = "m:" + m.id;
      wanted.add(key);
      const sig = JSON.stringify(m) + lang;
      let item = col.rendered.get(key);
      if (!item || item.sig !== sig) {
        const node = messageNode(col, m, chat.messages);
        if (item) item.node.replaceWith(node);
        item = { node, sig };
        col.rendered.set(key, item);
      }
      col.list.append(item.node);  // keeps the order; moving an existing node is cheap
      previous = m;
    }
    for (const [key, item] of col.rendered) {
      if (!wanted.has(key)) { item.node.remove(); col.rendered.delete(key); }
    }

    col.empty.hidden = chat.messages.length > 0;
    if (!chat.messages.length) {
      col.empty.replaceChildren(
        el("div", { class: "bot-card" },
          el("div", { class: "bot-avatar" }, "5"),
          el("div", { class: "bot-name" }, state.setup.bot.name),
          el("div", { class: "bot-user" }, "@" + state.setup.bot.username),
          el("p", {}, tr("start_hint"))),
        el("button", { class: "start-btn primary", type: "button", onclick: () => sendText(col.id, "/start") }, tr("start")));
    }
    col.toBottom();

    col.replyKb = chat.reply_keyboard;
    renderKeyboard(col);

    for (const answer of chat.answers) {
      if (state.shownAnswers.has(answer.id)) continue;
      state.shownAnswers.add(answer.id);
      if (state.ready) { if (answer.alert) alertBox(col, answer.text); else toast(answer.text, "", col.toasts); }
    }
  }

  function renderKeyboard(col) {
    const kb = col.replyKb;
    col.kbToggle.hidden = !kb;
    const hidden = !kb || state.hiddenKb[col.id];
    col.kbToggle.classList.toggle("on", !!kb && !hidden);
    col.keyboard.hidden = hidden;
    col.root.classList.toggle("with-kb", !hidden);
    if (!kb) { col.keyboard.replaceChildren(); return; }
    if (kb.placeholder) col.input.placeholder = kb.placeholder;
    col.keyboard.replaceChildren(...kb.rows.map((row) => el("div", { class: "kb-row" },
      row.map((b) => el("button", {
        class: "kb-btn" + (b.contact ? " contact" : ""), type: "button",
        onclick: () => {
          if (kb.one_time) { state.hiddenKb[col.id] = true; renderKeyboard(col); }
          if (b.contact) openContactSheet(col); else sendText(col.id, b.text);
        },
      }, b.text)))));
  }

  function messageNode(col, m, all) {
    const bubble = el("div", { class: "bubble" });
    if (m.reply_to) {
      const target = all.find((x) => x.id === m.reply_to);
      if (target) bubble.append(el("div", { class: "reply-quote" }, (target.text || target.caption || "…").slice(0, 80)));
    }
    if (m.contact) {
      bubble.classList.add("contact-bubble");
      bubble.append(el("div", { class: "contact-card" },
        el("span", { class: "contact-icon", "aria-hidden": "true" }, "📱"),
        el("div", {}, el("div", { class: "contact-name" }, m.contact.name || ""),
          el("div", { class: "contact-phone" }, fmtPhone(m.contact.phone)))));
    }
    if (m.document) {
      bubble.append(el("a", { class: "doc", href: m.document.url, download: m.document.name, title: tr("download") },
        el("span", { class: "doc-icon", "aria-hidden": "true" }, (m.document.name.split(".").pop() || "").slice(0, 4).toUpperCase() || "DOC"),
        el("span", { class: "doc-meta" },
          el("span", { class: "doc-name" }, m.document.name),
          el("span", { class: "doc-size" }, `${fmtSize(m.document.size)} · ${tr("download")}`))));
    }
    const ctx = { auto: !m.out, command: col.command };
    if (m.text !== null && m.text !== undefined) {
      const body = el("div", { class: "text" });
      formatted(body, m.text, m.entities, ctx);
      bubble.append(body);
    } else if (m.caption) {
      const body = el("div", { class: "text caption" });
      formatted(body, m.caption, m.caption_entities, ctx);
      bubble.append(body);
    }
    bubble.append(el("span", { class: "meta" }, m.edited ? tr("edited") + " " : "", fmtTime(m.date), m.out ? el("span", { class: "ticks" }, " ✓✓") : null));

    const wrap = el("div", { class: "msg " + (m.out ? "out" : "in"), dataset: { id: String(m.id) } }, bubble);
    if (m.keyboard && m.keyboard.length) {
      wrap.append(el("div", { class: "inline-kb" }, m.keyboard.map((row) => el("div", { class: "ikb-row" },
        row.map((b) => b.url
          ? (SAFE_URL.test(b.url) ? el("a", { class: "ikb-btn", href: b.url, target: "_blank", rel: "noopener noreferrer" }, b.text, " ↗")
            : el("span", { class: "ikb-btn" }, b.text))
          : el("button", { class: "ikb-btn", type: "button", disabled: !b.data,
            onclick: (event) => { event.currentTarget.classList.add("pressed"); press(col.id, m.id, b.data); } }, b.text))))));
    }
    return wrap;
  }

  // ------------------------------------------------------------------ sharing a phone number

  function openContactSheet(col) {
    const guardians = state.setup.guardians;
    const list = el("ul", { class: "phones" });
    const count = el("p", { class: "hint" });
    const search = el("input", { class: "search", type: "search", placeholder: tr("contact_search"), "aria-label": tr("contact_search") });
    const other = el("input", { class: "other-phone", type: "tel", placeholder: "+7 900 000-00-00", "aria-label": tr("contact_other") });
    const close = () => sheet.remove();
    const share = async (phone) => { close(); await shareContact(col.id, phone); };

    const fill = () => {
      const q = search.value.trim().toLowerCase();
      const qd = q.replace(/\D/g, "");
      const found = guardians.filter((g) => !q || g.name.toLowerCase().includes(q) || (qd && g.phone.replace(/\D/g, "").includes(qd)));
      const shown = found.slice(0, 40);
      list.replaceChildren(...shown.map((g) => el("li", {},
        el("button", { class: "phone-item", type: "button", onclick: () => share(g.phone) },
          el("span", { class: "phone-num" }, fmtPhone(g.phone)),
          el("span", { class: "phone-who" }, g.name),
          el("span", { class: "phone-kids" }, `${tr("children")}: ` + g.children.map((c) => `${c.name} (${c.class})`).join(", "))))));
      count.textContent = guardians.length ? tr("shown_of", shown.length, found.length) : tr("no_phones");
    };
    search.addEventListener("input", fill);

    const sheet = el("div", { class: "sheet-backdrop", onclick: (e) => { if (e.target === sheet) close(); } },
      el("div", { class: "sheet", role: "dialog", "aria-label": tr("contact_title") },
        el("div", { class: "sheet-head" }, el("h3", {}, tr("contact_title")),
          el("button", { class: "icon-btn", type: "button", "aria-label": tr("cancel"), onclick: close }, "✕")),
        el("p", { class: "hint" }, tr("contact_hint")),
        el("button", { class: "phone-item nobody", type: "button", onclick: () => share(state.setup.nobody_phone) },
          el("span", { class: "phone-num" }, fmtPhone(state.setup.nobody_phone)),
          el("span", { class: "phone-who" }, tr("contact_nobody")),
          el("span", { class: "phone-kids" }, tr("contact_nobody_sub"))),
        guardians.length ? search : null,
        guardians.length ? count : null,
        list,
        el("form", { class: "other-form", onsubmit: (e) => { e.preventDefault(); if (other.value.trim()) share(other.value.trim()); } },
          other, el("button", { class: "primary", type: "submit" }, tr("contact_share")))));
    fill();
    col.root.append(sheet);
    if (!isPhone()) search.focus();
  }

  // ------------------------------------------------------------------ people, columns, tabs

  function visibleIds() {
    const ids = state.snap.people.map((p) => p.id);
    if (isPhone()) return ids.includes(state.active) ? [state.active] : ids.slice(0, 1);
    return (state.open || []).filter((id) => ids.includes(id));
  }

  function toggleOpen(id) {
    const open = state.open || [];
    state.open = open.includes(id) ? open.filter((x) => x !== id) : [...open, id];
    store("open", state.open);
    render();
  }

  function focusPerson(id) {
    state.active = id;
    store("active", id);
    if (!(state.open || []).includes(id)) { state.open = [...(state.open || []), id]; store("open", state.open); }
    closeDrawer();
    render();
    const col = state.columns.get(id);
    if (col) {
      col.root.scrollIntoView({ behavior: "smooth", inline: "nearest", block: "nearest" });
      col.root.classList.remove("flash"); void col.root.offsetWidth; col.root.classList.add("flash");
    }
    return col;
  }

  function unread(id) {
    const chat = state.snap.chats[String(id)];
    if (!chat) return 0;
    const bot = chat.messages.filter((m) => !m.out).length;
    return Math.max(0, bot - (state.seen[id] || 0));
  }

  function markSeen(ids) {
    let changed = false;
    for (const id of ids) {
      const chat = state.snap.chats[String(id)];
      const bot = chat ? chat.messages.filter((m) => !m.out).length : 0;
      if (state.seen[id] !== bot) { state.seen[id] = bot; changed = true; }
    }
    if (changed) store("seen", state.seen);
  }

  function lastLine(id) {
    const chat = state.snap.chats[String(id)];
    const m = chat && chat.messages[chat.messages.length - 1];
    if (!m) return "";
    const text = m.text || m.caption || (m.document && m.document.name) || (m.contact && fmtPhone(m.contact.phone)) || "";
    return (m.out ? tr("you") + ": " : "") + text.split("\n")[0];
  }

  function renderPeople(visible) {
    const list = $("people");
    list.replaceChildren(...state.snap.people.map((p) => {
      const n = visible.includes(p.id) ? 0 : unread(p.id);
      return el("li", {},
        el("button", { class: "person" + (visible.includes(p.id) ? " open" : ""), type: "button",
          "aria-pressed": String(visible.includes(p.id)), dataset: { person: String(p.id) },
          onclick: () => (isPhone() ? focusPerson(p.id) : toggleOpen(p.id)) },
          avatar(p),
          el("span", { class: "person-text" },
            el("span", { class: "person-name" }, p.name),
            el("span", { class: "person-role" }, `${tr("role_" + p.role)} · ${p.id}`),
            el("span", { class: "person-last" }, lastLine(p.id))),
          n ? el("span", { class: "badge" }, String(n)) : null));
    }));

    const tabs = $("tabs");
    tabs.replaceChildren(...state.snap.people.map((p) => {
      const n = visible.includes(p.id) ? 0 : unread(p.id);
      return el("button", { class: "tab" + (visible.includes(p.id) ? " active" : ""), type: "button", role: "tab",
        "aria-selected": String(visible.includes(p.id)), dataset: { person: String(p.id) }, onclick: () => focusPerson(p.id) },
        avatar(p, "small"), el("span", { class: "tab-name" }, p.name.split(" ")[0]),
        n ? el("span", { class: "badge" }, String(n)) : null);
    }));
  }

  function renderGuide() {
    const guide = $("guide");
    const parent = byRole("parent");
    const region = byRole("region_admin");
    const who = { parent, region };
    guide.replaceChildren(...tr("steps").map(([title, text, role, action, arg], index) => {
      const p = who[role];
      let body = text;
      if (action === "mark") {
        body = state.setup.marks_every ? tr("every", Math.round(state.setup.marks_every)) : "";
        if (!state.setup.can_mark) return null;
      }
      const run = async () => {
        if (!p) return;
        const col = focusPerson(p.id);
        if (action === "send") await sendText(p.id, arg);
        else if (action === "contact" && col) openContactSheet(col);
        else if (action === "mark") { if (await act(post("/journal/mark", {}))) toast(tr("mark_saved")); }
      };
      const label = action === "send" ? tr("step_do").send(arg) : tr("step_do")[action];
      return el("li", { class: "step" },
        el("span", { class: "step-no" }, String(index + 1)),
        el("div", { class: "step-body" },
          el("div", { class: "step-title" }, title),
          body ? el("div", { class: "step-text" }, body) : null,
          el("button", { class: "step-btn", type: "button", dataset: { step: String(index + 1) }, onclick: run }, "▶ " + label)));
    }));
    $("guide-more").textContent = tr("guide_more");
  }

  function render() {
    if (!state.setup) return;
    if (state.open === null) {
      const first = [byRole("parent"), byRole("region_admin")].filter(Boolean).map((p) => p.id);
      state.open = first;
    }
    const visible = visibleIds();
    const chats = $("chats");
    for (const [id, col] of state.columns) {
      if (!state.snap.people.some((p) => p.id === id)) { col.root.remove(); state.columns.delete(id); }
    }
    const nodes = [];
    for (const id of visible) {
      let col = state.columns.get(id);
      if (!col) { col = makeColumn(id); state.columns.set(id, col); }
      renderColumn(col);
      nodes.push(col.root);
    }
    // Keep existing nodes in place (focus, scroll) and only fix the order.
    for (const node of [...chats.children]) if (!nodes.includes(node)) node.remove();
    nodes.forEach((node, i) => { if (chats.children[i] !== node) chats.insertBefore(node, chats.children[i] || null); });
    chats.classList.toggle("none", !nodes.length);
    chats.dataset.count = String(nodes.length);
    if (!nodes.length) chats.replaceChildren(el("div", { class: "no-chats" }, tr("no_chats")));
    for (const col of state.columns.values()) if (nodes.includes(col.root)) col.toBottom();
    markSeen(visible);
    renderPeople(visible);
    state.ready = true;
  }

  function applyTexts() {
    document.documentElement.lang = lang;
    document.title = `ediary — ${tr("sandbox")}`;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = tr(node.dataset.i18n);
    $("add-name").placeholder = tr("name_placeholder");
    $("add-role").replaceChildren(...(state.setup ? state.setup.roles : ["parent"]).map((r) => el("option", { value: r }, tr("role_" + r))));
    $("lang").textContent = lang === "ru" ? "EN" : "RU";
    setLive($("live").dataset.state || "connecting");
    // Columns hold translated labels: rebuild them.
    for (const col of state.columns.values()) col.root.remove();
    state.columns.clear();
    if (state.setup) renderGuide();
    render();
  }

  // ------------------------------------------------------------------ drawer (phone)

  function openDrawer() { document.body.classList.add("drawer-open"); }
  function closeDrawer() { document.body.classList.remove("drawer-open"); }

  // ------------------------------------------------------------------ start

  async function main() {
    $("lang").addEventListener("click", () => { lang = lang === "ru" ? "en" : "ru"; store("lang", lang); applyTexts(); });
    $("open-drawer").addEventListener("click", () => (document.body.classList.contains("drawer-open") ? closeDrawer() : openDrawer()));
    $("scrim").addEventListener("click", closeDrawer);
    document.addEventListener("click", (event) => {
      for (const col of state.columns.values()) {
        if (!col.menu.hidden && !col.menu.contains(event.target) && !col.menuBtn.contains(event.target)) col.menu.hidden = true;
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      for (const col of state.columns.values()) col.menu.hidden = true;
      for (const node of document.querySelectorAll(".sheet-backdrop")) node.remove();
      closeDrawer();
    });
    $("add-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("add-error").textContent = "";
      try {
        const created = await post("/people", { name: $("add-name").value, role: $("add-role").value, lang: $("add-lang").value });
        $("add-name").value = "";
        $("add-person").open = false;
        state.snap.tag = null;
        focusPerson(created.id);
      } catch (error) { $("add-error").textContent = error.message; }
    });
    let wasPhone = isPhone();
    window.addEventListener("resize", () => { if (isPhone() !== wasPhone) { wasPhone = isPhone(); render(); } });

    for (;;) {
      try {
        const response = await fetch(`${API}/setup`, { cache: "no-store" });
        if (!response.ok) throw new Error(String(response.status));
        state.setup = await response.json();
        break;
      } catch (error) {
        setLive("offline");
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
    }
    try {
      const response = await fetch(`${API}/state`, { cache: "no-store" });
      state.snap = await response.json();
      setLive("live");
      if (!Object.keys(state.seen).length) markSeen(state.snap.people.map((p) => p.id));  // a new visitor starts with nothing unread
      for (const chat of Object.values(state.snap.chats)) for (const a of chat.answers) state.shownAnswers.add(a.id);
    } catch (error) { /* the poll loop retries */ }
    applyTexts();
    poll();
  }

  main();
})();
