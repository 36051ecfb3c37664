// Sportello workspace script. Pages work without it (forms submit); this
// adds live updates over Server-Sent Events, presence, draft autosave and
// keyboard shortcuts. No framework, no build step.

const main = document.querySelector("main");
const me = main ? main.dataset.me : "";

// --- live updates -----------------------------------------------------

const listeners = [];
function onLive(fn) { listeners.push(fn); }

// A new SLA warning or breach for me: bump the unread count in the header.
onLive((ev) => {
  if (ev.type !== "notice") return;
  const link = document.querySelector("[data-notices]");
  if (!link) return;
  let count = link.querySelector(".unread-count");
  if (!count) {
    count = document.createElement("span");
    count.className = "count unread-count";
    count.textContent = "0";
    link.append(" ", count);
  }
  count.textContent = String(Number(count.textContent) + 1);
});

if (me) {
  const es = new EventSource("/events");
  for (const type of ["ticket", "presence", "notice"]) {
    es.addEventListener(type, (msg) => {
      let ev;
      try { ev = JSON.parse(msg.data); } catch { return; }
      for (const fn of listeners) fn(ev);
    });
  }
  es.addEventListener("open", () => document.documentElement.dataset.live = "on");
}

async function fetchFragment(url) {
  const res = await fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
  if (!res.ok) throw new Error(url + ": " + res.status);
  const tpl = document.createElement("template");
  tpl.innerHTML = await res.text();
  return tpl.content;
}

// --- inbox --------------------------------------------------------------

const inbox = document.querySelector("[data-inbox]");
// j/k walk the inbox, and also search results and other lists.
const list = inbox || document.querySelector("[data-list]");
let selected = -1;

function rows() { return list ? [...list.querySelectorAll("[data-row]")] : []; }

function select(i, scroll = true) {
  const rs = rows();
  if (!rs.length) { selected = -1; return; }
  selected = Math.max(0, Math.min(i, rs.length - 1));
  rs.forEach((r, j) => r.classList.toggle("selected", j === selected));
  rs[selected].setAttribute("aria-selected", "true");
  if (scroll) rs[selected].scrollIntoView({ block: "nearest" });
}

if (inbox) {
  let pending = null;
  const refresh = async () => {
    // Keep the agent's place: the same ticket stays selected.
    const keep = selected >= 0 && rows()[selected] ? rows()[selected].dataset.number : null;
    // Keep the agent's bulk selection and half-filled bulk form too.
    const picked = new Set([...inbox.querySelectorAll("[data-pick]:checked")].map((c) => c.value));
    const bulk = inbox.querySelector("#bulk") ? new FormData(inbox.querySelector("#bulk")) : null;
    const q = new URLSearchParams({ view: inbox.dataset.view, sort: inbox.dataset.sort, page: inbox.dataset.page, partial: "1" });
    try {
      const frag = await fetchFragment("/?" + q);
      inbox.replaceChildren(frag);
      inbox.querySelectorAll("[data-pick]").forEach((c) => { c.checked = picked.has(c.value); });
      if (bulk) {
        for (const name of ["status", "priority", "assignee", "add_tag", "merge_into"]) {
          const el = inbox.querySelector(`#bulk [name=${name}]`);
          if (el) el.value = bulk.get(name) || "";
        }
      }
      if (keep) {
        const i = rows().findIndex((r) => r.dataset.number === keep);
        if (i >= 0) select(i, false);
      }
      inbox.dataset.refreshed = String(Date.now());
    } catch (e) { console.warn("inbox refresh", e); }
  };
  onLive((ev) => {
    if (ev.type !== "ticket") return;
    clearTimeout(pending);            // coalesce bursts of changes
    pending = setTimeout(refresh, 40);
  });
}

// --- ticket page ----------------------------------------------------------

