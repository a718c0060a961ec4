// Agents' console; el(), say(), token() and api() come from staff.js.
"use strict";

const TOKEN_KEY = "chatbot-agent-token";
function showLogin() { $("#login").hidden = false; $("#session").hidden = true; }

async function showSession() {
  const me = await api("/api/v1/agent/me");
  $("#whoami").textContent = `${me.name} (${me.role})`;
  const serves = [me.departments?.join(", "), me.languages?.join(", ")].filter(Boolean);
  if ($("#queue-scope")) {
    $("#queue-scope").textContent = serves.length ? `(${serves.join("; ")} und allgemein)` : "";
  }
  if ($("#assign-form")) $("#assign-form").dataset.me = me.name;
  $("#login").hidden = true;
  $("#session").hidden = false;
}

// City time, whatever the agent's machine is set to.
function when(iso) {
  return new Date(iso).toLocaleString("de-DE", {
    dateStyle: "short", timeStyle: "short", timeZone: "Europe/Berlin",
  });
}

// "5 Min.", "3 Std.", "2 T. 4 Std.": how long a citizen has been waiting.
function age(hours) {
  if (hours < 1) return `${Math.floor(hours * 60)} Min.`;
  if (hours < 24) return `${Math.floor(hours)} Std.`;
  return `${Math.floor(hours / 24)} T. ${Math.floor(hours % 24)} Std.`;
}

const STATUS_LABELS = {
  open: "offen", in_progress: "in Bearbeitung", waiting_for_citizen: "wartet auf Bürger/in",
  resolved: "erledigt", closed: "geschlossen",
};

// --- chat transcripts as text with links --------------------------------------------
// The API sends each line as parts (chatbot/api/transcript_text.py: Markdown as plain
// text, links only to http(s) or this site's paths). Text parts become text nodes, in
// an element that keeps line breaks, so nothing a citizen typed can become markup.

function richText(parts) {
  const fragment = document.createDocumentFragment();
  for (const part of parts) {
    fragment.append(part.href
      ? el("a", { href: part.href, target: "_blank", rel: "noopener noreferrer" }, part.text)
      : part.text);
  }
  return fragment;
}

// --- queue page -------------------------------------------------------------------

async function search(event) {
  event.preventDefault();
  const list = $("#search-results");
  list.replaceChildren();
  try {
    const result = await api("/api/v1/search", {
      method: "POST", body: { query: $("#search-query").value, top_k: 5 },
    });
    for (const hit of result.hits) {
      list.append(el("li", {},
        el("a", { href: hit.url, target: "_blank", rel: "noopener" }, hit.title),
        ` (${hit.department}, ${hit.lang}, ${hit.score.toFixed(2)})`,
        el("p", { class: "text" }, hit.snippet)));
    }
    if (!result.hits.length) list.append(el("li", {}, "Keine Treffer."));
  } catch (error) { say(`Suche: ${error.message}`); }
}

async function loadQueue(event) {
  event?.preventDefault();
  const form = $("#queue-filters");
  const params = new URLSearchParams();
  for (const option of form.status.selectedOptions) params.append("status", option.value);
  for (const name of ["department", "language", "min_age_hours"]) {
    if (form[name].value) params.set(name, form[name].value);
  }
  params.set("view", form.all.checked ? "all" : "mine");
  const body = $("#queue tbody");
  body.replaceChildren();
  try {
    const result = await api(`/api/v1/agent/tickets?${params}`);
    $("#queue-total").textContent = `${result.total} Ticket(s)`;
    for (const t of result.items) {
      body.append(el("tr", { class: t.status },
        el("td", {}, el("a", { href: `/console/tickets/${encodeURIComponent(t.reference)}` },
          t.reference)),
        el("td", {}, STATUS_LABELS[t.status] || t.status), el("td", {}, t.department),
        el("td", {}, t.topic || "–"), el("td", {}, t.preferred_language),
        el("td", { title: when(t.created_at) }, age(t.age_hours)),
        el("td", {}, t.assignee || "–")));
    }
  } catch (error) { say(`Warteschlange: ${error.message}`); }
}

