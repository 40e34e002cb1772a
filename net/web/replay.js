// Replay of a game log (the JSON Lines file run.py writes, actors/gamelog.py) opened from disk: read in
// the page, never uploaded. Play, pause, speed, a timeline, one step at a time.

import { GameState } from "./state.js";
import { narrate } from "./narrate.js";

const BASE_STEP_MS = 900; // one visible step per 0.9 s at speed 1

// The events of a log file's text, in order (lines of kind "event"); throws Error with the line number.
export function parseLog(text) {
  const events = [];
  let header = false;
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let item;
    try {
      item = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} is not JSON`);
    }
    if (item && item.kind === "game") header = true;
    if (item && item.kind === "event" && item.event && typeof item.event.type === "string") events.push(item.event);
  });
  if (!header && events.length === 0) throw new Error("not a game log: no 'game' line and no events");
  return events;
}

export class Replay {
  // draw(state): redraw the page from a state. The controls are bound once; `load` replaces the log.
  constructor(controls, draw) {
    this.events = [];
    this.draw = draw;
    this.position = 0;
    this.timer = null;
    this.state = new GameState();
    const q = (s) => controls.querySelector(s);
    this.controls = controls;
    this.playButton = q("#play");
    this.timeline = q("#timeline");
    this.label = q("#position");
    this.speedSelect = q("#speed");
    this.playButton.addEventListener("click", () => (this.timer ? this.pause() : this.play()));
    q("#step-back").addEventListener("click", () => { this.pause(); this.seek(this.previousVisible()); });
    q("#step-forward").addEventListener("click", () => { this.pause(); this.seek(this.nextVisible()); });
    q("#to-start").addEventListener("click", () => { this.pause(); this.seek(0); });
    q("#to-end").addEventListener("click", () => { this.pause(); this.seek(this.events.length); });
    this.timeline.addEventListener("input", () => { this.pause(); this.seek(Number(this.timeline.value)); });
    this.speedSelect.addEventListener("change", () => { this.speed = Number(this.speedSelect.value) || 1; });
    this.speed = Number(this.speedSelect.value) || 1;
  }

  load(events, { publicOnly = false } = {}) {
    this.pause();
    this.events = publicOnly ? events.filter((e) => e.audience === "public") : events;
    this.timeline.max = String(this.events.length);
    this.controls.hidden = false;
    this.position = 0;
    this.state = new GameState();
    this.seek(0);
  }

  // Position just after the next event that shows something (a log line), or the end.
  nextVisible() {
    let i = this.position;
    while (i < this.events.length) {
      i += 1;
      if (narrate(this.events[i - 1]) !== null) break;
    }
    return i;
  }

  previousVisible() {
    let i = this.position - 1;
    while (i > 0 && narrate(this.events[i - 1]) === null) i -= 1;
    return Math.max(i, 0);
  }

  seek(position) {
    const target = Math.max(0, Math.min(position, this.events.length));
    if (target < this.position || target === 0) {
      this.state = new GameState();
      this.position = 0;
    }
    while (this.position < target) this.state.apply(this.events[this.position++]);
    this.timeline.value = String(this.position);
    this.label.textContent = `${this.position} / ${this.events.length}`;
    this.draw(this.state);
    if (this.position >= this.events.length) this.pause();
  }

  play() {
    if (this.position >= this.events.length) this.seek(0);
    this.playButton.textContent = "Pause";
    this.playButton.dataset.playing = "true";
    const step = () => {
      this.seek(this.nextVisible());
      if (this.timer) this.timer = setTimeout(step, BASE_STEP_MS / this.speed);
    };
    this.timer = setTimeout(step, BASE_STEP_MS / this.speed);
  }

  pause() {
    clearTimeout(this.timer);
    this.timer = null;
    this.playButton.textContent = "Play";
    this.playButton.dataset.playing = "false";
  }

  stop() {
    this.pause();
  }
}