const ticketEl = document.querySelector("[data-ticket]");
if (ticketEl) {
  const id = ticketEl.dataset.ticket;
  const body = document.getElementById("body");
  const composer = document.getElementById("composer");
  const banner = document.getElementById("new-message");
  const presenceEl = document.getElementById("presence");
  const labels = { viewing: presenceEl.dataset.viewing, typing: presenceEl.dataset.typing };

  const post = (url, data) => fetch(url, { method: "POST", credentials: "same-origin", body: new URLSearchParams(data) });
  const heartbeat = (state) => post(`/tickets/${id}/presence`, { state }).catch(() => {});
  heartbeat("viewing");
  setInterval(() => { if (!document.hidden) heartbeat("viewing"); }, 15000);
  window.addEventListener("pagehide", () => navigator.sendBeacon(`/tickets/${id}/presence`, new URLSearchParams({ state: "left" })));

  // A closed ticket is read-only: it has no composer.
  if (composer) {
    let lastTyping = 0, draftTimer = null;
    const kind = () => (composer.querySelector("input[name=kind]:checked") || {}).value || "reply";
    const saveDraft = async () => {
      const state = document.getElementById("draft-state");
      const res = await post(body.dataset.draft, { kind: kind(), body: body.value }).catch(() => null);
      if (res && res.ok) { state.textContent = state.dataset.saved; body.dataset.saved = body.value; }
      else if (res) { state.textContent = state.dataset.unsaved; } // too long, or refused: say so
    };
    // Ctrl/Cmd+Enter sends.
    body.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); composer.requestSubmit(); }
    });
    // What was typed in the last second before leaving is kept too.
    window.addEventListener("pagehide", () => {
      if (body.value !== (body.dataset.saved || "") && body.value.trim() !== "") {
        clearTimeout(draftTimer);
        navigator.sendBeacon(body.dataset.draft, new URLSearchParams({ kind: kind(), body: body.value }));
      }
    });
    body.addEventListener("input", () => {
      const now = Date.now();
      if (now - lastTyping > 5000) { lastTyping = now; heartbeat("typing"); }
      clearTimeout(draftTimer);
      draftTimer = setTimeout(saveDraft, 800);
    });
    composer.addEventListener("change", (e) => { if (e.target.name === "kind") saveDraft(); });
  }

  onLive(async (ev) => {
    if (String(ev.ticket) !== id) return;
    if (ev.type === "presence") {
      presenceEl.replaceChildren(...(ev.agents || []).filter((a) => String(a.agent_id) !== me).map((a) => {
        const s = document.createElement("span");
        s.className = "who-here";
        s.dataset.agent = a.agent_id;
        s.textContent = (labels[a.state] || labels.viewing).replace("{name}", a.name);
        return s;
      }));
      return;
    }
    // Warn before a reply goes out on top of news: a customer's message, or
    // a colleague's reply (issue 9).
    const typing = body && body.value.trim() !== "";
    if (typing && ev.what === "customer") {
      banner.textContent = banner.dataset.customer;
      banner.hidden = false;
    } else if (typing && ev.what === "reply" && ev.by && String(ev.by) !== me) {
      const opt = document.querySelector(`#assignee option[value="${Number(ev.by)}"]`);
      banner.textContent = banner.dataset.reply.replace("{name}", opt ? opt.textContent : banner.dataset.colleague);
      banner.hidden = false;
    }
    try {
      const frag = await fetchFragment(`/tickets/${id}?partial=thread`);
      document.getElementById("thread").replaceChildren(frag);
    } catch (e) { console.warn("thread refresh", e); }
  });
}

// --- type-ahead look-ups ------------------------------------------------
//
// <input data-lookup="/lookup/contacts" data-lookup-into="id-of-hidden">
// offers matches as the agent types; picking one writes its label into the
// field and its id into the hidden input, and fires "lookup-pick" with the
// row. Typing again clears the id (the field no longer names that row).
// Without the script the field still submits its text, which the server
// resolves or explains.

