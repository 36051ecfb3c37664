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

// --- keyboard shortcuts ---------------------------------------------------

const help = document.getElementById("help");
document.querySelectorAll("[data-help-open]").forEach((b) => b.addEventListener("click", () => help.showModal()));

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
