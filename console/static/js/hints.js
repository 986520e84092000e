// Whispered hints of the current call, each with "useful" / "not useful" feedback buttons.

import { api } from "./api.js";
import { $, el, safeLink } from "./dom.js";

const KIND = { kb: "Knowledge base", rule: "Rule", reason: "Predicted reason" };

export class Hints {
  constructor(agentId) {
    this.agentId = agentId;
    this.list = $("hints");
    this.empty = $("no-hints");
    this.callId = null;
    this.seen = new Set();
  }

  clear(callId) {
    this.callId = callId;
    this.seen.clear();
    this.list.replaceChildren();
    this.empty.hidden = false;
  }

  /** A ``hint`` event: hint_id, hint_kind (kb, rule, reason), title, text, link, why, confidence. */
  add(hint) {
    const id = hint.hint_id;
    if (!id || this.seen.has(id)) return;
    this.seen.add(id);
    this.empty.hidden = true;
    const kind = hint.hint_kind || "";
    const li = el("li", "hint");
    li.dataset.hintId = id;
    li.dataset.kind = kind;
    const head = el("h3", "hint-title", hint.title || "Hint");
    const meta = el("span", "hint-meta", KIND[kind] || kind);
    if (typeof hint.confidence === "number") meta.textContent += ` · ${Math.round(hint.confidence * 100)}%`;
    head.append(" ", meta);
    li.append(head, el("p", "hint-text", hint.text || ""));
    const href = safeLink(hint.link);
    if (href) {
      const a = el("a", "hint-link", "Open article");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      li.append(a);
    }
    if (hint.why) li.append(el("p", "hint-why", `Why: ${hint.why}`));
    li.append(this.buttons(id));
    this.list.prepend(li); // newest first
  }

  buttons(hintId) {
    const box = el("div", "hint-feedback");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Was this hint useful?");
    const status = el("span", "hint-status muted");
    status.setAttribute("role", "status");
    const make = (label, useful) => {
      const b = el("button", useful ? "useful" : "not-useful", label);
      b.type = "button";
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => this.feedback(hintId, useful, box, b, status));
      return b;
    };
    box.append(make("Useful", true), make("Not useful", false), status);
    return box;
  }

  async feedback(hintId, useful, box, pressed, status) {
    const callId = this.callId;
    const buttons = box.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      await api("POST", `/api/v1/calls/${encodeURIComponent(callId)}/hints/${encodeURIComponent(hintId)}/feedback`,
        { useful, agent_id: this.agentId });
      pressed.setAttribute("aria-pressed", "true");
      status.textContent = "Thanks";
    } catch (err) {
      buttons.forEach((b) => (b.disabled = false));
      status.textContent = `Not saved: ${err.message}`;
    }
  }
}