function suggestions(input, fetchRows, onPick) {
  const box = document.createElement("ul");
  box.className = "suggest";
  box.setAttribute("role", "listbox");
  box.id = (input.id || "lookup") + "-suggest";
  box.hidden = true;
  input.after(box);
  input.setAttribute("autocomplete", "off");
  input.setAttribute("aria-controls", box.id);
  input.setAttribute("aria-autocomplete", "list");
  let rowsNow = [], active = -1, timer = null, asked = 0, swallow = false;
  // Attributes change only when their value does: typing into a field
  // with nothing to suggest leaves its element as it was.
  const expanded = (v) => { if (input.getAttribute("aria-expanded") !== v) input.setAttribute("aria-expanded", v); };
  const close = () => { if (!box.hidden) box.hidden = true; active = -1; expanded("false"); };
  const mark = () => [...box.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
  const show = (rs) => {
    rowsNow = rs;
    box.replaceChildren(...rs.map((r, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.dataset.index = i;
      const b = document.createElement("strong");
      b.textContent = r.label;
      li.append(b);
      if (r.detail) { const d = document.createElement("span"); d.textContent = r.detail; li.append(" ", d); }
      li.addEventListener("mousedown", (e) => { e.preventDefault(); onPick(r); close(); });
      return li;
    }));
    active = rs.length ? 0 : -1;
    mark();
    box.hidden = !rs.length;
    expanded(String(!box.hidden));
    // Never wider than the screen: a list that would run off the right
    // edge opens towards the left instead.
    box.style.left = ""; box.style.right = "";
    if (!box.hidden && box.getBoundingClientRect().right > document.documentElement.clientWidth) { box.style.left = "auto"; box.style.right = "0"; }
  };
  input.addEventListener("keydown", (e) => {
    if (box.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : -1) + rowsNow.length) % rowsNow.length;
      mark();
    } else if ((e.key === "Enter" || e.key === "Tab") && active >= 0 && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      e.stopPropagation();
      swallow = e.key === "Enter";
      onPick(rowsNow[active]);
      close();
    } else if (e.key === "Escape") { e.stopPropagation(); close(); }
  });
  // The Enter that picked is not also the form's Enter (some input
  // methods send its keypress even after keydown was handled).
  input.addEventListener("keypress", (e) => { if (swallow && e.key === "Enter") e.preventDefault(); });
  input.addEventListener("keyup", () => { swallow = false; });
  input.addEventListener("blur", () => setTimeout(close, 100));
  return {
    ask(q) {
      clearTimeout(timer);
      if (q === null) { close(); return; }
      timer = setTimeout(async () => {
        const n = ++asked;
        try {
          const rs = await fetchRows(q);
          if (n === asked && document.activeElement === input) show(rs);
        } catch (e) { console.warn("lookup", e); }
      }, 120);
    },
  };
}

async function lookup(url, q) {
  const res = await fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } });
  if (!res.ok) throw new Error(url + ": " + res.status);
  return res.json();
}

document.querySelectorAll("[data-lookup]").forEach((input) => {
  const into = input.dataset.lookupInto ? document.getElementById(input.dataset.lookupInto) : null;
  const insert = input.dataset.lookupInsert ? document.getElementById(input.dataset.lookupInsert) : null;
  const macroInto = input.dataset.lookupMacro ? document.getElementById(input.dataset.lookupMacro) : null;
  const s = suggestions(input, (q) => lookup(input.dataset.lookup, q), (row) => {
    if (into) { input.value = row.label; into.value = row.id; }
    if (macroInto) {
      // A macro's text, filled for this ticket, goes in at the caret; the
      // agent reads and edits it before sending. Sending applies its
      // field changes and counts it.
      const at = macroInto.selectionStart ?? macroInto.value.length;
      const before = macroInto.value.slice(0, at), after = macroInto.value.slice(at);
      macroInto.value = before + row.name + after;
      const id = document.getElementById("macro-id");
      if (id) id.value = row.id;
      input.value = "";
      macroInto.focus();
      macroInto.selectionStart = macroInto.selectionEnd = before.length + row.name.length;
      macroInto.dispatchEvent(new Event("input"));
    }
    if (insert) {
      // An article's title and link go into the text at the caret.
      const at = insert.selectionStart ?? insert.value.length;
      const text = row.label + ": " + row.name;
      const before = insert.value.slice(0, at), after = insert.value.slice(at);
      insert.value = before + (before && !before.endsWith("\n") ? "\n" : "") + text + "\n" + after;
      input.value = "";
      insert.focus();
      insert.dispatchEvent(new Event("input"));
    }
    input.dataset.picked = input.value;
    input.dispatchEvent(new CustomEvent("lookup-pick", { detail: row, bubbles: true }));
  });
  if (macroInto) input.addEventListener("focus", () => s.ask(input.value.trim()));
  input.addEventListener("input", () => {
    if (into && input.value !== input.dataset.picked) into.value = "";
    const q = input.value.trim();
    const least = input.dataset.lookupMin === undefined ? 2 : Number(input.dataset.lookupMin);
    s.ask(q.length >= least ? q : null);
  });
});

