// The current call: its card (caller, customer, reason, wait and talk time, identity badge) and where each
// feed event of it goes (transcript, hints, customer panel). A new call id starts a fresh desk.

import { $, duration, el } from "./dom.js";

const DECISIONS = {
  verified: "Verified",
  not_verified: "Not verified",
  inconclusive: "Inconclusive",
  not_enrolled: "Not enrolled",
  suspected_replay: "Suspected replay",
  unavailable: "Biometrics unavailable",
  pending: "Checking…",
};

const END_REASONS = {
  caller_hangup: "the caller hung up",
  agent_hangup: "you hung up",
  abandoned: "the caller left the queue",
  rtp_timeout: "the line went silent",
};

export class CallDesk {
  /**
   * @param {string} agentId the signed-in agent
   * @param {object} parts {transcript, hints, customer, wrapup}
   */
  constructor(agentId, parts) {
    this.agentId = agentId;
    this.parts = parts;
    this.call = null;
    this.serverOffset = 0; // server clock minus ours, in seconds
    this.timer = setInterval(() => this.tick(), 1000);
  }

  /** Forget everything shown (a reset of the feed). */
  reset() {
    this.call = null;
    this.parts.transcript.clear();
    this.parts.hints.clear(null);
    this.parts.customer.clear();
    this.parts.wrapup.setCall(null);
    $("call").dataset.state = "idle";
    $("call").dataset.callId = "";
    $("call-state").textContent = "No call yet.";
    for (const id of ["caller", "customer-name", "reason", "predicted", "wait", "talk"]) $(id).textContent = "–";
    this.badge(null);
  }

  begin(callId) {
    this.reset();
    this.call = { id: callId, state: "queued", queuedTs: null, connectedTs: null, endedTs: null, waitS: null };
    $("call").dataset.callId = callId;
    this.parts.hints.clear(callId);
    this.parts.wrapup.setCall(callId);
  }

  setState(state, text) {
    this.call.state = state;
    $("call").dataset.state = state;
    $("call-state").textContent = text;
  }

  /** One feed event of a call. */
  handle(ev) {
    if (!this.call || ev.call_id !== this.call.id) this.begin(ev.call_id);
    const mine = ev.agent_id === this.agentId;
    const t = this.parts.transcript;
    switch (ev.type) {
      case "state":
        if (ev.state === "offered") $("caller").textContent = ev.caller || "unknown number";
        if (ev.state === "ended") {
          this.call.endedTs = ev.ts;
          this.setState("ended", `Call ended: ${END_REASONS[ev.reason] || ev.reason || "ended"}.`);
        }
        break;
      case "queued":
        this.call.queuedTs = ev.ts;
        if (this.call.state === "queued") this.setState("queued", `Waiting in queue ${ev.queue}.`);
        break;
      case "offered":
        if (mine) this.setState("ringing", "Incoming call: your phone is ringing.");
        break;
      case "agent_connected":
        if (mine) {
          this.call.connectedTs = ev.ts;
          this.call.waitS = ev.wait_s;
          $("wait").textContent = duration(ev.wait_s || 0);
          this.setState("connected", "Connected with the caller.");
        } else {
          t.note(`Earlier: connected to ${ev.agent_name || ev.agent_id}.`);
        }
        break;
      case "no_answer":
      case "offer_failed":
        if (mine) this.setState("missed", "Missed: the call went to someone else.");
        break;
      case "transferred":
        t.note(`Transferred to ${ev.agent_id ? "an agent" : `queue ${ev.queue}`} (${ev.by}).`);
        if (ev.from_agent === this.agentId) this.setState("transferred", "You transferred the caller.");
        break;
      case "customer":
        this.parts.customer.show(ev.customer_id);
        if (!ev.customer_id) $("customer-name").textContent = "not known";
        break;
      case "customer_profile":
        $("customer-name").textContent = ev.name + (ev.provisional ? " (unconfirmed)" : "");
        this.parts.customer.show(ev.customer_id);
        break;
      case "predicted_reason":
        $("predicted").textContent = `${ev.topic.replaceAll("_", " ")} (${Math.round(ev.confidence * 100)}%)`;
        break;
      case "verification":
        this.badge(ev);
        break;
      case "reason":
        $("reason").textContent = ev.text || "–";
        break;
      case "partial":
        t.partial(ev.leg, ev.text);
        break;
      case "final":
        t.final(ev.leg, ev.text);
        break;
      case "hint":
        this.parts.hints.add(ev);
        if (ev.hint_kind === "reason" && $("predicted").textContent === "–") $("predicted").textContent = ev.title;
        break;
      case "dtmf":
        t.note(`${ev.leg === "agent" ? "You" : "Caller"} pressed ${ev.digit}.`);
        break;
      case "hold":
      case "unhold":
        t.note(ev.type === "hold" ? "The caller is on hold." : "The caller is back.");
        break;
      case "abandoned":
        this.setState("ended", "The caller left before anyone answered.");
        break;
      default:
        break;
    }
    this.tick();
  }

  badge(v) {
    const badge = $("identity");
    if (!v) {
      badge.dataset.decision = "none";
      badge.dataset.risk = "";
      badge.title = "";
      badge.textContent = "no check yet";
      $("identity-reasons").replaceChildren();
      return;
    }
    let label = DECISIONS[v.decision] || v.decision;
    if (v.risk) label += ` · ${v.risk} risk`;
    if (typeof v.score === "number") label += ` · score ${v.score.toFixed(2)}`;
    if (typeof v.threshold === "number") label += ` (threshold ${v.threshold.toFixed(2)})`;
    if (v.reason) label += ` · ${v.reason}`;
    badge.dataset.decision = v.decision;
    badge.dataset.risk = v.risk || "";
    badge.title = (v.reasons || []).join("\n");  // margin, speech, replay check, number trust
    badge.textContent = label;
    $("identity-reasons").replaceChildren(...(v.reasons || []).map((r) => el("li", "", r)));
  }

  now() {
    return Date.now() / 1000 + this.serverOffset;
  }

  /** Wait time while queued or ringing, talk time while connected. */
  tick() {
    const c = this.call;
    if (!c) return;
    if (c.queuedTs && c.waitS === null && (c.state === "queued" || c.state === "ringing")) {
      $("wait").textContent = duration(this.now() - c.queuedTs);
    }
    if (c.connectedTs) $("talk").textContent = duration((c.endedTs || this.now()) - c.connectedTs);
  }
}
