#!/usr/bin/env python3
"""Tiny *trained* Qwen2/Qwen3 fixtures for quantization-fidelity tests, made with Hugging Face code.

Random fixtures (make_fixtures.py) have flat, low-margin next-token distributions, so 4-bit
quantization flips their top-1 token about half the time; a real trained model keeps >= 98 %.
This script trains transformers' own Qwen2ForCausalLM / Qwen3ForCausalLM on a synthetic language
with learnable structure until their predictions are as confident as a trained model's, then writes
the checkpoint, a reference.json in the same schema as the random fixtures, plus
  - "eval": held-out sequences, the f32 model's top-1 ids on them and its mean NLL;
  - "python_fake_quant": top-1 agreement and mean NLL after q8 / q4 fake quantization of every
    2-D weight (the engine's formats, src/engine/quant/formats.ts), as a cross-check.

The language (vocab 320; ids 0 and >= 320 never occur):
  id 1 / 2 / 3 = mode marker at position 0 (Markov / counting / copying), id 4 = separator,
  ids 5..319 = content tokens.
  - Markov: a seeded sparse chain; every content token has three successors with probabilities
    SUCCESSOR_PROBS (one dominant). The first content token comes from a per-mode start
    distribution of the same shape.
  - Counting: start token from the start distribution, then +1 each step (wrapping 319 -> 5).
  - Copying: a span of SPAN_LEN Markov tokens, separator, the same span, separator, ... (needs
    an induction head; deterministic after the first span).

Deterministic: fixed seeds, torch.use_deterministic_algorithms, one CPU thread. Running it twice
gives byte-identical files with the versions in requirements.txt.

Usage (from the repository root):
    python tools/reference/make_trained_fixture.py [--out tests/fixtures/models]
"""
from __future__ import annotations

import argparse
import copy
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fixture_json import write_json
from fixture_models import patch_config_json
from make_fixtures import forward_logits, gathered_logprobs, greedy

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)  # fixed (reduction order must not depend on the machine); 2 threads ran ~15x slower on a shared 2-core box

# ---- the language -------------------------------------------------------------------------------
VOCAB = 320
MODE_MARKOV, MODE_COUNT, MODE_COPY = 1, 2, 3
MODES = (MODE_MARKOV, MODE_COUNT, MODE_COPY)
SEP = 4
FIRST_CONTENT = 5
SUCCESSOR_PROBS = (0.85, 0.10, 0.05)
SPAN_LEN = 8
LANGUAGE_SEED = 2024

# ---- data and training ----------------------------------------------------------------------------
TRAIN_SEQS = 16384
VAL_SEQS = 512
SEQ_LEN = 64
BATCH = 32
TRAIN_SEED, VAL_SEED, EVAL_SEED, PROMPT_SEED = 101, 202, 303, 404
EVAL_SEQS, EVAL_LEN = 8, 33  # 8 x 32 = 256 predicted positions
PROMPT_LEN, SECOND_ROW_LEN = 11, 7
# The fixture is refused if the model's validation NLL is further than this above the language's
# own entropy (the NLL of the true generating process on the same tokens).
MAX_ENTROPY_GAP = 0.05
MIN_GREEDY_MARGIN = 1e-2
GROUP = 32


@dataclass(frozen=True)
class TrainedSpec:
    name: str
    family: str
    seed: int
    steps: int
    lr: float
    config_kwargs: dict


SPECS = [
    TrainedSpec(
        name="qwen2-tiny-trained", family="qwen2", seed=5, steps=1000, lr=3e-3,
        config_kwargs=dict(
            vocab_size=VOCAB, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
            rms_norm_eps=1e-6, tie_word_embeddings=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
        ),
    ),
    TrainedSpec(
        name="qwen3-tiny-trained", family="qwen3", seed=6, steps=1000, lr=3e-3,
        config_kwargs=dict(
            vocab_size=VOCAB, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=24, max_position_embeddings=256,
            rms_norm_eps=1e-6, tie_word_embeddings=True, attention_bias=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
        ),
    ),
]