async function loadAppointments(event) {
  event?.preventDefault();
  const day = $("#appointments-filter").date.value;
  const body = $("#appointments tbody");
  body.replaceChildren();
  try {
    const items = await api(`/api/v1/agent/appointments${day ? `?date=${day}` : ""}`);
    for (const a of items) {
      body.append(el("tr", {}, el("td", {}, when(a.start)), el("td", {}, a.service_title),
        el("td", {}, String(a.counter_number)), el("td", {}, a.name),
        el("td", {}, a.reference)));
    }
    if (!items.length) body.append(el("tr", {}, el("td", { colspan: "5" }, "Keine Termine.")));
  } catch (error) { say(`Termine: ${error.message}`); }
}

// --- ticket page ------------------------------------------------------------------

const DEFECT_STATES = { pending: "wartet auf Weiterleitung", forwarded: "weitergeleitet",
  failed: "fehlgeschlagen", ticket: "als Ticket" };

async function loadDefects() {
  const body = $("#defects tbody");
  try {
    const items = await api("/api/v1/agent/defect-reports?limit=50");
    body.replaceChildren(...items.map((d) => el("tr", {},
      el("td", {}, d.reference),
      el("td", {}, d.category),
      el("td", {}, d.address || "(Kartenpunkt)"),
      el("td", { title: d.last_error || "" }, DEFECT_STATES[d.state] || d.state,
        d.state === "pending" && d.attempts ? ` (${d.attempts} Versuche)` : ""),
      el("td", {}, d.service_request_id || d.ticket_reference || "–"),
      el("td", { class: "remote-status" }, d.remote_status || "–"),
      el("td", {}, when(d.created_at)))));
    if (!items.length) body.append(el("tr", {}, el("td", { colspan: "7" }, "Keine Meldungen.")));
  } catch (error) { say(`Mängelmeldungen: ${error.message}`); }
}

async function loadTicket() {
  const reference = document.body.dataset.reference;
  let t;
  try {
    t = await api(`/api/v1/agent/tickets/${encodeURIComponent(reference)}`);
  } catch (error) { say(error.message); return; }
  renderTicket(t);
  await loadNotifications();
}

// Whether the citizen heard of the replies and status changes (the outbox's rows).
const MAIL_STATES = { pending: "wartet auf Versand", sent: "gesendet", failed: "fehlgeschlagen",
  skipped: "nicht gesendet" };

async function loadNotifications() {
  const reference = document.body.dataset.reference;
  const list = $("#ticket-notifications");
  let items;
  try {
    items = await api(`/api/v1/agent/tickets/${encodeURIComponent(reference)}/notifications`);
  } catch (error) { say(error.message); return; }
  list.replaceChildren();
  for (const n of items) {
    const what = n.kind === "reply" ? "Antwort" : `Status ${n.to_status}`;
    const detail = n.state === "sent" ? when(n.sent_at)
      : n.state === "pending" ? `Versuch ${n.attempts + 1} ab ${when(n.next_attempt_at)}`
        : (n.last_error || "");
    list.append(el("li", { class: `mail ${n.state}` },
      `${when(n.created_at)} · ${what} · ${MAIL_STATES[n.state] || n.state}`,
      detail ? ` (${detail})` : ""));
  }
  if (!items.length) list.append(el("li", {}, "keine"));
}

