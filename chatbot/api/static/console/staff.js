// Shared by the agents' console and the editors' page. The token lives in
// sessionStorage (gone when the tab closes) and goes out only as a bearer header to
// this origin. Data is rendered with textContent, never as HTML: it contains what
// citizens typed and file names from disk. Each page sets TOKEN_KEY and defines
// showLogin() before using api().
"use strict";

const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  }
  return node;
}

function say(text, ok = false) {
  const box = $("#message");
  box.textContent = text;
  box.className = ok ? "ok" : "";
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    ...options, headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const data = response.headers.get("content-type")?.includes("json")
    ? await response.json() : null;
  if (response.status === 401) { sessionStorage.removeItem(TOKEN_KEY); showLogin(); }
  if (!response.ok) {
    const detail = Array.isArray(data?.detail)
      ? data.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ")
      : data?.detail?.message || (typeof data?.detail === "string"
        ? data.detail : response.statusText);
    throw new Error(`${response.status}: ${detail}`);
  }
  return data;
}
