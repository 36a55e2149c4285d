"""A tiny causal LM folder for training tests: a byte-level BPE tokenizer trained on a
few sentences and a one-layer Llama with random weights, built offline in ~1 s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS = [
    "What is 2 + 3? The answer is 5.",
    "Your answer is incorrect. Please try again.",
    "Let us think step by step. 12 + 6 = 18. #### 18",
    "User: Assistant: System: 0 1 2 3 4 5 6 7 8 9",
]

# A minimal chat template in the common shape (BOS, role headers, an end-of-turn
# token), for the templated path of tokenisation.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def tiny_tokenizer(*, chat_template: bool = False) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<bos>", "<eos>", "<unk>", "<|end|>"]
    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    raw.train_from_iterator(CORPUS, trainer=trainer)
    from tokenizers.processors import TemplateProcessing

    raw.post_processor = TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", raw.token_to_id("<bos>"))])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", unk_token="<unk>"
    )
    if chat_template:
        tok.chat_template = CHAT_TEMPLATE
    return tok


def tiny_config(vocab_size: int) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )


def tiny_model(vocab_size: int, seed: int = 0) -> Any:
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(tiny_config(vocab_size)).float()


def tiny_model_dir(path: Path, *, chat_template: bool = False) -> Path:
    """A model folder AutoModelForCausalLM / AutoTokenizer (and the gateway) load."""
    tok = tiny_tokenizer(chat_template=chat_template)
    model = tiny_model(len(tok))
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def write_episodes(path: Path) -> Path:
    """A tiny <N>_turns.json: one episode solved at turn 2, one never solved."""
    episodes = [
        {
            "id": "gsm8k-1",
            "question": "What is 2 + 3?",
            "gold": "#### 5",
            "observations": ["What is 2 + 3?", "Your answer is incorrect. Please try again."],
            "actions": ["The answer is 6.", "The answer is 5."],
            "rewards": [0, 1],
            "answers": ["6", "5"],
            "models": ["m", "m"],
        },
        {
            "id": "gsm8k-2",
            "question": "What is 12 + 6?",
            "gold": "#### 18",
            "observations": ["What is 12 + 6?", "Your answer is incorrect. Please try again."],
            "actions": ["Let us think.", "12 + 6 = 17. #### 17"],
            "rewards": [-1, 0],
            "answers": [None, "17"],
            "models": ["m", "m"],
        },
    ]
    path.write_text(json.dumps(episodes), encoding="utf-8")
    return path