function renderTicket(t) {
  const details = $("#ticket-details");
  details.replaceChildren();
  const rows = [["Status", STATUS_LABELS[t.status] || t.status], ["Fachbereich", t.department],
    ["Betreff", t.topic || "–"], ["Bearbeitet von", t.assignee || "–"],
    ["Sprache", `${t.preferred_language} (erkannt: ${t.detected_language || "–"})`],
    ["Name", t.contact.name || "–"], ["E-Mail", t.contact.email || "–"], ["Telefon", t.contact.phone || "–"],
    ["Erstellt", when(t.created_at)], ["Alter", age(t.age_hours)]];
  for (const [label, value] of rows) details.append(el("dt", {}, label), el("dd", {}, value));
  $("#ticket-message").textContent = t.message;
  const transcript = $("#ticket-transcript");
  transcript.replaceChildren();
  for (const line of t.transcript || []) {
    const who = line.role === "citizen" ? "Bürger/in" : line.role === "assistant" ? "Chat" : line.role;
    transcript.append(el("li", { class: line.role }, el("strong", {}, `${who}: `),
      el("span", { class: "text" }, richText(line.parts))));
  }
  if (!t.transcript?.length) transcript.append(el("li", {}, "kein Chat angehängt"));
  const events = $("#ticket-events");
  events.replaceChildren();
  for (const e of t.events) {
    const what = e.kind === "status" ? `${e.from_status} → ${e.to_status}`
      : e.kind === "created" ? "erstellt" : e.kind === "note" ? "Notiz"
      : e.kind === "assigned" ? `zugewiesen: ${e.body || "niemand"}`
      : e.kind === "citizen_reply" ? "Nachricht der Bürgerin / des Bürgers" : "Antwort";
    events.append(el("li", { class: e.kind }, `${when(e.at)} · ${e.actor} · ${what}`,
      e.body && e.kind !== "assigned" ? el("p", { class: "text" }, e.body) : ""));
  }
  // The selectors show the saved state, also after a form's reset(): the current
  // value becomes the default one.
  showSaved($("#status-form").status, t.status);
  showSaved($("#assign-form").assignee, t.assignee || "");
}

function showSaved(select, value) {
  if (![...select.options].some((o) => o.value === value)) {
    select.append(el("option", { value }, value));
  }
  for (const option of select.options) option.defaultSelected = option.value === value;
  select.value = value;
}

async function loadAgents() {
  const select = $("#assign-form").assignee;
  try {
    const agents = await api("/api/v1/agent/agents");
    for (const a of agents) {
      if (![...select.options].some((o) => o.value === a.name)) {
        select.append(el("option", { value: a.name }, a.name));
      }
    }
  } catch (error) { say(`Agenten: ${error.message}`); }
}

async function submitTicketForm(event, path, body, done) {
  event.preventDefault();
  const reference = document.body.dataset.reference;
  try {
    const t = await api(`/api/v1/agent/tickets/${encodeURIComponent(reference)}/${path}`,
      { method: "POST", body });
    event.target.reset();
    renderTicket(t);
    say(done, true);
    await loadNotifications();
  } catch (error) { say(error.message); }
}

// --- start ------------------------------------------------------------------------

async function start() {
  const page = document.body.dataset.page;
  if (page === "queue") {
    $("#search-form").addEventListener("submit", search);
    $("#queue-filters").addEventListener("submit", loadQueue);
    $("#appointments-filter").addEventListener("submit", loadAppointments);
  } else if (page === "ticket") {
    $("#status-form").addEventListener("submit", (e) => submitTicketForm(e, "status",
      { status: e.target.status.value, comment: e.target.comment.value || null },
      "Status geändert."));
    $("#note-form").addEventListener("submit", (e) => submitTicketForm(e, "notes",
      { text: e.target.text.value }, "Notiz gespeichert."));
    $("#reply-form").addEventListener("submit", (e) => submitTicketForm(e, "replies",
      { text: e.target.text.value }, "Antwort gespeichert."));
    $("#assign-form").addEventListener("submit", (e) => submitTicketForm(e, "assignment",
      { assignee: e.target.assignee.value || null }, "Zuweisung gespeichert."));
    $("#assign-me").addEventListener("click", () => {
      const form = $("#assign-form");
      form.assignee.value = form.dataset.me;
      form.requestSubmit();
    });
  }
  $("#login").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
    $("#token").value = "";
    await boot();
  });
  $("#logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin();
  });
  await boot();
}

async function boot() {
  if (!token()) { showLogin(); return; }
  try { await showSession(); } catch (error) { say(error.message); return; }
  say("");
  const page = document.body.dataset.page;
  if (page === "queue") { await loadQueue(); await loadAppointments(); await loadDefects(); }
  else if (page === "ticket") { await loadAgents(); await loadTicket(); }
}

document.addEventListener("DOMContentLoaded", start);
