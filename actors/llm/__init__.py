"""LLM players on Ollama: settings, prompts, per-request reply schemas and the agent itself."""

from actors.llm.agent import LLMAgent
from actors.llm.config import LLMSettings, OllamaOptions, default_host
from actors.llm.personas import PERSONAS, Persona
from actors.llm.pool import HOST_POOLS, HostPool, HostPools, Limiter, host_limiter

__all__ = [
    "HOST_POOLS",
    "PERSONAS",
    "HostPool",
    "HostPools",
    "LLMAgent",
    "LLMSettings",
    "Limiter",
    "OllamaOptions",
    "Persona",
    "default_host",
    "host_limiter",
]
