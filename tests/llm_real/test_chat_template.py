"""The chat template the OpenAI-compatible server of the tier gets renders the front's Gemma prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.llm_real.llama_backend import write_tokenizer_config
from tests.llm_real.ollama_front import gemma_prompt

CHATS = [
    [{"role": "user", "content": "Vote."}],
    [{"role": "system", "content": "You are Ana."}, {"role": "user", "content": "Vote."}],
    [
        {"role": "system", "content": "You are Ana."},
        {"role": "user", "content": "Vote."},
        {"role": "assistant", "content": "{}"},
        {"role": "user", "content": "That reply is invalid."},
    ],
]


@pytest.mark.parametrize("messages", CHATS)
def test_the_servers_template_renders_what_the_front_sends(tmp_path: Path, messages):
    chat_format = pytest.importorskip("llama_cpp.llama_chat_format", reason="needs llama-cpp-python")
    config = json.loads(write_tokenizer_config(tmp_path).read_text())
    formatter = chat_format.hf_tokenizer_config_to_chat_formatter(config)
    rendered = formatter(messages=messages)
    assert rendered.prompt == "<bos>" + gemma_prompt(messages)
    assert rendered.stop == ["<end_of_turn>", "<bos>"]
