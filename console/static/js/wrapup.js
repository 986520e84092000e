// Notes and the wrap-up form of the current call. Notes survive a page reload (sessionStorage, per call);
// saving files tags, outcome and notes with POST /api/v1/calls/{id}/wrapup.

import { api } from "./api.js";
import { $ } from "./dom.js";

const NOTES_KEY = (callId) => `hotline.notes.${callId}`;

/** "a, b,, a" -> ["a", "b"] */
export function parseTags(raw) {
  const tags = raw.split(",").map((t) => t.trim()).filter(Boolean);
  return [...new Set(tags)];
}

export class WrapUp {
  /** @param {function} onSaved called after a wrap-up is filed (the customer's timeline changed) */
  constructor(onSaved) {
    this.onSaved = onSaved || (() => {});
    this.callId = null;
    this.form = $("wrapup-form");
    this.notes = $("notes");
    this.status = $("wrapup-status");
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    this.notes.addEventListener("input", () => {
      if (this.callId) sessionStorage.setItem(NOTES_KEY(this.callId), this.notes.value);
    });
  }

  setCall(callId) {
    if (callId === this.callId) return;
    this.callId = callId;
    this.form.reset();
    this.notes.value = callId ? sessionStorage.getItem(NOTES_KEY(callId)) || "" : "";
    this.status.textContent = "";
    $("save-wrapup").disabled = !callId;
  }

  async save() {
    const outcome = $("outcome").value;
    if (!outcome) {
      this.status.textContent = "Choose an outcome first.";
      $("outcome").focus();
      return;
    }
    const callId = this.callId;
    const body = { tags: parseTags($("tags").value), outcome, notes: this.notes.value || null };
    $("save-wrapup").disabled = true;
    this.status.textContent = "Saving…";
    try {
      await api("POST", `/api/v1/calls/${encodeURIComponent(callId)}/wrapup`, body);
      this.status.textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
      sessionStorage.removeItem(NOTES_KEY(callId));
      this.onSaved();
    } catch (err) {
      this.status.textContent = `Not saved: ${err.message}`;
    } finally {
      $("save-wrapup").disabled = this.callId === null;
    }
  }
}
