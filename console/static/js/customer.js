// The caller's customer: profile, open cases and recent contacts, from the profile API. Each part shows
// what its endpoint answers and degrades to a short note when it is missing (404) or failing.

import { api, ApiError } from "./api.js";
import { $, el, placeholder } from "./dom.js";

function text(value) {
  if (value === null || value === undefined || value === "") return "–";
  return Array.isArray(value) ? value.join(", ") || "–" : String(value);
}

function failure(err, what) {
  if (err instanceof ApiError && err.status === 404) return `No ${what}.`;
  if (err instanceof ApiError && err.status === 403) return `You may not see the ${what}.`;
  return `The ${what} could not be loaded.`;
}

export class CustomerPanel {
  constructor(onName) {
    this.onName = onName;
    this.customerId = null;
    this.loads = 0;
  }

  clear() {
    this.customerId = null;
    this.loads += 1;
    $("profile-note").textContent = "No customer identified yet.";
    $("profile-note").hidden = false;
    $("profile").hidden = true;
    $("profile").replaceChildren();
    placeholder($("cases"), "–");
    placeholder($("timeline"), "–");
  }

  /** Load the shown customer again (after a wrap-up changed their timeline). */
  reload() {
    const id = this.customerId;
    this.customerId = null;
    return this.show(id);
  }

  /** Show customer ``id`` (nothing happens when it is already shown). */
  async show(id) {
    if (!id || id === this.customerId) return;
    this.clear();
    this.customerId = id;
    const load = this.loads;
    const stale = () => load !== this.loads;
    const base = `/api/v1/customers/${encodeURIComponent(id)}`;
    $("profile-note").textContent = "Loading…";
    await Promise.all([
      api("GET", base).then((c) => !stale() && this.profile(c), (e) => !stale() && this.profileFailed(e)),
      api("GET", `${base}/cases`).then((r) => !stale() && this.cases(r), (e) => !stale() && this.listFailed("cases", e, "open cases")),
      api("GET", `${base}/timeline?limit=5`).then((r) => !stale() && this.timeline(r),
        (e) => !stale() && this.listFailed("timeline", e, "contact history")),
    ]);
  }

  profile(c) {
    const dl = $("profile");
    const rows = [
      ["Name", c.name + (c.provisional ? " (unconfirmed)" : "")],
      ["Phones", c.phones],
      ["Segment", c.segment],
      ["Language", c.language],
      ["Flags", c.flags],
      ["Cards", (c.cards || []).map((k) => `•${k.last4} ${k.status}${k.block_reason ? ` (${k.block_reason})` : ""}`)],
      ["CRM id", c.external_id],
    ];
    dl.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", "", k), el("dd", "", text(v))]));
    dl.hidden = false;
    $("profile-note").hidden = true;
    this.onName(c.name);
  }

  profileFailed(err) {
    $("profile-note").textContent = failure(err, "profile for this customer");
    $("profile-note").hidden = false;
  }

  cases(body) {
    const open = (body.cases || []).filter((c) => c.status === "open");
    if (!open.length) return placeholder($("cases"), "No open cases.");
    $("cases").replaceChildren(...open.map((c) => el("li", "", `${c.title} · opened ${c.created_at.slice(0, 10)}`)));
  }

  timeline(body) {
    const items = body.interactions || [];
    if (!items.length) return placeholder($("timeline"), "No earlier contacts.");
    $("timeline").replaceChildren(...items.map((i) => {
      const li = el("li", "");
      li.append(el("strong", "", `${(i.started_at || "").slice(0, 10)} ${i.channel}`),
        document.createTextNode(` · ${i.outcome || i.reason || i.summary || "no outcome"}`));
      return li;
    }));
  }

  listFailed(id, err, what) {
    placeholder($(id), failure(err, what));
  }
}
