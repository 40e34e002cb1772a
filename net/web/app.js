// The page's entry point. Live: `/#token=ADMIN` for the full view, `/#seat=NAME&token=SEAT_TOKEN` to
// play a seat, `/` for the public view. The token is read from the fragment (which browsers never send
// to a server), kept in this tab's sessionStorage so a reload still works, taken out of the address
// bar, and sent only in the `hello` frame. A log file dropped on the page (or picked) is replayed.

import { GameState } from "./state.js";
import { drawBoard, drawLog } from "./board.js";
import { LiveConnection } from "./live.js";
import { SeatPanel } from "./seat.js";
import { Replay, parseLog } from "./replay.js";

const $ = (s) => document.querySelector(s);
const board = $("#board");
const bubble = $("#bubble");
const banner = $("#winner");
const log = $("#log");
const status = $("#status");

function readFragment() {
  const stored = JSON.parse(sessionStorage.getItem("loupgarou") ?? "{}");
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("token") || params.has("seat")) {
    const fresh = { token: params.get("token"), seat: params.get("seat") };
    sessionStorage.setItem("loupgarou", JSON.stringify(fresh));
    history.replaceState(null, "", location.pathname);
    return fresh;
  }
  return { token: stored.token ?? null, seat: stored.seat ?? null };
}

function setStatus(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

const { token, seat } = readFragment();
let state = new GameState();
let you = seat;
let panel = null;
let live = null;
let replay = null;

function redraw(s = state) {
  drawBoard(board, bubble, banner, s, you);
  drawLog(log, s);
}

function startLive() {
  const clientId = seat ? `human-${seat}`.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64) : `web-${crypto.randomUUID().slice(0, 8)}`;
  if (seat) {
    panel = new SeatPanel($("#seat"), (frame) => live.send(frame));
    panel.player = seat;
  }
  $("#view-name").textContent = seat ? `Playing ${seat}` : token ? "Full view" : "Public view";
  live = new LiveConnection({
    token, seat, clientId,
    handlers: {
      status: setStatus,
      welcome: (frame) => {
        if (frame.resume_from === 0) state = new GameState();
        if (frame.seat) you = frame.seat;
        document.body.dataset.view = frame.view;
        redraw();
      },
      event: (event) => {
        state.apply(event);
        if (panel && event.type === "role_assigned" && event.player === you) panel.learnRole(event.role);
        if (panel && panel.request) {
          const moved = event.type === "phase_started" && event.phase_id !== panel.request.phase_id;
          const mine = (event.type === "action_recorded" || event.type === "spoke") && event.player === you;
          if (moved || mine || event.type === "game_ended") panel.close();
        }
        redraw();
      },
      request: (frame) => panel && panel.open(frame),
      rejected: (frame) => panel && panel.rejected(frame),
      gameOver: () => { if (panel) panel.close(); redraw(); },
      error: (frame) => {
        if (panel) panel.error(frame);
        else setStatus(`error: ${frame.message}`, frame.closing ? "failed" : "connected");
      },
    },
  });
  live.start();
}

async function openLog(file) {
  let events;
  try {
    events = parseLog(await file.text());
  } catch (err) {
    setStatus(`cannot replay ${file.name}: ${err.message}`, "failed");
    return;
  }
  if (live) live.stop();
  if (panel) $("#seat").hidden = true;
  you = null;
  log.replaceChildren();
  document.body.dataset.view = "replay";
  $("#view-name").textContent = `Replay: ${file.name}`;
  setStatus(`replaying ${events.length} events`, "replay");
  const publicOnly = $("#public-only").checked;
  replay ??= new Replay($("#replay-controls"), (s) => redraw(s));
  replay.load(events, { publicOnly });
}

$("#open-replay").addEventListener("click", () => $("#file").click());
$("#file").addEventListener("change", () => {
  const file = $("#file").files[0];
  if (file) openLog(file);
});
document.addEventListener("dragover", (e) => { e.preventDefault(); document.body.classList.add("dropping"); });
document.addEventListener("dragleave", () => document.body.classList.remove("dropping"));
document.addEventListener("drop", (e) => {
  e.preventDefault();
  document.body.classList.remove("dropping");
  const file = e.dataTransfer.files[0];
  if (file) openLog(file);
});

redraw();
if (!new URLSearchParams(location.search).has("replay")) startLive();
else setStatus("open a game log to replay it", "replay");
