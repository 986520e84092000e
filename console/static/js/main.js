// The console's start: sign-in, the agent's status, and the live feed driving the desk.

import { api, ApiError, setCsrf } from "./api.js";
import { CallDesk } from "./call.js";
import { CustomerPanel } from "./customer.js";
import { $ } from "./dom.js";
import { Feed } from "./feed.js";
import { Hints } from "./hints.js";
import { Transcript } from "./transcript.js";
import { WrapUp } from "./wrapup.js";

const STATES = {
  available: "available", away: "away", offline: "offline", ringing: "ringing", on_call: "on a call",
  wrap_up: "in wrap-up",
};
const LINK = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", offline: "offline" };

const state = { agent: null, feed: null, desk: null, customer: null };
const wrapup = new WrapUp(() => state.customer && state.customer.reload());

function notice(text) {
  const p = $("notice");
  p.textContent = text || "";
  p.hidden = !text;
}

function showPresence(value) {
  const p = $("presence");
  p.dataset.state = value;
  p.textContent = STATES[value] || value;
  document.querySelectorAll("[data-status]").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.dataset.status === value));
  });
}

function signedOut(message) {
  if (state.feed) state.feed.stop();
  state.feed = null;
  state.agent = null;
  setCsrf(null);
  $("desk").hidden = true;
  $("who").hidden = true;
  $("signin").hidden = false;
  $("login-error").textContent = message || "";
  $("username").focus();
}

function signedIn(session) {
  state.agent = session.agent;
  setCsrf(session.csrf_token);
  notice("");
  $("agent-name").textContent = session.agent.name;
  $("signin").hidden = true;
  $("who").hidden = false;
  $("desk").hidden = false;
  const parts = {
    transcript: new Transcript(),
    hints: new Hints(session.agent.id),
    customer: new CustomerPanel((name) => ($("customer-name").textContent = name)),
    wrapup,
  };
  state.customer = parts.customer;
  if (state.desk) clearInterval(state.desk.timer);
  state.desk = new CallDesk(session.agent.id, parts);
  state.desk.reset();
  state.feed = new Feed({
    onHello: (hello) => {
      state.desk.serverOffset = hello.server_time - Date.now() / 1000;
      showPresence(hello.presence);
    },
    onEvent: (ev) => (ev.type === "presence" ? showPresence(ev.state) : state.desk.handle(ev)),
    onReset: () => state.desk.reset(),
    onLink: (link) => {
      $("link").dataset.state = link;
      $("link").textContent = LINK[link] || link;
    },
    onSignedOut: () => signedOut("Your session ended. Please sign in again."),
  });
  window.hotlineConsole = Object.freeze({ feed: state.feed });
  state.feed.start();
  $("call").focus();
}

async function login(event) {
  event.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  const error = $("login-error");
  if (!username || !password) {
    error.textContent = "Enter your user name and password.";
    return;
  }
  error.textContent = "";
  try {
    const session = await api("POST", "/console/login", { username, password });
    $("password").value = "";
    signedIn(session);
  } catch (err) {
    $("password").value = "";
    if (err instanceof ApiError && err.status === 429) {
      error.textContent = "Too many failed attempts. Wait a few minutes and try again.";
    } else if (err instanceof ApiError && err.status === 401) {
      error.textContent = "Wrong user name or password.";
    } else {
      error.textContent = `Sign-in failed: ${err.message}`;
    }
    $("password").focus();
  }
}

async function setStatus(status) {
  if (!state.agent) return;
  try {
    const agent = await api("PUT", `/api/v1/agents/${encodeURIComponent(state.agent.id)}/status`, { status });
    showPresence(agent.state);
    notice("");
  } catch (err) {
    notice(`Status not changed: ${err.message}`);
  }
}

async function logout() {
  try {
    await api("POST", "/console/logout");
  } catch (_) {
    // the session is gone either way
  }
  signedOut("You are signed out.");
}

async function boot() {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  document.querySelectorAll("[data-status]").forEach((b) => {
    b.addEventListener("click", () => setStatus(b.dataset.status));
  });
  try {
    signedIn(await api("GET", "/console/session"));
  } catch (_) {
    signedOut("");
  }
}

boot();
