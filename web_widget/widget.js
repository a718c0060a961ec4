/*
 * Citizen service chat widget.
 *
 * A city page embeds it with one tag:
 *   <script src="https://chat.example/widget.js" data-lang="auto" defer></script>
 *
 * The server bundles this file with widget.css and i18n/*.json into /widget.js and
 * defines `BUILD` ({version, css, strings}) before this code. Everything lives in a
 * shadow root, so the host page's styles and the widget's do not meet, and no text
 * from the server or the citizen is ever parsed as HTML: every node is built with
 * createElement and textContent.
 */

const LANGUAGES = ["de", "en", "fr", "it", "pl", "tr", "ku"];
const ENDONYMS = {
  de: "Deutsch", en: "English", fr: "Français", it: "Italiano", pl: "Polski",
  tr: "Türkçe", ku: "Kurdî (Kurmancî)",
};
const MAX_MESSAGE_CHARS = 1000;
const SLOT_DAYS = 14;
const STATE_VERSION = 1;
const ARABIC_SCRIPT = /[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/;
const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), " +
  "select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

if (window.__citizenChatWidget) {
  return; // embedded twice: the first copy keeps the page
}

const script = document.currentScript ||
  document.querySelector("script[src*='widget.js']");
const API = new URL(script ? script.src : window.location.href).origin;
const config = {
  lang: (script && script.dataset.lang) || "auto",
  // The server's CHATBOT_PRIVACY_URL, unless the embedding page names its own notice.
  privacyUrl: (script && script.dataset.privacyUrl) || BUILD.privacyUrl,
};
const STORAGE_KEY = "citizen-chat:" + API;

// --- state ----------------------------------------------------------------------------

function initialLanguage() {
  const candidates = [];
  if (config.lang && config.lang !== "auto") candidates.push(config.lang);
  candidates.push(document.documentElement.lang || "");
  for (const lang of navigator.languages || [navigator.language || ""]) candidates.push(lang);
  for (const candidate of candidates) {
    const code = candidate.toLowerCase().split("-")[0];
    if (LANGUAGES.includes(code)) return code;
    if (code === "kmr") return "ku";
  }
  return "de";
}

function freshState(uiLang) {
  return {
    v: STATE_VERSION, conversationId: null, uiLang, langPicked: false, open: false,
    messages: [], detectedLang: null,
  };
}

function loadState() {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
    if (saved && saved.v === STATE_VERSION && Array.isArray(saved.messages)) return saved;
  } catch (error) {
    // Storage blocked or corrupt: start fresh, the chat still works for this page view.
  }
  return freshState(initialLanguage());
}

let state = loadState();

function saveState() {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
  } catch (error) {
    // Private mode or full storage: the conversation just does not survive a reload.
  }
}

function t(key, params) {
  const table = BUILD.strings[state.uiLang] || BUILD.strings.de;
  let text = table[key] !== undefined ? table[key] : BUILD.strings.de[key];
  if (text === undefined) return key;
  for (const [name, value] of Object.entries(params || {})) {
    text = text.split("{" + name + "}").join(String(value));
  }
  return text;
}

function locale() {
  return [state.uiLang === "ku" ? "ku-TR" : state.uiLang, "de-DE"];
}

// --- DOM helpers ------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

let idCounter = 0;
function uid(prefix) {
  idCounter += 1;
  return "cc-" + prefix + "-" + idCounter;
}

function safeHref(url) {
  try {
    const parsed = new URL(url, API);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return parsed.href;
    if (parsed.protocol === "tel:" || parsed.protocol === "mailto:") return parsed.href;
  } catch (error) {
    // not a URL
  }
  return null;
}

function link(text, url, extra) {
  const href = safeHref(url);
  if (!href) return document.createTextNode(text);
  const external = href.startsWith("http");
  return el("a", {
    href, target: external ? "_blank" : null, rel: external ? "noopener noreferrer" : null,
    ...(extra || {}),
  }, text);
}

function directionOf(text) {
  return ARABIC_SCRIPT.test(text) ? "rtl" : "auto";
}

// --- light Markdown, rendered to nodes (never to an HTML string) ------------------------

