// Small DOM helpers: every text from the server goes in through textContent, never as HTML.

export const $ = (id) => document.getElementById(id);

/** A new element with a class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** Replace a list's items with one muted line. */
export function placeholder(list, text) {
  list.replaceChildren(el("li", "muted", text));
}

/** Seconds as m:ss (or h:mm:ss). */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A link target safe to put in href: http(s) URLs and site-relative paths only. */
export function safeLink(link) {
  if (typeof link !== "string" || !link) return null;
  if (link.startsWith("/") && !link.startsWith("//")) return link;
  try {
    const url = new URL(link);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (_) {
    return null;
  }
}
