// What the page knows about the game, rebuilt from the events of its view, one at a time. Shared by
// the live page and the replay: the same events always give the same state.

import { narrate } from "./narrate.js";

export class GameState {
  constructor() {
    this.players = [];
    this.rolesInPlay = [];
    this.roles = {}; // player -> role, as far as this view knows
    this.dead = {}; // player -> cause
    this.wolves = [];
    this.day = 0;
    this.night = false;
    this.phase = null;
    this.speaker = null;
    this.candidates = [];
    this.speech = null; // {player, text, phase}: the last thing said, shown in the bubble
    this.votes = []; // [voter, target] of the last votes revealed, shown as arrows until the phase moves on
    this.thinking = {}; // player -> last private reasoning (full view)
    this.winner = undefined; // undefined: not over; null: ended without a winner
    this.reason = "";
    this.log = []; // {text, kind, day}
    this.count = 0;
  }

  apply(e) {
    this.count += 1;
    switch (e.type) {
      case "game_started":
        this.players = [...e.players];
        this.rolesInPlay = e.roles;
        break;
      case "role_assigned":
        this.roles[e.player] = e.role;
        break;
      case "wolves_met":
        this.wolves = [...e.wolves];
        for (const w of e.wolves) this.roles[w] ??= "werewolf";
        break;
      case "night_fell":
        this.night = true;
        this.day = e.day;
        this.phase = null; // until the night's first phase opens
        this.speaker = null;
        this.speech = null;
        this.votes = [];
        break;
      case "day_broke":
        this.night = false;
        this.day = e.day;
        this.phase = null;
        this.speaker = null;
        this.speech = null;
        break;
      case "phase_started":
        this.phase = e.phase;
        this.speaker = e.speaker;
        this.candidates = e.candidates;
        if (e.phase !== "vote" && e.phase !== "hunter") this.votes = [];
        break;
      case "spoke":
        this.speech = { player: e.player, text: e.text, phase: e.phase };
        break;
      case "votes_revealed":
        this.votes = e.votes.filter(([, t]) => t !== null);
        break;
      case "player_died":
        this.dead[e.player] = e.cause;
        if (e.role) this.roles[e.player] = e.role;
        break;
      case "reasoned":
        this.thinking[e.player] = e.text;
        break;
      case "game_ended":
        this.winner = e.winner;
        this.reason = e.reason;
        this.phase = "game_over";
        this.speaker = null;
        for (const [p, r] of e.roles) this.roles[p] = r;
        break;
      default:
        break;
    }
    const line = narrate(e);
    if (line !== null) this.log.push(line);
  }

  get over() {
    return this.winner !== undefined;
  }
}
