"""LLM players on Ollama: settings, prompts, per-request reply schemas and the agent itself."""

from actors.llm.agent import LLMAgent, host_limiter
from actors.llm.config import LLMSettings, OllamaOptions, default_host
from actors.llm.personas import PERSONAS, Persona

__all__ = ["PERSONAS", "LLMAgent", "LLMSettings", "OllamaOptions", "Persona", "default_host", "host_limiter"]
