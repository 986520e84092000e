// The agent's live feed: one WebSocket to /console/ws that reconnects by itself and resumes after the
// last event id it handled, so nothing is lost or shown twice across a dropped connection.

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

export class Feed {
  /**
   * @param {object} handlers onHello(hello), onEvent(event), onReset(), onLink(state), onSignedOut()
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.lastId = 0;
    this.epoch = null;
    this.ws = null;
    this.delay = MIN_DELAY_MS;
    this.timer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "signed out");
    this.ws = null;
    this.lastId = 0;
    this.epoch = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams({ after: String(this.lastId) });
    if (this.epoch) params.set("epoch", this.epoch);
    return `${scheme}//${location.host}/console/ws?${params}`;
  }

  connect() {
    this.handlers.onLink("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("message", (msg) => this.receive(JSON.parse(msg.data)));
    ws.addEventListener("close", (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === 4401) {
        this.handlers.onLink("offline");
        this.handlers.onSignedOut();
        return;
      }
      this.handlers.onLink("reconnecting");
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    });
  }

  receive(msg) {
    if (msg.type === "hello") {
      this.delay = MIN_DELAY_MS;
      if (msg.reset || (this.epoch && msg.epoch !== this.epoch)) {
        this.lastId = 0;
        this.handlers.onReset();
      }
      this.epoch = msg.epoch;
      this.handlers.onLink("live");
      this.handlers.onHello(msg);
      return;
    }
    if (typeof msg.id !== "number" || msg.id <= this.lastId) return; // already handled
    this.lastId = msg.id;
    this.handlers.onEvent(msg);
  }
}
