// Agents' console; el(), say(), token() and api() come from staff.js.
"use strict";

const TOKEN_KEY = "chatbot-agent-token";
function showLogin() { $("#login").hidden = false; $("#session").hidden = true; }

async function showSession() {
  const me = await api("/api/v1/agent/me");
  $("#whoami").textContent = `${me.name} (${me.role})`;
  $("#login").hidden = true;
  $("#session").hidden = false;
}

// City time, whatever the agent's machine is set to.
function when(iso) {
  return new Date(iso).toLocaleString("de-DE", {
    dateStyle: "short", timeStyle: "short", timeZone: "Europe/Berlin",
  });
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
  const body = $("#queue tbody");
  body.replaceChildren();
  try {
    const result = await api(`/api/v1/agent/tickets?${params}`);
    $("#queue-total").textContent = `${result.total} Ticket(s)`;
    for (const t of result.items) {
      body.append(el("tr", {},
        el("td", {}, el("a", { href: `/console/tickets/${encodeURIComponent(t.reference)}` },
          t.reference)),
        el("td", {}, t.status), el("td", {}, t.department), el("td", {}, t.topic || "–"),
        el("td", {}, t.preferred_language), el("td", {}, String(t.age_hours))));
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
  const rows = [["Status", t.status], ["Fachbereich", t.department], ["Betreff", t.topic || "–"],
    ["Sprache", `${t.preferred_language} (erkannt: ${t.detected_language || "–"})`],
    ["Name", t.contact.name || "–"], ["E-Mail", t.contact.email || "–"], ["Telefon", t.contact.phone || "–"],
    ["Erstellt", when(t.created_at)], ["Alter (h)", String(t.age_hours)]];
  for (const [label, value] of rows) details.append(el("dt", {}, label), el("dd", {}, value));
  $("#ticket-message").textContent = t.message;
  const transcript = $("#ticket-transcript");
  transcript.replaceChildren();
  for (const line of t.transcript || []) {
    transcript.append(el("li", {}, el("strong", {}, `${line.role}: `), line.text));
  }
  if (!t.transcript?.length) transcript.append(el("li", {}, "kein Chat angehängt"));
  const events = $("#ticket-events");
  events.replaceChildren();
  for (const e of t.events) {
    const what = e.kind === "status" ? `${e.from_status} → ${e.to_status}`
      : e.kind === "created" ? "erstellt" : e.kind === "note" ? "Notiz"
      : e.kind === "citizen_reply" ? "Nachricht der Bürgerin / des Bürgers" : "Antwort";
    events.append(el("li", { class: e.kind }, `${when(e.at)} · ${e.actor} · ${what}`,
      e.body ? el("p", { class: "text" }, e.body) : ""));
  }
}

async function submitTicketForm(event, path, body, done) {
  event.preventDefault();
  const reference = document.body.dataset.reference;
  try {
    const t = await api(`/api/v1/agent/tickets/${encodeURIComponent(reference)}/${path}`,
      { method: "POST", body });
    renderTicket(t);
    event.target.reset();
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
  if (page === "queue") { await loadQueue(); await loadAppointments(); }
  else if (page === "ticket") await loadTicket();
}

document.addEventListener("DOMContentLoaded", start);
