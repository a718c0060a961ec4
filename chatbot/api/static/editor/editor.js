// Editors' page; el(), say(), token() and api() come from the console's staff.js.
"use strict";

const TOKEN_KEY = "chatbot-editor-token";
const LANGUAGES = ["de", "en", "fr", "it", "pl", "tr", "ku"];
let pollTimer = null;

function showLogin() { $("#login").hidden = false; $("#session").hidden = true; }

async function showSession() {
  const me = await api("/api/v1/agent/me");
  $("#whoami").textContent = `${me.name} (${me.role})`;
  $("#login").hidden = true;
  $("#session").hidden = false;
}

function pairs(target, rows) {
  target.replaceChildren();
  for (const [label, value] of rows) {
    target.append(el("dt", {}, label), el("dd", {}, value == null ? "–" : String(value)));
  }
}

function jobRows(job) {
  if (!job) return [["Status", "noch kein Lauf seit dem Start des Servers"]];
  const progress = job.total ? `${job.stage} (${job.done}/${job.total})` : job.stage;
  return [["Auftrag", job.id], ["Status", job.state], ["Schritt", progress],
    ["gestartet von", job.requested_by], ["begonnen", job.started_at],
    ["beendet", job.finished_at], ["neue Version", job.version],
    ["neu berechnet / übernommen",
      job.embedded_chunks == null ? null : `${job.embedded_chunks} / ${job.reused_chunks}`],
    ["Fehler", job.error]];
}

async function loadIndex() {
  const data = await api("/api/v1/admin/index");
  const c = data.current;
  pairs($("#index-summary"), [
    ["aktuelle Version", data.current_version], ["dieser Server nutzt", data.serving_version],
    ["erstellt", c?.built_at], ["Artikel", c?.article_count],
    ["Sprachfassungen", c?.document_count], ["Abschnitte", c?.chunk_count]]);
  pairs($("#job"), jobRows(data.job));
  const errors = $("#file-errors");
  errors.replaceChildren(...data.file_errors.map((e) => el("li", {}, `${e.path}: ${e.reason}`)));
  if (!data.file_errors.length) errors.append(el("li", {}, "keine"));
  const body = $("#versions tbody");
  body.replaceChildren(...data.versions.slice().reverse().map((v) => el("tr", {},
    el("td", {}, v.version), el("td", {}, v.built_at ?? "–"),
    el("td", {}, String(v.article_count ?? "–")), el("td", {}, String(v.document_count ?? "–")),
    el("td", {}, String(v.chunk_count ?? "–")), el("td", {}, String(v.file_errors ?? "–")),
    el("td", {}, v.current ? "aktuell" : ""))));
  const running = data.job && (data.job.state === "queued" || data.job.state === "running");
  $("#reindex-button").disabled = Boolean(running);
  clearTimeout(pollTimer);
  if (running) pollTimer = setTimeout(() => refresh(false), 1000);
}

async function loadTranslations() {
  const data = await api("/api/v1/admin/translations");
  const body = $("#translation-table tbody");
  body.replaceChildren(...data.articles.map((a) => el("tr", {},
    el("td", {}, a.article_id), el("td", {}, a.department), el("td", {}, a.source_updated ?? "–"),
    ...LANGUAGES.map((lang) => el("td", {},
      a.missing.includes(lang) ? "fehlt"
        : [a.stale.includes(lang) ? "veraltet" : "",
           (a.machine_translated ?? []).includes(lang) ? "Entwurf (maschinell)" : ""]
          .filter(Boolean).join(", ") || "✓")))));
}

function gapsQuery(format) {
  const params = new URLSearchParams();
  const days = $("#gaps-days").value;
  if (days) params.set("days", days);
  if (format) params.set("format", format);
  return `/api/v1/admin/content-gaps?${params}`;
}

async function loadGaps() {
  const data = await api(gapsQuery());
  $("#gaps-summary").textContent = `${data.questions} Fragen in ${data.clusters} Gruppen`
    + (data.clusters > data.gaps.length ? ` (die ${data.gaps.length} häufigsten gezeigt)` : "")
    + (data.similarity === "exact" ? "; Suchmodell nicht geladen: nur gleiche Fragen gruppiert" : "");
  const body = $("#gaps-table tbody");
  body.replaceChildren(...data.gaps.map((g) => el("tr", {},
    el("td", {}, String(g.count)), el("td", {}, g.language),
    el("td", {}, g.department === "unknown" ? "unbekannt" : g.department),
    el("td", {}, g.representative), el("td", {}, g.examples.slice(1).join(" · ")),
    el("td", {}, String(g.escalated)), el("td", {}, String(g.negative_feedback)),
    el("td", {}, String(g.unsupported_language)),
    el("td", {}, g.nearest_article ? `${g.nearest_article.title} (${g.nearest_article.article_id})` : "–"),
    el("td", {}, g.last_seen.slice(0, 10)))));
  if (!data.gaps.length) body.append(el("tr", {}, el("td", { colspan: "10" }, "keine")));
}

// The token is a header, so a plain link cannot download the CSV: fetch it and hand
// the browser a Blob.
async function downloadGaps() {
  try {
    const response = await fetch(gapsQuery("csv"), {
      headers: { Accept: "text/csv", Authorization: `Bearer ${token()}` } });
    if (response.status === 401) { sessionStorage.removeItem(TOKEN_KEY); showLogin(); }
    if (!response.ok) throw new Error(`${response.status}: ${response.statusText}`);
    const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
    const link = el("a", { href: URL.createObjectURL(await response.blob()),
      download: name ? name[1] : "content-gaps.csv" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) { say(error.message); }
}

async function refresh(withTranslations = true) {
  // Each section on its own: an unreadable corpus must not hide the content gaps.
  const sections = withTranslations ? [loadIndex, loadTranslations, loadGaps] : [loadIndex];
  for (const load of sections) {
    try { await load(); } catch (error) { say(error.message); }
  }
}

async function reindex(event) {
  event.preventDefault();
  try {
    const job = await api("/api/v1/admin/reindex", {
      method: "POST", body: { full: $("#reindex-full").checked } });
    say(`Indexlauf ${job.id} gestartet.`, true);
  } catch (error) { say(error.message); }
  await refresh(false);
}

async function reload() {
  try {
    const result = await api("/api/v1/admin/reload", { method: "POST" });
    say(result.reloaded ? `Neu geladen: ${result.serving_version}`
      : `Unverändert: ${result.serving_version}`, true);
  } catch (error) { say(error.message); }
  await refresh(false);
}

async function boot() {
  if (!token()) { showLogin(); return; }
  try { await showSession(); } catch (error) { say(error.message); return; }
  say("");
  await refresh();
}

function start() {
  $("#reindex-form").addEventListener("submit", reindex);
  $("#reload-button").addEventListener("click", reload);
  $("#gaps-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await loadGaps(); } catch (error) { say(error.message); }
  });
  $("#gaps-csv").addEventListener("click", downloadGaps);
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
  boot();
}

document.addEventListener("DOMContentLoaded", start);
