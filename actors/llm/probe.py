"""Ask an LLM server which models it has (for run.py's start-up check and `run.py models`), on both
backends: Ollama (`/api/tags`) and OpenAI-compatible servers (`/v1/models`)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import httpx
import ollama
import openai

from actors.llm.config import Backend, LLMSettings
from actors.llm.openai_backend import make_client, status_problem


class LLMUnavailable(Exception):
    """The server cannot be reached or does not answer as it should; the message says which."""


def list_models(host: str, timeout: float = 3.0, backend: Backend = "ollama") -> list[str]:
    """Names of the models on the server at `host` (e.g. "llama3.2:latest"); raises LLMUnavailable."""
    if backend == "openai":
        return _openai_models(host, timeout)
    try:
        listed = ollama.Client(host=host, timeout=timeout).list()
    except ConnectionError:
        raise LLMUnavailable(f"no Ollama server answers at {host}") from None
    except ollama.ResponseError as exc:
        raise LLMUnavailable(f"the server at {host} answered {exc.status_code}: {exc.error}") from None
    except httpx.HTTPError as exc:
        raise LLMUnavailable(f"the server at {host} did not answer properly ({type(exc).__name__})") from None
    return sorted(m.model for m in listed.models if m.model)


def _openai_models(base_url: str, timeout: float) -> list[str]:
    try:
        listed = make_client(base_url, timeout).models.list()
        return sorted(m.id for m in listed.data if m.id)
    except openai.APITimeoutError:
        raise LLMUnavailable(f"the server at {base_url} did not answer in {timeout:g} s") from None
    except openai.APIConnectionError:
        raise LLMUnavailable(f"no OpenAI-compatible server answers at {base_url}") from None
    except openai.APIStatusError as exc:
        raise LLMUnavailable(str(status_problem(exc, base_url))) from None
    except (openai.APIError, ValueError, TypeError, AttributeError) as exc:
        raise LLMUnavailable(
            f"the server at {base_url} did not answer as an OpenAI-compatible one ({type(exc).__name__}; "
            "is the base URL the one ending in /v1?)"
        ) from None


def has_model(models: list[str], name: str) -> bool:
    """Whether `name` is among `models`, with Ollama's implicit ":latest" tag."""
    return name in models or (":" not in name and f"{name}:latest" in models)


def closest(models: list[str], name: str) -> str | None:
    """The model `name` was probably meant to be (a typo), if one is close enough."""
    short = {m.removesuffix(":latest"): m for m in models}
    match = difflib.get_close_matches(name.removesuffix(":latest"), list(short), n=1, cutoff=0.6)
    return match[0] if match else None


def missing_llm_seats(settings: Mapping[str, LLMSettings]) -> dict[str, list[str]]:
    """Which LLM seats cannot play: each problem (server unreachable, model not on it) said plainly,
    with the seats it affects. `settings` maps each LLM seat to its settings; each server is asked once."""
    available: dict[tuple[Backend, str], list[str] | str] = {}
    problems: dict[str, list[str]] = {}
    for player, seat in settings.items():
        server, model = (seat.backend, seat.host), seat.model
        if server not in available:
            try:
                available[server] = list_models(seat.host, backend=seat.backend)
            except LLMUnavailable as exc:
                available[server] = str(exc)
        found = available[server]
        if isinstance(found, str):
            problems.setdefault(found, []).append(player)
        elif not has_model(found, model):
            problems.setdefault(_not_there(seat, found), []).append(player)
    return problems


def _not_there(seat: LLMSettings, found: list[str]) -> str:
    hints = []
    guess = closest(found, seat.model)
    if guess is not None:
        hints.append(f"did you mean {guess}?")
    if seat.backend == "ollama":
        hints.append(f"{'or' if hints else 'try'}: ollama pull {seat.model}")
    hint = f"; {' '.join(hints)}" if hints else ""
    return f"model {seat.model!r} is not on {seat.host} (it has: {', '.join(found) or 'none'}{hint})"