const INLINE = /(\*\*([^*]+)\*\*|__([^_]+)__|\[([^\]]+)\]\(([^)\s]+)\)|`([^`]+)`|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?]))/g;

function renderInline(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) fragment.append(text.slice(last, match.index));
    if (match[2] || match[3]) fragment.append(el("strong", {}, renderInline(match[2] || match[3])));
    else if (match[4]) fragment.append(link(match[4], match[5]));
    else if (match[6]) fragment.append(el("code", { text: match[6] }));
    else if (match[7] || match[8]) fragment.append(el("em", {}, renderInline(match[7] || match[8])));
    else if (match[9]) fragment.append(link(match[9], match[9]));
    last = match.index + match[0].length;
  }
  if (last < text.length) fragment.append(text.slice(last));
  return fragment;
}

function renderMarkdown(text) {
  const container = el("div", { class: "md" });
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let paragraph = [];
  let list = null;
  const flushParagraph = () => {
    if (!paragraph.length) return;
    const p = el("p");
    paragraph.forEach((line, index) => {
      if (index) p.append(el("br"));
      p.append(renderInline(line));
    });
    container.append(p);
    paragraph = [];
  };
  for (const raw of lines) {
    const line = raw.trimEnd();
    const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
    const numbered = /^\s*(\d+)[.)]\s+(.*)$/.exec(line);
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (!line.trim()) {
      flushParagraph();
      list = null;
    } else if (bullet || numbered) {
      flushParagraph();
      const tag = bullet ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = el(tag);
        if (numbered && numbered[1] !== "1") list.setAttribute("start", numbered[1]);
        container.append(list);
      }
      list.append(el("li", {}, renderInline(bullet ? bullet[1] : numbered[2])));
    } else if (heading) {
      flushParagraph();
      list = null;
      container.append(el("p", { class: "heading" }, el("strong", {}, renderInline(heading[1]))));
    } else {
      list = null;
      paragraph.push(line);
    }
  }
  flushParagraph();
  return container;
}

// --- API --------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, detail, { problem, retryAfter } = {}) {
    super(typeof detail === "string" ? detail : "HTTP " + status);
    this.status = status;
    this.detail = detail;
    // The last part of an RFC 9457 problem type, e.g. "rate-limited"; "" otherwise.
    this.problem = problem || "";
    this.retryAfter = retryAfter || 0;
  }
}

const PROBLEM_PREFIX = "urn:citizen-chatbot:problem:";

async function api(path, options) {
  const init = { method: "GET", headers: {}, ...(options || {}) };
  if (init.json !== undefined) {
    init.method = init.method === "GET" ? "POST" : init.method;
    init.headers = { "Content-Type": "application/json", ...init.headers };
    init.body = JSON.stringify(init.json);
    delete init.json;
  }
  let response;
  try {
    response = await fetch(API + path, { ...init, credentials: "omit", mode: "cors" });
  } catch (error) {
    throw new ApiError(0, null);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (!response.ok) {
    const type = body && typeof body.type === "string" ? body.type : "";
    throw new ApiError(response.status, body && body.detail, {
      problem: type.startsWith(PROBLEM_PREFIX) ? type.slice(PROBLEM_PREFIX.length) : "",
      retryAfter: Number(response.headers.get("Retry-After")) || 0,
    });
  }
  return body;
}

function idempotencyKey() {
  if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
  return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
}

function errorText(error) {
  if (error.status === 0) return t("error_network");
  if (error.status === 503 || error.status === 502 || error.status === 504) {
    return t("error_unavailable");
  }
  if (error.status === 404) return t("error_expired");
  if (error.problem === "rate-limited") {
    return t("error_rate_limited", { minutes: Math.max(1, Math.ceil(error.retryAfter / 60)) });
  }
  if (error.status === 429) return t("error_busy");
  if (error.problem === "conversation-too-long") return t("error_conversation_full");
  if (error.status === 413) return t("error_too_large");
  return t("error_generic");
}

// --- the widget's DOM -------------------------------------------------------------------

const host = document.createElement("citizen-chat-widget");
host.setAttribute("data-version", BUILD.version);
const root = host.attachShadow({ mode: "open" });
if ("adoptedStyleSheets" in root && window.CSSStyleSheet &&
    "replaceSync" in CSSStyleSheet.prototype) {
  // A constructed sheet is not an inline <style>, so a strict CSP on the host page
  // (style-src without 'unsafe-inline') does not strip the widget's look.
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(BUILD.css);
  root.adoptedStyleSheets = [sheet];
} else {
  root.append(el("style", { text: BUILD.css }));
}

const ui = {};

function buildSkeleton() {
  ui.launcher = el("button", {
    type: "button", class: "launcher", "aria-haspopup": "dialog", "aria-expanded": "false",
    "aria-controls": "cc-panel", onclick: () => (state.open ? closePanel() : openPanel()),
  });
  ui.launcherIcon = el("span", { class: "launcher-icon", "aria-hidden": "true" }, icon("chat", 24));
  // The visible text starts the accessible name (WCAG 2.5.3), the rest says what it does.
  ui.launcherLabel = el("span", { class: "launcher-label" });
  ui.launcherHint = el("span", { class: "visually-hidden" });
  ui.launcher.append(ui.launcherIcon, ui.launcherLabel, ui.launcherHint);

  ui.title = el("h2", { id: "cc-title", class: "title" });
  ui.subtitle = el("p", { class: "subtitle", id: "cc-subtitle" });
  ui.langLabel = el("label", { for: "cc-lang", class: "visually-hidden" });
  ui.langSelect = el("select", { id: "cc-lang", class: "lang", onchange: onLanguagePicked });
  for (const code of LANGUAGES) {
    ui.langSelect.append(el("option", { value: code, lang: code, text: ENDONYMS[code] }));
  }
  ui.restart = el("button", { type: "button", class: "icon-button restart", onclick: restart });
  ui.close = el("button", { type: "button", class: "icon-button close", onclick: closePanel });
  ui.restartLabel = el("span", { class: "visually-hidden" });
  ui.closeLabel = el("span", { class: "visually-hidden" });
  ui.restart.append(el("span", { "aria-hidden": "true", text: "↺" }), ui.restartLabel);
  ui.close.append(el("span", { "aria-hidden": "true", text: "×" }), ui.closeLabel);

  ui.banner = el("div", { class: "banner", id: "cc-hotline", hidden: true });
  // The live region wraps the list, so the turns keep their list semantics.
  ui.list = el("ol", { class: "messages" });
  ui.log = el("div", {
    class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    id: "cc-log", tabindex: "0",
  }, ui.list);
  ui.typing = el("div", { class: "typing", role: "status", hidden: true });
  ui.typingText = el("span", { class: "visually-hidden" });
  ui.typing.append(el("span", { class: "dots", "aria-hidden": "true" },
    el("span"), el("span"), el("span")), ui.typingText);
  ui.status = el("p", { class: "status-line", role: "status", "aria-live": "polite" });

  ui.input = el("textarea", {
    id: "cc-input", rows: "2", maxlength: String(MAX_MESSAGE_CHARS), autocomplete: "off",
    "aria-describedby": "cc-input-hint cc-input-error",
  });
  ui.inputLabel = el("label", { for: "cc-input", class: "visually-hidden" });
  ui.inputHint = el("p", { id: "cc-input-hint", class: "hint" });
  ui.inputError = el("p", { id: "cc-input-error", class: "error", role: "alert" });
  ui.send = el("button", { type: "submit", class: "send" });
  ui.form = el("form", { class: "composer", novalidate: true, onsubmit: onSend },
    ui.inputLabel, el("div", { class: "composer-row" }, ui.input, ui.send),
    ui.inputError, ui.inputHint);
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });

  ui.panel = el("div", {
    class: "panel", id: "cc-panel", role: "dialog", "aria-modal": "true",
    "aria-labelledby": "cc-title", "aria-describedby": "cc-subtitle", hidden: true,
  },
  el("div", { class: "header" },
    el("div", { class: "heading-block" }, ui.title, ui.subtitle),
    el("div", { class: "header-controls" }, ui.langLabel, ui.langSelect, ui.restart, ui.close)),
  ui.banner, ui.log, ui.typing, ui.status, ui.form);
  ui.panel.addEventListener("keydown", onPanelKeydown);

  // All seven UI languages run left to right; right-to-left messages set their own dir.
  root.append(el("div", { class: "widget", dir: "ltr" }, ui.panel, ui.launcher));
}

// Drawn, not emoji or icon fonts: many kiosk and office machines have neither.
const ICONS = {
  chat: "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z" +
    "m3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z",
  thumb: "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6" +
    "C6.2 7.9 6 8.4 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z",
};

function icon(name, size, { rotate } = {}) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [attr, value] of Object.entries({
    viewBox: "0 0 24 24", width: size, height: size, "aria-hidden": "true", focusable: "false",
  })) svg.setAttribute(attr, String(value));
  if (rotate) svg.setAttribute("transform", "rotate(" + rotate + ")");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

function applyStrings() {
  ui.panel.setAttribute("lang", state.uiLang);
  ui.launcher.setAttribute("lang", state.uiLang);
  ui.launcherLabel.textContent = t("launcher");
  ui.launcherHint.textContent = " " + t("launcher_label");
  ui.title.textContent = t("title");
  ui.subtitle.textContent = t("subtitle");
  ui.langLabel.textContent = t("language");
  ui.langSelect.value = state.uiLang;
  ui.restartLabel.textContent = t("restart");
  ui.restart.title = t("restart");
  ui.closeLabel.textContent = t("close");
  ui.close.title = t("close");
  ui.log.setAttribute("aria-label", t("conversation"));
  ui.typingText.textContent = t("typing");
  ui.inputLabel.textContent = t("input_label");
  ui.input.placeholder = t("input_placeholder");
  ui.inputHint.textContent = t("privacy_hint");
  ui.send.textContent = t("send");
}

// --- messages ---------------------------------------------------------------------------

function renderAll() {
  ui.list.replaceChildren();
  renderWelcome();
  state.messages.forEach((message, index) => ui.list.append(renderMessage(message, index)));
}

function renderWelcome() {
  const item = el("li", { class: "msg bot welcome" },
    el("span", { class: "visually-hidden", text: t("assistant") + ": " }),
    renderMarkdown(t("welcome")));
  ui.list.append(item);
}

function renderMessage(message, index) {
  if (message.role === "citizen") {
    const item = el("li", { class: "msg citizen", dir: directionOf(message.text) },
      el("span", { class: "visually-hidden", text: t("you") + ": " }),
      el("p", { class: "plain", text: message.text }));
    if (ARABIC_SCRIPT.test(message.text)) item.classList.add("rtl");
    return item;
  }
  const lang = message.lang || state.uiLang;
  const item = el("li", {
    class: "msg bot " + (message.type || ""), lang, dir: directionOf(message.text),
    "data-type": message.type || "",
  }, el("span", { class: "visually-hidden", text: t("assistant") + ": " }),
  renderMarkdown(message.text));
  if (message.type === "answer" || message.type === "clarify" || message.type === "escalate") {
    const linked = new Set(Array.from(item.querySelectorAll("a")).map((a) => a.href));
    const sources = (message.sources || []).filter((s) => !linked.has(safeHref(s.url)));
    if (sources.length && message.type !== "clarify") {
      const label = message.type === "answer" ? t("sources") : t("related");
      item.append(el("p", { class: "sources" }, label + ": ",
        ...sources.flatMap((s, i) => [i ? ", " : "", link(s.title, s.url, { class: "source" })])));
    }
  }
  if (message.type === "clarify" && (message.choices || []).length) {
    const group = el("div", { class: "choices", role: "group", "aria-label": t("choices") });
    for (const choice of message.choices) {
      group.append(el("button", {
        type: "button", class: "choice", disabled: index !== state.messages.length - 1,
        onclick: () => sendMessage(choice.title, { lang: message.lang }),
      }, choice.title));
    }
    item.append(group);
  }
  if (message.type === "answer" && message.turn) item.append(renderFeedback(message));
  // An answer carries actions only when the service was not sure of it.
  const unsureAnswer = message.type === "answer" && (message.actions || []).length > 0;
  if (message.type === "escalate" || message.type === "unsupported_language" ||
      message.offerTicket || unsureAnswer) {
    item.append(renderActions(message, index));
  }
  return item;
}

function renderFeedback(message) {
  const box = el("div", { class: "feedback" });
  if (message.feedback !== undefined && message.feedback !== null) {
    box.append(el("p", { class: "thanks", text: t("feedback_thanks") }));
    return box;
  }
  const question = el("span", { class: "feedback-question", text: t("feedback_question") });
  box.append(question, ...[[true, "helpful", 0], [false, "not_helpful", 180]].map(
    ([helpful, label, rotate]) => el("button", {
      type: "button", class: "thumb " + (helpful ? "up" : "down"),
      onclick: () => sendFeedback(message, helpful),
    }, icon("thumb", 18, { rotate }), el("span", { class: "visually-hidden", text: t(label) }))));
  return box;
}

async function sendFeedback(message, helpful) {
  try {
    await api("/api/v1/chat/feedback", {
      json: { conversation_id: message.conversationId, turn: message.turn, helpful },
    });
  } catch (error) {
    announce(errorText(error));
    return;
  }
  message.feedback = helpful;
  if (!helpful) message.offerTicket = true;
  saveState();
  rerenderMessage(message);
  announce(t("feedback_thanks"));
}

function rerenderMessage(message) {
  const index = state.messages.indexOf(message);
  const old = ui.list.children[index + 1]; // +1: the welcome message
  if (!old) return;
  const fresh = renderMessage(message, index);
  old.replaceWith(fresh);
  const target = fresh.querySelector("button:not([disabled]), a, input") || ui.input;
  target.focus();
}

// What each reply action's button says and opens.
const ACTION_BUTTONS = {
  ticket: { label: "action_ticket", open: openTicketForm },
  appointment: { label: "action_appointment", open: openAppointmentForm, secondary: true },
  case_status: { label: "action_case_status", open: openCaseStatusForm },
  defect_report: { label: "action_defect_report", open: openDefectForm },
  defect_status: { label: "action_defect_status", open: showDefectStatus },
};

function renderActions(message, index) {
  const box = el("div", { class: "actions" });
  if (message.done) {
    box.append(renderConfirmation(message.done));
    return box;
  }
  const actions = message.actions && message.actions.length
    ? message.actions : [{ kind: "ticket", department: null, topic: null }];
  const isLast = index === state.messages.length - 1;
  for (const action of actions) {
    const button = ACTION_BUTTONS[action.kind];
    if (!button) continue;
    box.append(el("button", {
      type: "button", class: button.secondary ? "action secondary" : "action",
      // A ticket stays on offer under an earlier answer that offered it.
      disabled: !isLast && !(action.kind === "ticket" && message.offerTicket),
      onclick: (event) => button.open(message, action, event.currentTarget),
    }, t(button.label)));
  }
  return box;
}

function renderConfirmation(done) {
  const box = el("div", { class: "confirmation", role: "status" });
  if (done.kind === "ticket") {
    box.append(el("p", {}, t("ticket_done"), " ", el("strong", { class: "reference", text: done.reference })));
    box.append(el("p", { class: "hint", text: t("ticket_done_hint") }));
    if (done.link) {
      box.append(el("p", {}, link(t("ticket_link"), done.link, { class: "status-link" })));
      box.append(el("p", { class: "hint", text: t("ticket_link_hint") }));
    }
  } else if (done.kind === "defect") {
    box.append(el("p", {}, done.text, " ", el("strong", { class: "reference", text: done.reference })));
    box.append(el("p", { class: "hint", text: t("defect_done_hint") }));
  } else {
    box.append(el("p", {}, t("appointment_done", { when: done.when }), " ",
      el("strong", { class: "reference", text: done.reference })));
    box.append(el("p", {}, link(t("ics"), done.icsUrl, { class: "ics", download: "termin.ics" })));
  }
  return box;
}

function appendMessage(message) {
  state.messages.push(message);
  saveState();
  // Clarify buttons and escalation actions belong to the newest reply only.
  const previous = ui.list.lastElementChild;
  if (previous && state.messages.length > 1) {
    previous.querySelectorAll(".choice, .action").forEach((button) => {
      const holder = button.closest(".msg");
      if (holder && !holder.querySelector("form")) button.disabled = true;
    });
  }
  const node = renderMessage(message, state.messages.length - 1);
  ui.list.append(node);
  node.scrollIntoView({ block: "nearest" });
  return node;
}

function announce(text) {
  ui.status.textContent = "";
  // A separate tick, so screen readers hear the same text twice in a row too.
  window.setTimeout(() => { ui.status.textContent = text; }, 50);
}

// --- sending ------------------------------------------------------------------------------

let sending = false;

async function onSend(event) {
  event.preventDefault();
  const text = ui.input.value.trim();
  ui.inputError.textContent = "";
  ui.input.removeAttribute("aria-invalid");
  if (!text) {
    ui.inputError.textContent = t("error_empty");
    ui.input.setAttribute("aria-invalid", "true");
    ui.input.focus();
    return;
  }
  if (text.length > MAX_MESSAGE_CHARS) {
    ui.inputError.textContent = t("error_too_long", { max: MAX_MESSAGE_CHARS });
    ui.input.setAttribute("aria-invalid", "true");
    return;
  }
  await sendMessage(text, {});
}

async function sendMessage(text, { lang }) {
  if (sending) return;
  sending = true;
  ui.send.disabled = true;
  const draft = ui.input.value;
  ui.input.value = "";
  appendMessage({ role: "citizen", text });
  ui.typing.hidden = false;
  const body = { message: text, conversation_id: state.conversationId };
  const chosen = lang || (state.langPicked ? state.uiLang : null);
  if (chosen) body.lang = chosen;
  try {
    const reply = await api("/api/v1/chat", { json: body });
    state.conversationId = reply.conversation_id;
    state.detectedLang = reply.language.code;
    // The UI follows the language the citizen writes in, unless they picked one.
    if (reply.language.supported && !state.langPicked && reply.language.code !== state.uiLang &&
        LANGUAGES.includes(reply.language.code)) {
      state.uiLang = reply.language.code;
      applyStrings();
      refreshHotline();
    }
    appendMessage({
      role: "bot", conversationId: reply.conversation_id, turn: reply.turn,
      type: reply.type, text: reply.text, sources: reply.sources || [],
      choices: reply.choices || [], actions: reply.actions || [],
      lang: reply.language.supported ? reply.language.code : "de",
    });
  } catch (error) {
    // Nothing is lost: the citizen's text goes back into the box to send again.
    state.messages.pop();
    saveState();
    ui.list.lastElementChild.remove();
    ui.input.value = draft || text;
    ui.inputError.textContent = errorText(error);
    // An unknown or full conversation: the next message starts a new one.
    if (error.status === 404 || error.problem === "conversation-too-long") {
      state.conversationId = null;
      saveState();
    }
  } finally {
    ui.typing.hidden = true;
    ui.send.disabled = false;
    sending = false;
    ui.input.focus();
  }
}

// --- escalation: ticket form ----------------------------------------------------------------

function field(label, input, options) {
  const id = uid("f");
  input.id = id;
  const errorId = id + "-error";
  const hintId = options && options.hint ? id + "-hint" : null;
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  const wrapper = el("div", { class: "field" },
    el("label", { for: id }, label, options && options.optional
      ? el("span", { class: "optional", text: " " + t("optional") }) : null),
    hintId ? el("p", { class: "hint", id: hintId, text: options.hint }) : null,
    input, el("p", { class: "error", id: errorId }));
  return wrapper;
}

function consentField() {
  const id = uid("consent");
  const box = el("input", { type: "checkbox", id, name: "consent", "aria-describedby": id + "-error" });
  return el("div", { class: "field consent" },
    el("div", { class: "check" }, box,
      el("label", { for: id }, t("consent"), " ",
        link(t("privacy_link"), config.privacyUrl, { class: "privacy" }))),
    el("p", { class: "error", id: id + "-error" }));
}

function setFieldError(form, name, message) {
  const input = form.elements[name];
  // Radio groups come back as a RadioNodeList; their error sits under the fieldset.
  if (!(input instanceof Element)) return;
  const error = ui.panel.querySelector("#" + input.id + "-error");
  if (error) error.textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function clearErrors(form) {
  for (const input of form.elements) {
    if (input.name) setFieldError(form, input.name, "");
  }
  const summary = form.querySelector(".form-error");
  if (summary) summary.textContent = "";
}

function firstInvalid(form) {
  return form.querySelector("[aria-invalid='true']");
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ()/.-]{5,}$/;

function validateContact(form, { required }) {
  const email = form.elements.email.value.trim();
  const phone = form.elements.phone.value.trim();
  if (email && !EMAIL.test(email)) setFieldError(form, "email", t("invalid_email"));
  if (phone && !PHONE.test(phone)) setFieldError(form, "phone", t("invalid_phone"));
  if (required && !email && !phone) {
    setFieldError(form, "email", t("contact_required"));
    setFieldError(form, "phone", t("contact_required"));
  }
  const contact = {};
  if (email) contact.email = email;
  if (phone) contact.phone = phone;
  return contact;
}

function serverErrors(form, error) {
  // 422 details name the field: show the message next to it, in the citizen's language.
  const fields = { email: "invalid_email", phone: "invalid_phone", contact: "contact_required",
    message: "error_empty", name: "name_required", consent: "consent_required" };
  if (error.status === 422 && Array.isArray(error.detail)) {
    for (const item of error.detail) {
      const loc = (item.loc || []).filter((part) => typeof part === "string");
      const name = loc[loc.length - 1] === "contact" ? "email" : loc[loc.length - 1];
      if (fields[name] || name === "contact") setFieldError(form, name, t(fields[name] || "contact_required"));
    }
    if (firstInvalid(form)) return;
  }
  const conflict = error.status === 409 ? conflictKey(form, error) : null;
  form.querySelector(".form-error").textContent = conflict ? t(conflict) : errorText(error);
}

function conflictKey(form, error) {
  // A 409 on a form is the per-contact cap (problem type contact-limit) or, when
  // booking, a slot taken meanwhile; anything else is shown as the server words it.
  const ticketForm = form.classList.contains("ticket-form");
  if (error.problem === "contact-limit") return ticketForm ? "ticket_limit" : "appointment_limit";
  return ticketForm ? null : "slot_taken";
}

// Below the server's default CHATBOT_MAX_TRANSCRIPT_CHARS (100,000): the newest lines.
const MAX_TRANSCRIPT_CHARS = 50000;

function transcript() {
  const lines = [];
  let total = 0;
  for (const m of state.messages.slice(-40).reverse()) {
    const text = m.text.slice(0, 4000);
    if (total + text.length > MAX_TRANSCRIPT_CHARS) break;
    total += text.length;
    lines.unshift({ role: m.role === "citizen" ? "citizen" : "assistant", text });
  }
  return lines;
}

function cancelButton(form, opener) {
  return el("button", { type: "button", class: "link-button", onclick: () => closeForm(form, opener) },
    t("cancel"));
}

function closeForm(form, opener) {
  form.remove();
  if (opener && opener.isConnected) opener.focus();
  else ui.input.focus();
}

/** The reply's form already open under `opener` gets the focus again; otherwise null. */
function focusOpenForm(opener) {
  const existing = opener.closest(".msg").querySelector("form");
  const target = existing && existing.querySelector("input, select, textarea");
  if (target) target.focus();
  return existing;
}

function contactFields({ nameOptional, contactHint }) {
  return [
    field(t("name"), el("input", { type: "text", name: "name", autocomplete: "name", maxlength: "200" }),
      { optional: nameOptional }),
    field(t("email"), el("input", { type: "email", name: "email", autocomplete: "email", maxlength: "254" }),
      contactHint ? { hint: t("contact_hint") } : { optional: true }),
    field(t("phone"), el("input", { type: "tel", name: "phone", autocomplete: "tel", maxlength: "32" }),
      contactHint ? {} : { optional: true }),
  ];
}

function openTicketForm(message, action, opener) {
  if (focusOpenForm(opener)) return;
  const holder = opener.closest(".msg");
  // The question that escalated (the reply names it); the transcript goes along anyway.
  const asked = state.messages.filter((m) => m.role === "citizen");
  const question = action.message || (asked.length ? asked[asked.length - 1].text : "");
  const headingId = uid("ticket");
  const form = el("form", { class: "inline-form ticket-form", novalidate: true, "aria-labelledby": headingId });
  form.append(
    el("h3", { id: headingId, text: t("ticket_title") }),
    el("p", { class: "hint", text: t("ticket_intro") }),
    ...contactFields({ nameOptional: true, contactHint: true }),
    field(t("message"), el("textarea", { name: "message", rows: "4", maxlength: "5000" })),
    consentField(),
    el("p", { class: "error form-error", role: "alert" }),
    el("div", { class: "form-buttons" },
      el("button", { type: "submit", class: "action" }, t("submit_ticket")),
      cancelButton(form, opener)),
  );
  form.elements.message.value = question;
  const key = idempotencyKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const contact = validateContact(form, { required: true });
    const text = form.elements.message.value.trim();
    if (!text) setFieldError(form, "message", t("error_empty"));
    if (!form.elements.consent.checked) setFieldError(form, "consent", t("consent_required"));
    if (firstInvalid(form)) {
      firstInvalid(form).focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const name = form.elements.name.value.trim();
    const body = {
      message: text, contact, consent: true, preferred_language: state.uiLang,
      department: action.department || null, topic: action.topic || null,
      conversation_id: state.conversationId, transcript: transcript(),
      detected_language: state.detectedLang,
    };
    if (name) body.name = name;
    try {
      const created = await api("/api/v1/tickets", { json: body, headers: { "Idempotency-Key": key } });
      // The status page's link carries the access code in its fragment (#code=...).
      message.done = { kind: "ticket", reference: created.reference, link: created.status_page_url };
      message.offerTicket = false;
      saveState();
      rerenderMessage(message);
      announce(t("ticket_done") + " " + created.reference);
    } catch (error) {
      submit.disabled = false;
      serverErrors(form, error);
      (firstInvalid(form) || submit).focus();
    }
  });
  holder.append(form);
  form.querySelector("input").focus();
}

// --- case status: application number + date of birth -> the department's answer -------------

function openCaseStatusForm(message, action, opener) {
  if (focusOpenForm(opener)) return;
  const holder = opener.closest(".msg");
  const headingId = uid("casestatus");
  const form = el("form", { class: "inline-form case-status-form", novalidate: true, "aria-labelledby": headingId });
  const answer = el("p", { class: "case-status-answer", role: "status" });
  form.append(
    el("h3", { id: headingId, text: t("case_status_title") }),
    field(t("application_number"), el("input", { type: "text", name: "application_number",
      autocomplete: "off", maxlength: "60" })),
    field(t("date_of_birth"), el("input", { type: "text", name: "date_of_birth", autocomplete: "bday",
      inputmode: "numeric", maxlength: "10", placeholder: t("date_of_birth_placeholder") }),
    { hint: t("date_of_birth_hint") }),
    el("p", { class: "error form-error", role: "alert" }),
    answer,
    el("div", { class: "form-buttons" },
      el("button", { type: "submit", class: "action" }, t("submit_case_status")),
      cancelButton(form, opener)),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    answer.textContent = "";
    const number = form.elements.application_number.value.trim();
    const birth = form.elements.date_of_birth.value.trim();
    if (!number) setFieldError(form, "application_number", t("application_number_required"));
    if (!/^(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{1,2}-\d{1,2})$/.test(birth)) {
      setFieldError(form, "date_of_birth", t("date_of_birth_invalid"));
    }
    if (firstInvalid(form)) {
      firstInvalid(form).focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const result = await api(action.href || "/api/v1/case-status", {
        json: { application_number: number, date_of_birth: birth, lang: state.uiLang },
      });
      answer.textContent = result.text;
      announce(result.text);
    } catch (error) {
      const fields = { application_number: "application_number_required", date_of_birth: "date_of_birth_invalid" };
      if (error.status === 422 && Array.isArray(error.detail)) {
        for (const item of error.detail) {
          const loc = (item.loc || []).filter((part) => typeof part === "string");
          const name = loc[loc.length - 1];
          if (fields[name]) setFieldError(form, name, t(fields[name]));
        }
      }
      if (!firstInvalid(form)) form.querySelector(".form-error").textContent = errorText(error);
    } finally {
      submit.disabled = false;
    }
  });
  holder.append(form);
  form.querySelector("input").focus();
}

// --- defect reports: category, location, description, e-mail, photo -> the utilities -------

const REPORTS_KEY = STORAGE_KEY + ":defect-reports";
const MAX_STORED_REPORTS = 20;

/** Reports sent from this browser ({reference, token, requestId}), for status questions. */
function storedReports() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(REPORTS_KEY) || "[]");
    return Array.isArray(saved) ? saved : [];
  } catch (error) {
    return [];
  }
}

function storeReport(report) {
  const reports = [report, ...storedReports()].slice(0, MAX_STORED_REPORTS);
  try {
    window.localStorage.setItem(REPORTS_KEY, JSON.stringify(reports));
  } catch (error) {
    // Storage blocked: the number is still shown; only the status look-up is lost.
  }
}

function readPhoto(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// --- map picker: a grid of XYZ tiles in Web Mercator, no library ------------------------

const TILE = 256;
const PAN_STEP = TILE / 2;

/** lat/lon -> pixel coordinates of the whole world at this zoom level. */
function mercatorPixels(lat, lon, zoom) {
  const size = TILE * Math.pow(2, zoom);
  const sin = Math.sin(lat * Math.PI / 180);
  return { x: (lon + 180) / 360 * size,
           y: (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * size };
}

function mercatorLatLon(x, y, zoom) {
  const size = TILE * Math.pow(2, zoom);
  return { lat: Math.atan(Math.sinh(Math.PI * (1 - 2 * y / size))) * 180 / Math.PI,
           lon: x / size * 360 - 180 };
}

/** The map of the defect form: tiles around a centre, arrows and +/- to move, a click or
 * tap (or Enter on the focused map: its centre) chooses the point. */
function mapPicker(map, onChange) {
  let zoom = map.zoom;
  let center = { lat: map.lat, lon: map.lon };
  let point = null;
  const tiles = el("div", { class: "map-tiles" });
  const marker = el("div", { class: "map-marker", hidden: true });
  const view = el("div", { class: "map-view", tabindex: "0", role: "button", "aria-label": t("defect_map") },
    tiles, marker, el("div", { class: "map-crosshair", "aria-hidden": "true" }));
  const chosen = el("span", { class: "map-chosen", role: "status" });
  const remove = el("button", { type: "button", class: "link-button map-remove", hidden: true,
    onclick: () => setPoint(null) }, t("map_point_remove"));
  const button = (label, text, onclick) => el("button", { type: "button", class: "map-button",
    "aria-label": label, title: label, onclick }, text);
  const pan = (dx, dy) => {
    const c = mercatorPixels(center.lat, center.lon, zoom);
    center = mercatorLatLon(c.x + dx, c.y + dy, zoom);
    render();
  };
  const zoomBy = (delta) => {
    zoom = Math.min(19, Math.max(1, zoom + delta));
    render();
  };
  const controls = el("div", { class: "map-controls" },
    button(t("map_north"), "↑", () => pan(0, -PAN_STEP)),
    button(t("map_south"), "↓", () => pan(0, PAN_STEP)),
    button(t("map_west"), "←", () => pan(-PAN_STEP, 0)),
    button(t("map_east"), "→", () => pan(PAN_STEP, 0)),
    button(t("map_zoom_in"), "+", () => zoomBy(1)),
    button(t("map_zoom_out"), "−", () => zoomBy(-1)));

  function setPoint(latLon) {
    point = latLon;
    chosen.textContent = point ? t("map_point_chosen", { lat: point.lat.toFixed(5), lon: point.lon.toFixed(5) }) : "";
    remove.hidden = !point;
    onChange(point);
    render();
  }

  function render() {
    const width = view.clientWidth || TILE;
    const height = view.clientHeight || TILE;
    const c = mercatorPixels(center.lat, center.lon, zoom);
    const left = c.x - width / 2;
    const top = c.y - height / 2;
    const count = Math.pow(2, zoom);
    tiles.replaceChildren();
    for (let ty = Math.floor(top / TILE); ty <= Math.floor((top + height) / TILE); ty++) {
      if (ty < 0 || ty >= count) continue;
      for (let tx = Math.floor(left / TILE); tx <= Math.floor((left + width) / TILE); tx++) {
        const x = ((tx % count) + count) % count;
        const src = map.tile_url.replace("{z}", zoom).replace("{x}", x).replace("{y}", ty);
        const img = el("img", { src, alt: "", draggable: "false", width: TILE, height: TILE,
          "data-tile": zoom + "/" + x + "/" + ty });
        tiles.append(img);
        img.style.left = (tx * TILE - left) + "px";
        img.style.top = (ty * TILE - top) + "px";
      }
    }
    marker.hidden = !point;
    if (point) {
      const p = mercatorPixels(point.lat, point.lon, zoom);
      marker.style.left = (p.x - left) + "px";
      marker.style.top = (p.y - top) + "px";
    }
  }

  const pick = (offsetX, offsetY) => {
    const c = mercatorPixels(center.lat, center.lon, zoom);
    setPoint(mercatorLatLon(c.x - view.clientWidth / 2 + offsetX,
                            c.y - view.clientHeight / 2 + offsetY, zoom));
  };
  view.addEventListener("click", (event) => {
    const rect = view.getBoundingClientRect();
    pick(event.clientX - rect.left - view.clientLeft, event.clientY - rect.top - view.clientTop);
  });
  view.addEventListener("keydown", (event) => {
    const moves = { ArrowUp: [0, -PAN_STEP], ArrowDown: [0, PAN_STEP], ArrowLeft: [-PAN_STEP, 0],
      ArrowRight: [PAN_STEP, 0] };
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      pick(view.clientWidth / 2, view.clientHeight / 2);
    } else if (moves[event.key]) {
      event.preventDefault();
      pan(...moves[event.key]);
    } else if (event.key === "+" || event.key === "-") {
      event.preventDefault();
      zoomBy(event.key === "+" ? 1 : -1);
    }
  });
  const box = el("div", { class: "field map-field" },
    el("p", { class: "hint", text: t("defect_map") }), view, controls,
    map.attribution ? el("p", { class: "map-attribution", text: map.attribution }) : null,
    el("p", { class: "map-point" }, chosen, " ", remove));
  // Laid out only once in the document: draw then (and again when the form's width changes).
  if (window.ResizeObserver) new ResizeObserver(() => render()).observe(view);
  requestAnimationFrame(render);
  return box;
}

async function openDefectForm(message, action, opener) {
  if (focusOpenForm(opener)) return;
  const holder = opener.closest(".msg");
  const headingId = uid("defect");
  const form = el("form", { class: "inline-form defect-form", novalidate: true, "aria-labelledby": headingId });
  const loading = el("p", { class: "hint", role: "status", text: t("loading") });
  form.append(el("h3", { id: headingId, text: t("defect_title") }), loading);
  holder.append(form);
  let services;
  try {
    services = await api((action.services || "/api/v1/defect-reports/services") +
      "?lang=" + encodeURIComponent(state.uiLang));
  } catch (error) {
    loading.textContent = errorText(error);
    form.append(cancelButton(form, opener));
    return;
  }
  loading.remove();
  let point = null;  // {lat, lon} from the map, if the city has one and it was used
  const category = el("select", { name: "category" },
    el("option", { value: "", text: t("defect_category_choose") }),
    ...services.categories.map((c) => el("option", { value: c.code, text: c.name })));
  const max = services.photo_max_bytes;
  const size = max >= 1024 * 1024 ? (max / (1024 * 1024)).toFixed(1).replace(/\.0$/, "") + " MB"
    : Math.round(max / 1024) + " KB";
  form.append(
    field(t("defect_category"), category),
    field(t("defect_location"), el("input", { type: "text", name: "address", autocomplete: "off",
      maxlength: "300" }), { hint: t("defect_location_hint") }),
    services.map ? mapPicker(services.map, (chosen) => { point = chosen; }) : null,
    field(t("defect_description"), el("textarea", { name: "description", rows: "3", maxlength: "4000" })),
    field(t("email"), el("input", { type: "email", name: "email", autocomplete: "email", maxlength: "254" }),
      { optional: true, hint: t("defect_email_hint") }),
    field(t("defect_photo"), el("input", { type: "file", name: "photo",
      accept: services.photo_types.join(",") }), { optional: true, hint: t("defect_photo_hint", { size }) }),
    consentField(),
    el("p", { class: "error form-error", role: "alert" }),
    el("div", { class: "form-buttons" },
      el("button", { type: "submit", class: "action" }, t("submit_defect")),
      cancelButton(form, opener)),
  );
  form.elements.description.value = action.description || "";
  const photoError = () => t("defect_photo_invalid", { size });
  // One key per form: a resend after a lost answer gets the same report back.
  const key = idempotencyKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const code = form.elements.category.value;
    const address = form.elements.address.value.trim();
    const description = form.elements.description.value.trim();
    const email = form.elements.email.value.trim();
    const file = form.elements.photo.files && form.elements.photo.files[0];
    if (!code) setFieldError(form, "category", t("defect_category_required"));
    if (!address && !point) setFieldError(form, "address", t("defect_location_required"));
    if (!description) setFieldError(form, "description", t("defect_description_required"));
    if (email && !EMAIL.test(email)) setFieldError(form, "email", t("invalid_email"));
    if (file && (file.size > services.photo_max_bytes ||
                 (file.type && !services.photo_types.includes(file.type)))) {
      setFieldError(form, "photo", photoError());
    }
    if (!form.elements.consent.checked) setFieldError(form, "consent", t("consent_required"));
    if (firstInvalid(form)) {
      firstInvalid(form).focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const body = { category: code, description, consent: true, lang: state.uiLang };
    if (address) body.address = address;
    if (point) Object.assign(body, { lat: point.lat, lon: point.lon });
    if (email) body.email = email;
    if (state.conversationId) body.conversation_id = state.conversationId;
    try {
      if (file) body.photo = await readPhoto(file);
      const created = await api(action.href || "/api/v1/defect-reports",
        { json: body, headers: { "Idempotency-Key": key } });
      const shown = created.service_request_id || created.ticket_reference || created.reference;
      storeReport({ reference: created.reference, token: created.access_token,
        requestId: created.service_request_id || null, ticketReference: created.ticket_reference || null });
      message.done = { kind: "defect", reference: shown, text: created.text };
      saveState();
      rerenderMessage(message);
      announce(created.text + " " + shown);
    } catch (error) {
      submit.disabled = false;
      // 422 details name the field: the message beside it, in the citizen's language.
      const fields = { location: ["address", "defect_location_required"], lat: ["address", "defect_location_required"],
        lon: ["address", "defect_location_required"], address: ["address", "defect_location_required"],
        category: ["category", "defect_category_unknown"], description: ["description", "defect_description_required"],
        email: ["email", "invalid_email"], photo: ["photo", null], consent: ["consent", "consent_required"] };
      if (error.status === 413) setFieldError(form, "photo", photoError());
      if (error.status === 422 && Array.isArray(error.detail)) {
        for (const item of error.detail) {
          const loc = (item.loc || []).filter((part) => typeof part === "string");
          const target = fields[loc[loc.length - 1]];
          if (target) setFieldError(form, target[0], target[1] ? t(target[1]) : photoError());
        }
      }
      if (!firstInvalid(form)) form.querySelector(".form-error").textContent = errorText(error);
      (firstInvalid(form) || submit).focus();
    }
  });
  category.focus();
}

async function showDefectStatus(message, action, opener) {
  const holder = opener.closest(".msg");
  let answer = holder.querySelector(".defect-status-answer");
  if (!answer) {
    answer = el("p", { class: "defect-status-answer", role: "status" });
    holder.append(answer);
  }
  const wanted = (action.report_id || "").toUpperCase();
  const reports = storedReports();
  const report = wanted
    ? reports.find((r) => [r.reference, r.requestId, r.ticketReference]
      .some((id) => id && String(id).toUpperCase() === wanted))
    : reports[0];
  if (!report) {
    answer.textContent = t("defect_status_unknown");
    announce(answer.textContent);
    return;
  }
  try {
    const result = await api((action.href || "/api/v1/defect-reports/") + encodeURIComponent(report.reference) +
      "?lang=" + encodeURIComponent(state.uiLang), { headers: { "X-Access-Token": report.token } });
    answer.textContent = result.text;
  } catch (error) {
    answer.textContent = error.status === 404 ? t("defect_status_unknown") : errorText(error);
  }
  announce(answer.textContent);
}

// --- escalation: appointment picker --------------------------------------------------------

function formatDay(iso) {
  return new Intl.DateTimeFormat(locale(), {
    weekday: "long", day: "numeric", month: "long", timeZone: "Europe/Berlin",
  }).format(new Date(iso));
}

function formatTime(iso) {
  return new Intl.DateTimeFormat(locale(), {
    hour: "2-digit", minute: "2-digit", timeZone: "Europe/Berlin",
  }).format(new Date(iso));
}

function berlinDate(iso) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(new Date(iso));
}

async function openAppointmentForm(message, action, opener) {
  if (focusOpenForm(opener)) return;
  const holder = opener.closest(".msg");
  const headingId = uid("appointment");
  const form = el("form", { class: "inline-form appointment-form", novalidate: true, "aria-labelledby": headingId });
  const heading = el("h3", { id: headingId, text: t("appointment_title") });
  const loading = el("p", { class: "hint", role: "status", text: t("loading") });
  form.append(heading, loading);
  holder.append(form);
  loading.focus();

  let services = [];
  let slots = [];
  try {
    [services, slots] = await Promise.all([
      api("/api/v1/appointments/services?lang=" + encodeURIComponent(state.uiLang)),
      api("/api/v1/appointments/slots?service=" + encodeURIComponent(action.service) +
          "&days=" + SLOT_DAYS).then((r) => r.slots.filter((s) => s.available > 0)),
    ]);
  } catch (error) {
    loading.textContent = errorText(error);
    form.append(cancelButton(form, opener));
    return;
  }
  const service = services.find((s) => s.name === action.service);
  heading.textContent = t("appointment_title") + (service ? ": " + service.title : "");
  loading.remove();
  if (!slots.length) {
    const note = el("p", { class: "hint", tabindex: "-1", text: t("no_slots") });
    form.append(note, cancelButton(form, opener));
    note.focus();
    return;
  }
  const days = new Map();
  for (const slot of slots) {
    const day = berlinDate(slot.start);
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(slot);
  }
  const daySelect = el("select", { name: "day" });
  for (const [day, daySlots] of days) {
    daySelect.append(el("option", { value: day, text: formatDay(daySlots[0].start) }));
  }
  const times = el("fieldset", { class: "times" });
  const timesLegend = el("legend", { text: t("time") });
  const drawTimes = () => {
    times.replaceChildren(timesLegend);
    const list = el("div", { class: "time-grid" });
    days.get(daySelect.value).forEach((slot, i) => {
      const id = uid("slot");
      list.append(el("div", { class: "time" },
        el("input", { type: "radio", name: "slot", id, value: slot.start, checked: i === 0 }),
        el("label", { for: id, text: formatTime(slot.start) })));
    });
    times.append(list, el("p", { class: "error", id: "slot-error" }));
  };
  daySelect.addEventListener("change", drawTimes);
  drawTimes();
  form.append(
    field(t("day"), daySelect),
    times,
    ...contactFields({ nameOptional: false, contactHint: false }),
    consentField(),
    el("p", { class: "error form-error", role: "alert" }),
    el("div", { class: "form-buttons" },
      el("button", { type: "submit", class: "action" }, t("book")),
      cancelButton(form, opener)),
  );
  daySelect.focus();
  const key = idempotencyKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const contact = validateContact(form, { required: false });
    const name = form.elements.name.value.trim();
    if (!name) setFieldError(form, "name", t("name_required"));
    if (!form.elements.consent.checked) setFieldError(form, "consent", t("consent_required"));
    const chosen = form.querySelector("input[name=slot]:checked");
    if (firstInvalid(form)) {
      firstInvalid(form).focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const booked = await api("/api/v1/appointments", {
        json: {
          service: action.service, start: chosen.value, name, contact, consent: true,
          preferred_language: state.uiLang,
        },
        headers: { "Idempotency-Key": key },
      });
      message.done = {
        kind: "appointment", reference: booked.reference, icsUrl: booked.ics_url,
        when: formatDay(booked.start) + ", " + formatTime(booked.start),
      };
      saveState();
      rerenderMessage(message);
      announce(t("appointment_done", { when: message.done.when }) + " " + booked.reference);
    } catch (error) {
      submit.disabled = false;
      serverErrors(form, error);
      if (error.status === 409) {
        // Someone else took it: drop that time and let the citizen choose again.
        const taken = chosen.value;
        days.set(daySelect.value, days.get(daySelect.value).filter((s) => s.start !== taken));
        drawTimes();
        const first = form.querySelector("input[name=slot]");
        (first || daySelect).focus();
        return;
      }
      (firstInvalid(form) || submit).focus();
    }
  });
}

// --- hotline banner -----------------------------------------------------------------------

function bannerText(text) {
  // The status comes first; the calling tip after it yields on small screens.
  const [status, ...rest] = text.split(/(?<=[.!?])\s+(?=\S)/);
  return el("span", { class: "banner-text" }, renderInline(status),
    rest.length ? el("span", { class: "banner-more" }, " ", renderInline(rest.join(" "))) : null);
}

async function refreshHotline() {
  try {
    const hotline = await api("/api/v1/hotline?lang=" + encodeURIComponent(state.uiLang));
    ui.banner.replaceChildren(
      el("span", { class: "banner-dot " + (hotline.open ? "open" : "closed"), "aria-hidden": "true" }),
      bannerText(hotline.text),
      " ",
      link(t("call"), "tel:" + hotline.phone.replace(/[^0-9+]/g, ""), { class: "call" }),
    );
    ui.banner.classList.toggle("is-open", hotline.open);
    ui.banner.hidden = false;
  } catch (error) {
    ui.banner.hidden = true; // the chat works without the banner
  }
}

// --- open, close, keyboard ------------------------------------------------------------------

let lastFocus = null;

function openPanel() {
  state.open = true;
  saveState();
  ui.panel.hidden = false;
  ui.launcher.setAttribute("aria-expanded", "true");
  host.classList.add("open");
  lastFocus = ui.launcher;
  refreshHotline();
  if (ui.list.lastElementChild) ui.list.lastElementChild.scrollIntoView({ block: "end" });
  ui.input.focus();
}

function closePanel() {
  state.open = false;
  saveState();
  ui.panel.hidden = true;
  ui.launcher.setAttribute("aria-expanded", "false");
  host.classList.remove("open");
  (lastFocus || ui.launcher).focus();
}

function focusables() {
  return Array.from(ui.panel.querySelectorAll(FOCUSABLE))
    .filter((node) => !node.closest("[hidden]") && node.getClientRects().length > 0);
}

function onPanelKeydown(event) {
  if (event.key === "Escape") {
    event.preventDefault();
    closePanel();
    return;
  }
  if (event.key !== "Tab") return;
  // A modal dialog: Tab and Shift+Tab cycle inside it.
  const nodes = focusables();
  if (!nodes.length) return;
  const first = nodes[0];
  const last = nodes[nodes.length - 1];
  const active = root.activeElement;
  if (event.shiftKey && (active === first || !ui.panel.contains(active))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || !ui.panel.contains(active))) {
    event.preventDefault();
    first.focus();
  }
}

function onLanguagePicked() {
  state.uiLang = ui.langSelect.value;
  state.langPicked = true;
  saveState();
  applyStrings();
  renderAll();
  refreshHotline();
  announce(t("language_changed"));
  ui.langSelect.focus();
}

function restart() {
  state = { ...freshState(state.uiLang), langPicked: state.langPicked, open: true };
  saveState();
  renderAll();
  ui.input.value = "";
  ui.inputError.textContent = "";
  announce(t("restarted"));
  ui.input.focus();
}

// --- start ------------------------------------------------------------------------------------

function start() {
  buildSkeleton();
  applyStrings();
  renderAll();
  document.body.append(host);
  if (state.open) {
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    host.classList.add("open");
    refreshHotline();
  }
}

window.__citizenChatWidget = true;
window.CitizenChat = Object.freeze({
  version: BUILD.version,
  open: () => openPanel(),
  close: () => closePanel(),
});
if (document.body) start();
else document.addEventListener("DOMContentLoaded", start);