// The new-ticket form: picking a known caller fills name, phone and email.
const newTicket = document.querySelector("[data-new-ticket]");
if (newTicket) {
  newTicket.addEventListener("lookup-pick", (e) => {
    const row = e.detail;
    const set = (name, v) => { const el = newTicket.querySelector(`[name=${name}]`); if (el) el.value = v || ""; };
    set("name", row.name);
    set("phone", (row.phones || [])[0]);
    set("email", (row.emails || [])[0]);
    const known = document.getElementById("known-caller");
    if (known) { known.hidden = false; known.querySelector("a").href = "/contacts/" + row.id; known.querySelector("a").textContent = row.label; }
  });
}

// @mentions in a note: "@gi" offers colleagues; picking writes "@Full Name ".
const noteBody = document.querySelector("#composer #body");
if (noteBody) {
  const kindNow = () => (document.querySelector("#composer input[name=kind]:checked") || {}).value;
  const partial = () => {
    const upto = noteBody.value.slice(0, noteBody.selectionStart);
    const m = /(^|\s)@([\p{L}\p{N}._-]*)$/u.exec(upto);
    return m ? { q: m[2], at: upto.length - m[2].length - 1 } : null;
  };
  const s = suggestions(noteBody, (q) => lookup("/lookup/agents", q), (row) => {
    const p = partial();
    if (!p) return;
    const end = noteBody.selectionStart;
    noteBody.value = noteBody.value.slice(0, p.at) + "@" + row.label + " " + noteBody.value.slice(end);
    const caret = p.at + row.label.length + 2;
    noteBody.setSelectionRange(caret, caret);
    noteBody.dispatchEvent(new Event("input"));
  });
  noteBody.addEventListener("input", () => {
    const p = kindNow() === "note" ? partial() : null;
    s.ask(p ? p.q : null);
  });
}

// --- keyboard shortcuts ---------------------------------------------------

const help = document.getElementById("help");
document.querySelectorAll("[data-help-open]").forEach((b) => b.addEventListener("click", () => help.showModal()));

// Typing "/" at the start of a line of the composer opens the macros.
const composerBody = document.getElementById("body");
const macroField = document.getElementById("macro-q");
if (composerBody && macroField) {
  composerBody.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    const at = composerBody.selectionStart ?? 0;
    if (at === 0 || composerBody.value[at - 1] === "\n") {
      e.preventDefault();
      macroField.focus();
    }
  });
}

let lastKey = "", lastAt = 0;
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName))) {
    if (e.key === "Escape") t.blur();
    return;
  }
  const chord = lastKey === "g" && Date.now() - lastAt < 1000;
  lastKey = e.key; lastAt = Date.now();
  const focusComposer = (k) => {
    const radio = document.querySelector(`#composer input[value=${k}]`);
    if (!radio) return false;
    radio.checked = true;
    document.getElementById("body").focus();
    return true;
  };
  let handled = true;
  switch (e.key) {
    case "j": select(selected + 1); break;
    case "k": select(selected - 1); break;
    case "x": {
      const r = rows()[selected];
      const c = r && r.querySelector("[data-pick]");
      if (c) c.checked = !c.checked; else handled = false;
      break;
    }
    case "Enter": {
      const r = rows()[selected];
      if (r) location.href = r.querySelector("[data-open]").href; else handled = false;
      break;
    }
    case "r": handled = focusComposer("reply"); break;
    case "n": handled = focusComposer("note"); break;
    case "e": {
      const box = document.getElementById("escalate-box");
      if (box) { box.open = true; document.getElementById("escalate-reason").focus(); } else handled = false;
      break;
    }
    case "m": {
      const f = document.getElementById("macro-q");
      if (f) f.focus(); else handled = false;
      break;
    }
    case "a": {
      const f = document.getElementById("take");
      if (f) f.requestSubmit(); else handled = false;
      break;
    }
    case "s": {
      const s = document.getElementById("status");
      if (s) s.focus(); else handled = false;
      break;
    }
    case "i": if (chord) location.href = "/"; else handled = false; break;
    case "/": {
      const box = document.querySelector("[data-search]");
      if (box) { box.focus(); box.select(); } else handled = false;
      break;
    }
    case "?": help.open ? help.close() : help.showModal(); break;
    default: handled = false;
  }
  if (handled) e.preventDefault();
});

if (list) select(0, false);
