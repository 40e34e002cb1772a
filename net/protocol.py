"""The wire protocol: JSON text frames, one tagged union per direction on the `type` field.

Client -> server (`ClientFrame`): `hello` (first frame: protocol version, seat token, resume point),
`act` (an answer to a request), `ping`.
Server -> client (`ServerFrame`): `welcome`, `event` (one game event with its sequence number),
`request` (act now: observation, menu, deadline), `rejected`, `game_over`, `error`, `pong`.

Event payloads are generated from the engine's event dataclasses (`engine.events.EVENT_TYPES`), so the
wire schema cannot drift from what the engine emits. Every model forbids extra fields and is frozen.
`docs/protocol.schema.json` is generated from these models (`python -m net.schema`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from engine import Action, Audience, Phase, Role, Team
from engine.config import MAX_SPEECH_CHARS
from engine.events import EVENT_TYPES

PROTOCOL_VERSION = 2
#: Versions a client may say in `hello`. Version 2 added the server speaking first when the URL says
#: everything (docs/protocol.md); a version-1 client, which always says `hello`, works unchanged.
SUPPORTED_VERSIONS = (1, 2)
#: Characters of a speech on the wire: the longest any game may allow (each game enforces its own limit).
MAX_TEXT = MAX_SPEECH_CHARS
MAX_ID = 64  # characters of an id, a name or a nonce
#: Seat and admin tokens: `secrets.token_urlsafe`'s alphabet, at most MAX_ID characters.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
TOKEN_RULE = "a token is 1 to 64 characters among A-Z, a-z, 0-9, '_' and '-'"


class Frame(BaseModel):
    """Base of every wire model: frozen, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ClientType(StrEnum):
    """The kinds of client the seed names: agents play a seat; `ui` and `observer` watch."""

    AGENT = "agent"
    UI = "ui"
    OBSERVER = "observer"


# ---------------------------------------------------------------------------------------- actions


class SpeakAction(Frame):
    """Say `text` (discussion, wolves' chat, last words)."""

    kind: Literal["speak"]
    text: str = Field(max_length=MAX_TEXT)


class BidAction(Frame):
    """Bid 0-4 for the next speaking turn."""

    kind: Literal["bid"]
    amount: int


class TargetAction(Frame):
    """An action on one player: vote, kill, inspect, protect, heal, poison or shoot."""

    kind: Literal["vote", "kill", "inspect", "protect", "heal", "poison", "shoot"]
    target: str = Field(max_length=MAX_ID)


class AbstainAction(Frame):
    """Pass: no speech, no vote, no night power."""

    kind: Literal["abstain"]


ActionModel = Annotated[SpeakAction | BidAction | TargetAction | AbstainAction, Field(discriminator="kind")]


class ChoiceModel(Frame):
    """One line of the menu: an action kind and its allowed targets (or limits)."""

    kind: Literal["speak", "bid", "vote", "kill", "inspect", "protect", "heal", "poison", "shoot", "abstain"]
    targets: list[str] = []
    max_chars: int = 0
    max_bid: int = 0


# ---------------------------------------------------------------------------------------- client frames


class Hello(Frame):
    """First client frame. `token` is an agent's seat token (or the admin token for the full view; it
    may also come in the URL query); `resume_from` is the sequence number of the first event wanted."""

    type: Literal["hello"]
    protocol_version: int
    token: str | None = Field(default=None, pattern=TOKEN_PATTERN)
    resume_from: int = Field(default=0, ge=0)
    name: str | None = Field(default=None, max_length=MAX_ID)


class Act(Frame):
    """An agent's answer to `request(phase_id)`. `player`, if given, must be the agent's own seat."""

    type: Literal["act"]
    phase_id: int
    action: ActionModel
    player: str | None = Field(default=None, max_length=MAX_ID)


class Ping(Frame):
    """Application-level ping (the seed's heartbeat); the server answers `pong` with the same nonce."""

    type: Literal["ping"]
    nonce: str | None = Field(default=None, max_length=MAX_ID)


ClientFrame = Annotated[Hello | Act | Ping, Field(discriminator="type")]
CLIENT_FRAME: TypeAdapter[Hello | Act | Ping] = TypeAdapter(ClientFrame)


# ---------------------------------------------------------------------------------------- event payloads


def _wire_type(hint: Any) -> Any:
    """The pydantic type for an engine field annotation (tuples become lists, ids become strings)."""
    if hint is Action:
        return ActionModel
    if hint is Audience:
        return str
    supertype = getattr(hint, "__supertype__", None)  # NewType (PlayerId)
    if supertype is not None:
        return supertype
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004 - tuple[X, ...]
            return list[_wire_type(args[0])]  # type: ignore[misc]
        return tuple[tuple(_wire_type(a) for a in args)]  # type: ignore[misc]
    if origin in (Union, types.UnionType):
        mapped = tuple(_wire_type(a) for a in args)
        return Union[mapped]  # noqa: UP007 - a union built at run time
    return hint


