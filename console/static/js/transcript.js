// The live transcript: finals of both legs in order, and per leg one grey in-progress line (the latest
// partial) that the next final of that leg replaces.

import { $, el } from "./dom.js";

const WHO = { caller: "Caller", agent: "You" };

export class Transcript {
  constructor() {
    this.list = $("transcript");
  }

  clear() {
    this.list.replaceChildren();
  }

  partialOf(leg) {
    return this.list.querySelector(`li.partial[data-leg="${CSS.escape(leg)}"]`);
  }

  line(leg, kind, text) {
    const li = el("li", `line ${kind} ${leg === "agent" ? "agent" : "caller"}`);
    li.dataset.leg = leg;
    li.append(el("span", "who", WHO[leg] || leg), el("span", "text", text));
    return li;
  }

  /** A final segment: drop the leg's in-progress line, add the final before any in-progress lines. */
  final(leg, text) {
    const partial = this.partialOf(leg);
    if (partial) partial.remove();
    if (!text) return;
    const first = this.list.querySelector("li.partial");
    this.list.insertBefore(this.line(leg, "final", text), first);
    this.scroll();
  }

  /** A partial result: update (or start) the leg's in-progress line. */
  partial(leg, text) {
    let li = this.partialOf(leg);
    if (!text) {
      if (li) li.remove();
      return;
    }
    if (!li) {
      li = this.line(leg, "partial", text);
      li.setAttribute("aria-hidden", "true"); // screen readers get the final, not every revision
      this.list.append(li);
    } else {
      li.querySelector(".text").textContent = text;
    }
    this.scroll();
  }

  /** A non-speech line (key presses, hold, transfers). */
  note(text) {
    const first = this.list.querySelector("li.partial");
    this.list.insertBefore(el("li", "line note", text), first);
    this.scroll();
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
