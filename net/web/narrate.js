// Plain-words log lines for wire events (docs/protocol.md, "Events and sequence numbers"). A line never
// adds information the event does not carry; bookkeeping events say nothing (null).

const CAUSES = { night: "was found dead", execution: "is executed", hunter: "is shot" };
const WINNERS = { village: "The village wins", wolves: "The wolves win" };
const PHASES = {
  wolf_chat: "wolves' chat", night: "night", witch: "witch", hunter: "hunter's shot",
  discussion: "discussion", bidding: "discussion (bidding)", vote: "vote",
  last_words: "last words", game_over: "game over",
};

export function phaseName(phase) {
  return phase ? PHASES[phase] ?? phase.replaceAll("_", " ") : "waiting";
}

export function names(list) {
  const items = list.map(String);
  if (items.length === 0) return "nobody";
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function learned(who) {
  return (e) => `${e[who]} (${who}) learns that ${e.target} is ${e.is_wolf ? "a werewolf" : "not a werewolf"}.`;
}

const ACTION_VERBS = {
  kill: "wants to kill", inspect: "inspects", protect: "protects", heal: "heals", poison: "poisons",
  shoot: "shoots",
};

const NARRATORS = {
  game_started: (e) =>
    `${e.players.length} players sit down: ${names(e.players)}. Roles in play: ` +
    `${e.roles.map(([r, n]) => `${n} ${r}`).join(", ")}.`,
  role_assigned: (e) => `${e.player} is the ${e.role}.`,
  wolves_met: (e) => `The werewolves are ${names(e.wolves)}.`,
  night_fell: (e) => `Night ${e.day} falls.`,
  day_broke: (e) =>
    e.deaths.length
      ? `Day ${e.day} breaks. Found dead: ${names(e.deaths)}.`
      : `Day ${e.day} breaks. Nobody died in the night.`,
  phase_started: (e) => {
    if (e.phase === "vote") return e.candidates.length ? `Revote between ${names(e.candidates)}.` : "The village votes.";
    if (e.phase === "hunter") return `${e.speaker} is the hunter and may shoot someone.`;
    if (e.phase === "wolf_chat") return "The wolves whisper together.";
    return null;
  },
  spoke: (e) => `${e.player}: ${e.text}`,
  action_recorded: (e) => {
    const verb = ACTION_VERBS[e.action.kind];
    return verb ? `${e.player} ${verb} ${e.action.target}.` : null;
  },
  bids_revealed: (e) => `${e.speaker} wins the floor.`,
  votes_revealed: (e) => {
    const tally = e.tally.map(([p, n]) => `${p} ${n}`).join(", ") || "no votes";
    const ballots = e.votes.map(([v, t]) => `${v} > ${t ?? "abstain"}`).join(", ");
    return `Votes (round ${e.round}): ${tally}.  [${ballots}]`;
  },
  no_execution: (e) => `Nobody is executed: ${e.reason}.`,
  player_died: (e) => {
    const how = CAUSES[e.cause] ?? "dies";
    if (e.role) return `${e.player} ${how}. ${e.player} was a ${e.role}.`;
    if (e.team) return `${e.player} ${how}. ${e.player} played for the ${e.team}.`;
    return `${e.player} ${how}.`;
  },
  wolves_chose: (e) =>
    `The wolves ${e.victim ? `attack ${e.victim}` : "attack nobody"}.  ` +
    `[${e.votes.map(([v, t]) => `${v} > ${t ?? "nobody"}`).join(", ")}]`,
  seer_learned: learned("seer"),
  medium_learned: learned("medium"),
  witch_woke: (e) => {
    const potions = [["healing", e.heal_left], ["poison", e.poison_left]].filter(([, l]) => l).map(([n]) => n);
    return `${e.witch} (witch) wakes: the wolves attacked ${e.victim ?? "nobody"}; potions left: ` +
      `${potions.join(", ") || "none"}.`;
  },
  night_resolved: (e) =>
    `Night ${e.day} resolved: victim ${e.victim ?? "none"}, protected ${names(e.protected)}, ` +
    `healed ${e.healed ?? "nobody"}, poisoned ${names(e.poisoned)}.`,
  hunter_shot: (e) => `${e.hunter} shoots ${e.target}.`,
  player_faulted: (e) => `${e.player} faulted (${phaseName(e.phase)}): ${e.reason}.`,
  reasoned: (e) => `${e.player} thinks: ${e.text}`,
  game_ended: (e) =>
    `Game over. ${WINNERS[e.winner] ?? "Nobody wins"}: ${e.reason}. Roles: ` +
    `${e.roles.map(([p, r]) => `${p} (${r})`).join(", ")}.`,
};

// The log line for an event and its style class: "public", "secret" (a private audience),
// "wolves" (the wolves' chat and kills), "reasoning" (a player's private reasoning), "speech".
export function narrate(event) {
  const narrator = NARRATORS[event.type];
  const text = narrator ? narrator(event) : null;
  if (text === null) return null;
  let kind = event.audience === "public" ? "public" : "secret";
  if (event.audience === "wolves") kind = "wolves";
  if (event.type === "reasoned") kind = "reasoning";
  if (event.type === "spoke" && event.audience === "public") kind = "speech";
  return { text, kind, day: event.day };
}
