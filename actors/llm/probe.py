"""Ask an Ollama server which models it has (for run.py's checks and `run.py models`)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import ollama

from actors.llm.config import LLMSettings


class LLMUnavailable(Exception):
    """The server cannot be reached or does not answer as Ollama does; the message says which."""


def list_models(host: str, timeout: float = 3.0) -> list[str]:
    """Names of the models on the server at `host` (e.g. "llama3.2:latest"); raises LLMUnavailable."""
    try:
        listed = ollama.Client(host=host, timeout=timeout).list()
    except ConnectionError:
        raise LLMUnavailable(f"no Ollama server answers at {host}") from None
    except ollama.ResponseError as exc:
        raise LLMUnavailable(f"the server at {host} answered {exc.status_code}: {exc.error}") from None
    except httpx.HTTPError as exc:
        raise LLMUnavailable(f"the server at {host} did not answer properly ({type(exc).__name__})") from None
    return sorted(m.model for m in listed.models if m.model)


def has_model(models: list[str], name: str) -> bool:
    """Whether `name` is among `models`, with Ollama's implicit ":latest" tag."""
    return name in models or (":" not in name and f"{name}:latest" in models)


def missing_llm_seats(settings: Mapping[str, LLMSettings]) -> dict[str, list[str]]:
    """Which LLM seats cannot play: each problem (server unreachable, model not on it) said plainly,
    with the seats it affects. `settings` maps each LLM seat to its settings; each host is asked once."""
    available: dict[str, list[str] | str] = {}
    problems: dict[str, list[str]] = {}
    for player, seat in settings.items():
        host, model = seat.host, seat.model
        if host not in available:
            try:
                available[host] = list_models(host)
            except LLMUnavailable as exc:
                available[host] = str(exc)
        found = available[host]
        if isinstance(found, str):
            problems.setdefault(found, []).append(player)
        elif not has_model(found, model):
            have = ", ".join(found) or "none"
            problem = f"model {model!r} is not on {host} (it has: {have}; try: ollama pull {model})"
            problems.setdefault(problem, []).append(player)
    return problems
