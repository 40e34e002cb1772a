// The human seat's controls: who you are, the open request with its choices as buttons (a text box
// for speech, a number for a bid), the time left, and what the game rejected and why.

import { phaseName } from "./narrate.js";

const VERBS = {
  vote: "Vote", kill: "Kill", inspect: "Inspect", protect: "Protect", heal: "Heal", poison: "Poison",
  shoot: "Shoot",
};

function node(tag, attrs = {}, text = null) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== null) n.textContent = text;
  return n;
}

export class SeatPanel {
  constructor(root, send) {
    this.root = root;
    this.send = send; // frame -> bool (false: not connected)
    this.request = null;
    this.deadline = 0;
    this.timer = null;
    root.hidden = false;
    this.you = root.querySelector("#you");
    this.prompt = root.querySelector("#prompt");
    this.choices = root.querySelector("#choices");
    this.clock = root.querySelector("#time-left");
    this.notice = root.querySelector("#notice");
  }

  // Before the first request: the role, as the game told it.
  learnRole(role) {
    if (!this.request && !this.you.dataset.role) {
      this.you.textContent = `You are ${this.player ?? "playing"}, the ${role}.`;
    }
  }

  showYou(you) {
    const wolves = you.wolves.length > 1 ? ` Your pack: ${you.wolves.join(", ")}.` : "";
    const potions = you.role === "witch"
      ? ` Potions: ${[you.heal_left && "healing", you.poison_left && "poison"].filter(Boolean).join(", ") || "none"}.`
      : "";
    this.you.textContent = `You are ${you.player}, the ${you.role} (${you.team}).` +
      `${you.alive ? "" : " You are dead."}${wolves}${potions}`;
    this.you.dataset.role = you.role;
  }

  open(frame) {
    this.request = frame;
    this.showYou(frame.you);
    this.deadline = performance.now() + frame.seconds_left * 1000;
    this.prompt.textContent = `Your turn: ${phaseName(frame.phase)}, day ${frame.day}.`;
    this.notice.textContent = "";
    this.choices.replaceChildren();
    for (const choice of frame.choices) this.choices.append(this.choiceControls(choice));
    this.root.classList.add("open");
    this.root.dataset.phaseId = String(frame.phase_id);
    this.root.dataset.requests = String(Number(this.root.dataset.requests ?? 0) + 1); // for tests
    this.tick();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), 250);
  }

  choiceControls(choice) {
    const box = node("div", { class: `choice choice-${choice.kind}` });
    if (choice.kind === "speak") {
      const text = node("textarea", { id: "speech", maxlength: choice.max_chars, rows: 3, placeholder: "Say something to the village…" });
      const say = node("button", { type: "button", class: "act", "data-kind": "speak" }, "Say");
      say.addEventListener("click", () => {
        if (text.value.trim()) this.act({ kind: "speak", text: text.value.trim() });
      });
      text.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); say.click(); }
      });
      box.append(text, say);
    } else if (choice.kind === "bid") {
      const amount = node("input", { id: "bid", type: "number", min: 0, max: choice.max_bid, value: 0 });
      const bid = node("button", { type: "button", class: "act", "data-kind": "bid" }, "Bid");
      bid.addEventListener("click", () => this.act({ kind: "bid", amount: Number.parseInt(amount.value, 10) || 0 }));
      box.append(amount, bid);
    } else if (choice.targets && choice.targets.length) {
      box.append(node("span", { class: "verb" }, VERBS[choice.kind] ?? choice.kind));
      for (const target of choice.targets) {
        const b = node("button", { type: "button", class: "act", "data-kind": choice.kind, "data-target": target }, target);
        b.addEventListener("click", () => this.act({ kind: choice.kind, target }));
        box.append(b);
      }
    } else if (choice.kind === "abstain") {
      const b = node("button", { type: "button", class: "act", "data-kind": "abstain" }, "Pass / abstain");
      b.addEventListener("click", () => this.act({ kind: "abstain" }));
      box.append(b);
    }
    return box;
  }

  act(action) {
    if (!this.request) return;
    const sent = this.send({ type: "act", phase_id: this.request.phase_id, action });
    if (!sent) {
      this.notice.textContent = "Not connected: reconnecting, try again in a moment.";
      return;
    }
    this.setEnabled(false);
    this.notice.textContent = "Sent.";
    this.notice.className = "sent";
  }

  setEnabled(on) {
    for (const control of this.choices.querySelectorAll("button, textarea, input")) control.disabled = !on;
  }

  rejected(frame) {
    this.notice.textContent = `Rejected: ${frame.reason}`;
    this.notice.className = "rejected";
    const open = this.request && frame.phase_id === this.request.phase_id && performance.now() < this.deadline;
    if (open) this.setEnabled(true);
  }

  error(frame) {
    this.notice.textContent = `Error: ${frame.message}`;
    this.notice.className = "rejected";
    if (!frame.closing && this.request) this.setEnabled(true);
  }

  // The game moved on (a new phase, or our answer was recorded): nothing to answer any more.
  close() {
    this.request = null;
    clearInterval(this.timer);
    this.root.classList.remove("open");
    delete this.root.dataset.phaseId;
    this.prompt.textContent = "Nothing to do now: wait for your turn.";
    this.choices.replaceChildren();
    this.clock.textContent = "";
  }

  tick() {
    const left = Math.max(0, (this.deadline - performance.now()) / 1000);
    this.clock.textContent = `${Math.ceil(left)} s left`;
    this.clock.classList.toggle("hurry", left < 15);
    if (left <= 0) this.setEnabled(false);
  }
}