class Language:
    """The seeded synthetic language; sample() returns token ids and their true log-probabilities."""

    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        n_content = VOCAB - FIRST_CONTENT
        k = len(SUCCESSOR_PROBS)
        # Three distinct successors per content token, and per mode for the first content token.
        self.successors = np.stack([rng.choice(n_content, size=k, replace=False) for _ in range(n_content)]) + FIRST_CONTENT
        self.starts = {m: rng.choice(n_content, size=k, replace=False) + FIRST_CONTENT for m in MODES}
        self.cum = np.cumsum(SUCCESSOR_PROBS)
        self.logp = np.log(np.array(SUCCESSOR_PROBS))

    def _pick(self, choices: np.ndarray, u: float) -> tuple[int, float]:
        i = min(int(np.searchsorted(self.cum, u, side="right")), len(choices) - 1)
        return int(choices[i]), float(self.logp[i])

    def sample(self, rng: np.random.Generator, mode: int, length: int) -> tuple[list[int], list[float]]:
        """ids[0] is the mode; logp[t] = log P(ids[t] | ids[<t]) for t >= 1 (logp[0] = 0)."""
        u = rng.random(length)
        ids, logp = [mode], [0.0]
        tok, lp = self._pick(self.starts[mode], u[1])
        ids.append(tok)
        logp.append(lp)
        span = [tok]
        for t in range(2, length):
            prev = ids[-1]
            if mode == MODE_COUNT:
                tok, lp = FIRST_CONTENT + (prev - FIRST_CONTENT + 1) % (VOCAB - FIRST_CONTENT), 0.0
            elif mode == MODE_MARKOV or (mode == MODE_COPY and len(span) < SPAN_LEN):
                tok, lp = self._pick(self.successors[prev - FIRST_CONTENT], u[t])
                if mode == MODE_COPY:
                    span.append(tok)
            else:  # copying: separator, span, separator, span, ...
                k = (t - 1) % (SPAN_LEN + 1)
                tok, lp = (SEP if k == SPAN_LEN else span[k]), 0.0
            ids.append(tok)
            logp.append(lp)
        return ids, logp

    def batch(self, seed: int, count: int, length: int, modes: list[int] | None = None):
        rng = np.random.default_rng(seed)
        modes = modes or [int(m) for m in rng.choice(MODES, size=count)]
        rows = [self.sample(rng, m, length) for m in modes]
        return torch.tensor([r[0] for r in rows]), torch.tensor([r[1] for r in rows], dtype=torch.float64)


# ---- model ----------------------------------------------------------------------------------------
def build(spec: TrainedSpec):
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM

    cfg_cls, model_cls = (Qwen2Config, Qwen2ForCausalLM) if spec.family == "qwen2" else (Qwen3Config, Qwen3ForCausalLM)
    config = cfg_cls(**spec.config_kwargs, bos_token_id=None, eos_token_id=None, use_cache=True)
    config._attn_implementation = "eager"
    torch.manual_seed(spec.seed)
    model = model_cls(config).float()
    # HF initialises RMSNorm gains to 1 and biases to 0, and training barely moves some of them; start
    # them away from those values (as the random fixtures do) so that a kernel which ignores a norm
    # gain or a bias still fails on the trained fixture.
    gen = torch.Generator().manual_seed(spec.seed)
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                param.copy_(0.5 + torch.rand(param.shape, generator=gen))
            elif name.endswith(".bias"):
                param.copy_(0.2 * torch.randn(param.shape, generator=gen))
    return model


def next_token_nll(model, ids: torch.Tensor) -> torch.Tensor:
    """Per-position NLL [B, T-1] of ids[:, 1:] (float64 log-softmax of the float32 logits)."""
    logits = model(input_ids=ids).logits[:, :-1].double()
    return -torch.log_softmax(logits, dim=-1).gather(2, ids[:, 1:, None]).squeeze(2)


