// The citizens' ticket status page. The access code arrives in the URL's fragment
// (#code=...), never in a query string: browsers do not send fragments to servers, so
// it stays out of logs and Referer headers. It is moved at once from the address bar
// into this tab's sessionStorage and sent only in the X-Access-Token header.
"use strict";

(function () {
  const app = document.getElementById("status-app");
  const T = JSON.parse(document.getElementById("status-texts").textContent);
  const lang = app.dataset.lang;
  const explicitLang = app.dataset.explicitLang === "true";
  const LANGS = ["de", "en", "fr", "it", "pl", "tr", "ku"];
  const $ = (id) => document.getElementById(id);
  let reference = app.dataset.reference || "";
  let ticket = null;

  const storageKey = (ref) => `chatbot-ticket:${ref}`;
  const say = (text) => { $("status-message").textContent = text || ""; };

  function when(iso) {
    try {
      return new Intl.DateTimeFormat(lang, {
        dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Berlin",
      }).format(new Date(iso));
    } catch (_error) {
      return new Date(iso).toLocaleString();
    }
  }

  function item(className, label, iso, text) {
    const li = document.createElement("li");
    li.className = className;
    const head = document.createElement("strong");
    head.textContent = label;
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = ` · ${when(iso)}`;
    li.append(head, time);
    if (text !== undefined) {
      const body = document.createElement("p");
      body.className = "text";
      body.textContent = text;  // never HTML: what agents and citizens typed
      li.append(body);
    }
    return li;
  }

  function render(t) {
    ticket = t;
    $("ticket-status").textContent = T.statuses[t.status] || t.status;
    $("ticket-created").textContent = when(t.created_at);
    $("ticket-updated").textContent = when(t.updated_at);
    const messages = $("ticket-messages");
    messages.replaceChildren();
    for (const m of t.messages) {
      messages.append(item(m.author, m.author === "agent" ? T.from_city : T.from_you,
        m.at, m.text));
    }
    if (!t.messages.length) {
      const li = document.createElement("li");
      li.textContent = T.no_messages;
      messages.append(li);
    }
    const history = $("ticket-history");
    history.replaceChildren();
    for (const h of t.history) history.append(item("status", T.statuses[h.status] || h.status, h.at));
    $("answer-form").hidden = !t.can_answer;
    $("closed-hint").hidden = t.can_answer;
    $("lookup-form").hidden = true;
    $("ticket").hidden = false;
  }

  function showLookup(message) {
    $("ticket").hidden = true;
    $("lookup-form").hidden = false;
    say(message);
  }

  async function call(path, options) {
    const code = sessionStorage.getItem(storageKey(reference));
    const headers = { "X-Access-Token": code || "", ...(options && options.headers) };
    return fetch(path, { cache: "no-store", referrerPolicy: "no-referrer", ...options, headers });
  }

  function failure(response) {
    if (response.status === 429) return T.error_rate_limited;
    return T.error_generic;
  }

  async function load() {
    say(T.loading);
    let response;
    try {
      response = await call(`/api/v1/tickets/${encodeURIComponent(reference)}`);
    } catch (_error) { say(T.error_generic); return; }
    if (response.status === 404 || response.status === 401 || response.status === 422) {
      sessionStorage.removeItem(storageKey(reference));
      showLookup(T.not_found);
      return;
    }
    if (!response.ok) { say(failure(response)); return; }
    const t = await response.json();
    // The page speaks the ticket's language unless the citizen chose one.
    if (!explicitLang && t.preferred_language !== lang && LANGS.includes(t.preferred_language)) {
      window.location.replace(`/anliegen/${encodeURIComponent(reference)}?lang=${t.preferred_language}`);
      return;
    }
    say("");
    render(t);
  }

  async function answer(event) {
    event.preventDefault();
    const form = event.target;
    const text = form.elements.text.value.trim();
    const error = $("answer-error");
    error.textContent = "";
    if (!text) { error.textContent = T.error_empty; form.elements.text.focus(); return; }
    if (text.length > 5000) { error.textContent = T.error_too_long; return; }
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const response = await call(`/api/v1/tickets/${encodeURIComponent(reference)}/messages`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text }),
      });
      if (response.status === 201) {
        render(await response.json());
        form.reset();
        say(T.sent);
      } else if (response.status === 404) {
        showLookup(T.not_found);
      } else if (response.status === 409) {
        await load();
      } else if (response.status === 413 || response.status === 422) {
        error.textContent = T.error_too_long;
      } else {
        error.textContent = failure(response);
      }
    } catch (_error) {
      error.textContent = T.error_generic;
    } finally {
      button.disabled = false;
    }
  }

  function lookup(event) {
    event.preventDefault();
    const form = event.target;
    const ref = form.elements.reference.value.trim().toUpperCase();
    const code = form.elements.code.value.trim();
    if (!/^[A-Z0-9-]{1,32}$/.test(ref) || !code) { say(T.not_found); return; }
    sessionStorage.setItem(storageKey(ref), code);
    form.elements.code.value = "";
    if (ref === reference) { load(); return; }
    // The address names the reference only; the code stays in this tab's storage.
    window.location.assign(`/anliegen/${encodeURIComponent(ref)}?lang=${lang}`);
  }

  function start() {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    const code = fragment.get("code");
    if (window.location.hash) {
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    if (reference && code) sessionStorage.setItem(storageKey(reference), code);
    $("answer-form").addEventListener("submit", answer);
    $("lookup-form").addEventListener("submit", lookup);
    if (reference && sessionStorage.getItem(storageKey(reference))) load();
    else showLookup("");
  }

  start();
})();
