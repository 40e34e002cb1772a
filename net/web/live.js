// The live connection: one WebSocket to this page's own server, `hello` with the token (never in the
// URL), events applied in order, and a reconnection that resumes where it stopped (`resume_from`).

const PROTOCOL_VERSION = 2;
// Close codes after which trying again cannot help (docs/protocol.md, "Errors").
const FINAL = {
  1002: "protocol version refused",
  4000: "game over",
  4001: "this seat was opened in another tab",
  4002: "the seat was given to a built-in agent",
  4003: "wrong token",
};
const MAX_BACKOFF_MS = 5000;

export class LiveConnection {
  // handlers: {welcome(frame), event(event, seq), request(frame), rejected(frame), gameOver(frame),
  //            error(frame), status(text, state)}
  constructor({ token, seat, clientId, handlers }) {
    this.token = token;
    this.kind = seat ? "agent" : "ui";
    this.clientId = clientId;
    this.handlers = handlers;
    this.received = 0;
    this.gameId = null;
    this.backoff = 250;
    this.stopped = false;
    this.over = false;
    this.ws = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // hello=1: this page always says hello (its token and resume point), so the server waits for it.
    const path = `/ws/${encodeURIComponent(this.clientId)}?client_type=${this.kind}&hello=1`;
    return `${scheme}://${location.host}${path}`;
  }

  start() {
    if (this.stopped) return;
    this.handlers.status(this.received ? "reconnecting…" : "connecting…", "connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      const hello = { type: "hello", protocol_version: PROTOCOL_VERSION, resume_from: this.received };
      if (this.token) hello.token = this.token;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (message) => this.receive(JSON.parse(message.data));
    ws.onclose = (close) => this.closed(close);
  }

  receive(frame) {
    switch (frame.type) {
      case "welcome":
        if (this.gameId !== null && frame.game_id !== this.gameId) {
          // Another game is hosted now: start over from its first event.
          this.received = 0;
          this.gameId = frame.game_id;
          this.ws.close();
          return;
        }
        this.gameId = frame.game_id;
        this.backoff = 250;
        this.received = frame.resume_from;
        this.handlers.status(`connected: ${frame.view === "full" ? "full view" : frame.view}`, "connected");
        this.handlers.welcome(frame);
        break;
      case "event":
        if (frame.seq !== this.received) return; // already applied (or a gap: the next resume fills it)
        this.received += 1;
        this.handlers.event(frame.event, frame.seq);
        break;
      case "request":
        this.handlers.request(frame);
        break;
      case "rejected":
        this.handlers.rejected(frame);
        break;
      case "game_over":
        this.over = true;
        this.handlers.gameOver(frame);
        break;
      case "error":
        this.handlers.error(frame);
        break;
      default:
        break;
    }
  }

  closed(close) {
    if (this.stopped) return;
    if (this.over) {
      this.handlers.status("game over", "over");
      return;
    }
    if (close.code in FINAL) {
      this.handlers.status(`disconnected: ${FINAL[close.code]}`, "failed");
      this.stopped = true;
      return;
    }
    const reason = close.code === 1008 && close.reason ? close.reason : "connection lost";
    this.handlers.status(`${reason}: retrying…`, "connecting");
    setTimeout(() => this.start(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }
}