def train(spec: TrainedSpec, lang: Language) -> tuple[object, dict]:
    model = build(spec)
    train_ids, _ = lang.batch(TRAIN_SEED, TRAIN_SEQS, SEQ_LEN)
    val_ids, val_logp = lang.batch(VAL_SEED, VAL_SEQS, SEQ_LEN)
    oracle = float(-val_logp[:, 1:].mean())

    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=spec.lr, betas=(0.9, 0.98), eps=1e-8)
    warmup = 50
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, spec.steps) / spec.steps)))
    order = torch.Generator().manual_seed(spec.seed)
    perm, cursor = torch.randperm(TRAIN_SEQS, generator=order), 0
    start = time.time()
    model.train()
    for step in range(spec.steps):
        if cursor + BATCH > TRAIN_SEQS:
            perm, cursor = torch.randperm(TRAIN_SEQS, generator=order), 0
        batch = train_ids[perm[cursor:cursor + BATCH]]
        cursor += BATCH
        logits = model(input_ids=batch).logits[:, :-1]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == spec.steps - 1:
            print(f"  {spec.name} step {step:5d} train loss {loss.item():.4f}  ({time.time() - start:.0f}s)", flush=True)
    model.eval()
    with torch.no_grad():
        val = float(next_token_nll(model, val_ids).mean())
    stats = {"steps": spec.steps, "final_train_loss": float(loss.item()), "val_nll": val,
             "language_entropy_val": oracle}
    print(f"  {spec.name}: val NLL {val:.4f} vs language entropy {oracle:.4f} (gap {val - oracle:.4f})")
    if val - oracle > MAX_ENTROPY_GAP:
        raise RuntimeError(f"{spec.name}: validation NLL {val:.4f} is {val - oracle:.4f} above the language entropy "
                           f"{oracle:.4f} (> {MAX_ENTROPY_GAP}); train longer")
    return model, stats


