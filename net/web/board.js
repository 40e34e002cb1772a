// Draws the village: players around a circle (role when this view knows it, dead or alive, who speaks,
// you), the day's votes as arrows, the last speech in a bubble, night or day, the winner.

import { phaseName } from "./narrate.js";

const SVG = "http://www.w3.org/2000/svg";
const RADIUS = 360;
const CAUSES = { night: "killed at night", execution: "executed", hunter: "shot by the hunter" };

function el(name, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

function seatPosition(index, count) {
  const angle = -Math.PI / 2 + (2 * Math.PI * index) / Math.max(count, 1);
  return [RADIUS * Math.cos(angle), RADIUS * Math.sin(angle)];
}

function arrowDefs() {
  const defs = el("defs");
  const marker = el("marker", {
    id: "arrowhead", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7,
    orient: "auto-start-reverse",
  });
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
  defs.append(marker);
  return defs;
}

// Redraw `svg` from `state`; `you` is the seat this page plays (or null).
export function drawBoard(svg, bubble, banner, state, you) {
  svg.replaceChildren(arrowDefs());
  const where = {};
  state.players.forEach((p, i) => { where[p] = seatPosition(i, state.players.length); });
  svg.append(el("circle", { cx: 0, cy: 0, r: RADIUS - 110, class: "table" }));
  const title = state.day ? `${state.night ? "Night" : "Day"} ${state.day}` : "Waiting";
  if (!state.over) svg.append(el("text", { x: 0, y: -20, class: "daylabel" }, title));
  if (!state.over && state.phase) svg.append(el("text", { x: 0, y: 25, class: "phaselabel" }, phaseName(state.phase)));
  for (const [voter, target] of state.votes) {
    if (!(voter in where) || !(target in where)) continue;
    const [x1, y1] = where[voter];
    const [x2, y2] = where[target];
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const pad = 62;
    svg.append(el("line", {
      x1: x1 + ((x2 - x1) * pad) / len, y1: y1 + ((y2 - y1) * pad) / len,
      x2: x2 - ((x2 - x1) * pad) / len, y2: y2 - ((y2 - y1) * pad) / len,
      class: "vote", "marker-end": "url(#arrowhead)", "data-voter": voter, "data-target": target,
    }));
  }
  for (const p of state.players) {
    const [x, y] = where[p];
    const classes = ["player", p in state.dead ? "dead" : "alive"];
    if (p === state.speaker) classes.push("speaking");
    if (p === you) classes.push("you");
    if (state.candidates.includes(p)) classes.push("candidate");
    const role = state.roles[p];
    if (role) classes.push(`role-${role}`);
    const g = el("g", { class: classes.join(" "), "data-player": p, transform: `translate(${x} ${y})` });
    g.append(el("circle", { r: 55, class: "token" }));
    g.append(el("text", { y: -5, class: "name" }, p));
    if (role) g.append(el("text", { y: 22, class: "role" }, role));
    if (p in state.dead) {
      g.append(el("text", { y: 80, class: "cause" }, `✝ ${CAUSES[state.dead[p]] ?? state.dead[p]}`));
    }
    if (p === you) g.append(el("text", { y: -68, class: "youlabel" }, "you"));
    if (state.thinking[p]) g.append(el("title", {}, `${p} thinks: ${state.thinking[p]}`));
    svg.append(g);
  }
  if (state.speech && state.speech.player in where && !state.over) {
    const [x, y] = where[state.speech.player];
    svg.append(el("line", { x1: x * 0.8, y1: y * 0.8, x2: 0, y2: 0, class: "speechline" }));
    bubble.hidden = false;
    bubble.className = state.speech.phase === "wolf_chat" ? "bubble wolves" : "bubble";
    bubble.replaceChildren();
    const who = document.createElement("strong");
    who.textContent = state.speech.player + (state.speech.phase === "wolf_chat" ? " (to the wolves)" : "");
    const text = document.createElement("span");
    text.textContent = state.speech.text;
    bubble.append(who, text);
  } else {
    bubble.hidden = true;
  }
  document.body.classList.toggle("night", state.night && !state.over);
  if (state.over) {
    banner.hidden = false;
    banner.dataset.winner = state.winner ?? "none";
    const names = { village: "The village wins", wolves: "The wolves win" };
    banner.textContent = `${names[state.winner] ?? "Nobody wins"}: ${state.reason}`;
  } else {
    banner.hidden = true;
  }
}

// Append the log lines the list does not show yet (or redraw it all after a rewind).
export function drawLog(list, state) {
  if (list.children.length > state.log.length) list.replaceChildren();
  for (let i = list.children.length; i < state.log.length; i++) {
    const item = document.createElement("li");
    item.className = state.log[i].kind;
    item.textContent = state.log[i].text;
    list.append(item);
  }
  list.scrollTop = list.scrollHeight;
}