def _event_model(cls: type) -> type[Frame]:
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {"type": (Literal[cls.type], ...)}  # type: ignore[attr-defined]
    for f in dataclasses.fields(cls):
        default = ... if f.default is dataclasses.MISSING else f.default
        fields[f.name] = (
            _wire_type(hints[f.name]),
            default if not isinstance(default, tuple) else list(default),
        )
    model: type[Frame] = create_model(f"{cls.__name__}Payload", __base__=Frame, __doc__=cls.__doc__, **fields)
    return model


EVENT_MODELS: dict[str, type[Frame]] = {name: _event_model(cls) for name, cls in EVENT_TYPES.items()}
EventPayload = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007


# ---------------------------------------------------------------------------------------- server frames


class Welcome(Frame):
    """First server frame. `view` is what this connection receives: `player:NAME`, `public` or `full`."""

    type: Literal["welcome"]
    message_type: Literal["welcome"] = "welcome"  # the seed's name for `type`: its listeners read it
    protocol_version: int
    client_id: str
    client_type: ClientType
    view: str
    game_id: str | None
    seat: str | None
    resume_from: int
    heartbeat_s: float


class EventFrame(Frame):
    """One game event; `seq` counts this view's events from 0 (a gap means something was missed)."""

    type: Literal["event"]
    message_type: Literal["event"] = "event"  # the seed's name for `type`: its listeners read it
    seq: int
    event: EventPayload  # type: ignore[valid-type]  # a union generated from the engine at import


class You(Frame):
    """The requested player's own secrets."""

    player: str
    role: Role
    team: Team
    alive: bool
    wolves: list[str]
    heal_left: bool
    poison_left: bool


class RequestFrame(Frame):
    """Act now. Answer with `act` carrying the same `phase_id` within `seconds_left` seconds.

    `seen` is how many events of this view precede the request: the observation is those events plus
    `you`, so an agent that kept every `event` frame has everything it may know.
    """

    type: Literal["request"]
    message_type: Literal["request"] = "request"  # the seed's name for `type`: its listeners read it
    game_id: str
    phase_id: int
    phase: Phase
    day: int
    seconds_left: float
    you: You
    alive_players: list[str]
    choices: list[ChoiceModel]
    seen: int


class Rejected(Frame):
    """That answer was not applied (`reason`): illegal (a legal one may follow before the deadline),
    late, a duplicate, or from a seat that was given up."""

    type: Literal["rejected"]
    message_type: Literal["rejected"] = "rejected"  # the seed's name for `type`: its listeners read it
    phase_id: int
    reason: str


class GameOver(Frame):
    """The game ended (`winner` null: no winner or aborted); every role; faults per seat."""

    type: Literal["game_over"]
    message_type: Literal["game_over"] = "game_over"  # the seed's name for `type`: its listeners read it
    game_id: str
    winner: Team | None
    termination: str | None
    reason: str
    day: int
    roles: dict[str, Role]
    faults: dict[str, int]


class ErrorCode(StrEnum):
    """Why the server complains. The connection stays open unless the frame says `closing`."""

    INVALID_JSON = "invalid_json"
    INVALID_FRAME = "invalid_frame"
    BINARY_NOT_SUPPORTED = "binary_not_supported"
    PROTOCOL_VERSION = "protocol_version"
    HELLO_REQUIRED = "hello_required"
    BAD_TOKEN = "bad_token"
    NOT_AN_AGENT = "not_an_agent"
    NOT_YOUR_SEAT = "not_your_seat"
    STALE_PHASE = "stale_phase"
    RATE_LIMITED = "rate_limited"
    REPLACED = "replaced"
    NO_GAME = "no_game"
    SEAT_RELEASED = "seat_released"


class ErrorFrame(Frame):
    """A clear complaint about the client's last frame (or its connection)."""

    type: Literal["error"]
    message_type: Literal["error"] = "error"  # the seed's name for `type`: its listeners read it
    code: ErrorCode
    message: str
    closing: bool = False


class Pong(Frame):
    """Answer to `ping`."""

    type: Literal["pong"]
    message_type: Literal["pong"] = "pong"  # the seed's name for `type`: its listeners read it
    nonce: str | None = None


ServerFrame = Annotated[
    Welcome | EventFrame | RequestFrame | Rejected | GameOver | ErrorFrame | Pong, Field(discriminator="type")
]
SERVER_FRAME: TypeAdapter[Welcome | EventFrame | RequestFrame | Rejected | GameOver | ErrorFrame | Pong] = (
    TypeAdapter(ServerFrame)
)