# ---- fake quantization (src/engine/quant/pack.ts semantics) ---------------------------------------
def fake_quant(weight: torch.Tensor, qmax: int) -> torch.Tensor:
    """Groups of 32 along the last (input) dim, scale = f16(max|w| / qmax), q = clamp(round_half_even(w / scale)),
    w' = q * scale. q4 (qmax 7) is MLC q4f16_1: stored as q + 7 in 0..15, value (stored - 7) * scale."""
    rows, cols = weight.shape
    if cols % GROUP:
        raise ValueError(f"input dim {cols} is not a multiple of {GROUP}")
    w = weight.detach().double().reshape(rows, cols // GROUP, GROUP)
    scale = (w.abs().amax(dim=2, keepdim=True) / qmax).half().double()
    q = torch.where(scale > 0, torch.round(w / torch.where(scale > 0, scale, 1.0)), 0.0).clamp(-qmax, qmax)
    return (q * scale).float().reshape(rows, cols)


def quantized_copy(model, qmax: int):
    q = copy.deepcopy(model)
    with torch.no_grad():
        for _, p in q.named_parameters():  # named_parameters() lists a tied tensor once
            if p.dim() == 2:
                p.copy_(fake_quant(p, qmax))
    return q


def eval_stats(model, seqs: list[list[int]]) -> tuple[list[list[int]], float, list[float], list[float]]:
    """top-1 ids at positions 0..T-2, mean NLL of ids[1:], max-probs and top-1/top-2 logit margins."""
    top1, nll, maxp, margins = [], [], [], []
    for ids in seqs:
        full = forward_logits(model, ids)
        logits = full[:-1]
        top1.append(logits.argmax(dim=-1).tolist())
        nll += (-gathered_logprobs(full, ids)).tolist()
        maxp += torch.softmax(logits.double(), dim=-1).amax(dim=-1).tolist()
        top2 = torch.topk(logits, 2, dim=-1).values
        margins += (top2[:, 0] - top2[:, 1]).tolist()
    return top1, float(np.mean(nll)), maxp, margins


def agreement(a: list[list[int]], b: list[list[int]]) -> float:
    pairs = [(x, y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)]
    return sum(x == y for x, y in pairs) / len(pairs)


# ---- reference.json --------------------------------------------------------------------------------
def reference(spec: TrainedSpec, model, lang: Language) -> dict:
    prompt_rng = np.random.default_rng(PROMPT_SEED)
    # In-distribution prompts: a copying prompt (span, separator, first copied token) exercises
    # attention and the KV cache in the greedy continuation; the second row is a counting prompt.
    for _ in range(20):
        ids, _ = lang.sample(prompt_rng, MODE_COPY, PROMPT_LEN)
        new_ids, margin = greedy(model, ids)
        if margin >= MIN_GREEDY_MARGIN:
            break
    else:
        raise RuntimeError(f"{spec.name}: no prompt with a greedy margin >= {MIN_GREEDY_MARGIN}")
    ids2, _ = lang.sample(prompt_rng, MODE_COUNT, SECOND_ROW_LEN)
    logits = forward_logits(model, ids)
    with torch.no_grad():
        logits64 = copy.deepcopy(model).double()(input_ids=torch.tensor([ids])).logits[0]
    logits2 = forward_logits(model, ids2)
    return {
        "model": spec.name,
        "input_ids": ids,
        "logits": logits,
        "logprobs": gathered_logprobs(logits, ids),
        "logits_std": float(logits.std()),
        "float64_max_abs_diff": float((logits.double() - logits64).abs().max()),
        "greedy": {"prompt_ids": ids, "new_ids": new_ids, "min_top2_margin": margin},
        "second_row": {"input_ids": ids2, "logits": logits2, "logprobs": gathered_logprobs(logits2, ids2)},
    }


def eval_sequences(lang: Language) -> list[list[int]]:
    """EVAL_SEQS held-out samples, pairwise distinct (counting mode has only three start tokens, so
    plain samples would repeat and waste eval positions): modes Markov, counting, copying, ..."""
    rng = np.random.default_rng(EVAL_SEED)
    modes = [MODE_MARKOV, MODE_COUNT, MODE_COPY, MODE_MARKOV, MODE_COPY, MODE_MARKOV, MODE_COUNT, MODE_COPY]
    seqs: list[list[int]] = []
    for mode in modes[:EVAL_SEQS]:
        ids = lang.sample(rng, mode, EVAL_LEN)[0]
        while ids in seqs:
            ids = lang.sample(rng, mode, EVAL_LEN)[0]
        seqs.append(ids)
    return seqs


def eval_and_quant(spec: TrainedSpec, model, lang: Language) -> tuple[dict, dict]:
    seqs = eval_sequences(lang)
    top1, nll, maxp, margins = eval_stats(model, seqs)
    eval_block = {
        "sequences": seqs,
        "top1": top1,
        "nll_mean": nll,
        "mean_max_prob": float(np.mean(maxp)),
        "min_top2_margin": float(min(margins)),
    }
    fq = {}
    for fmt, qmax in (("q8", 127), ("q4", 7)):
        q_top1, q_nll, _, _ = eval_stats(quantized_copy(model, qmax), seqs)
        fq[fmt] = {"top1_agreement": agreement(top1, q_top1), "nll_mean": q_nll}
    return eval_block, fq


def write_fixture(spec: TrainedSpec, out_root: Path, model, lang: Language, stats: dict) -> None:
    out_dir = out_root / spec.name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    patch_config_json(out_dir / "config.json")
    ref = reference(spec, model, lang)
    ref["eval"], ref["python_fake_quant"] = eval_and_quant(spec, model, lang)
    ref["training"] = stats
    write_json(out_dir / "reference.json", ref)
    e, fq = ref["eval"], ref["python_fake_quant"]
    print(f"{spec.name}: {stats}\n  logits std {ref['logits_std']:.3f}, greedy margin {ref['greedy']['min_top2_margin']:.3f}, "
          f"eval nll {e['nll_mean']:.4f} (ppl {math.exp(e['nll_mean']):.4f}), mean max-prob {e['mean_max_prob']:.3f}, "
          f"min margin {e['min_top2_margin']:.3f}\n  q8 agreement {fq['q8']['top1_agreement']:.4f} nll {fq['q8']['nll_mean']:.4f}; "
          f"q4 agreement {fq['q4']['top1_agreement']:.4f} nll {fq['q4']['nll_mean']:.4f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_out = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "models"
    parser.add_argument("--out", default=str(default_out), help="output folder (default: tests/fixtures/models)")
    parser.add_argument("--only", choices=[s.name for s in SPECS], help="make just this fixture")
    args = parser.parse_args()
    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    lang = Language(LANGUAGE_SEED)
    for spec in SPECS:
        if args.only and spec.name != args.only:
            continue
        model, stats = train(spec, lang)
        write_fixture(spec, out_root, model, lang, stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
