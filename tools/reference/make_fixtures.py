#!/usr/bin/env python3
"""Ground-truth fixtures from Hugging Face's own code for the WebGPU engine and LoRA training.

Creates tiny *random* Qwen2/Qwen3 checkpoints (not real Qwen weights) with transformers' own
model classes, then records what transformers (and PEFT, for LoRA) compute on them:
logits, per-token log-probs, greedy continuations, LoRA logits and LoRA gradients.

Deterministic: fixed seeds, deterministic torch algorithms, CPU only. Re-running it rewrites
tests/fixtures/models/ with identical tensors (JSON numbers are float32 shortest round-trip).

Usage (from the repository root):
    python tools/reference/make_fixtures.py [--out tests/fixtures/models]
"""
from __future__ import annotations

import argparse
import copy
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from fixture_json import write_json
from fixture_models import MODEL_SPECS, ModelSpec, build_model, patch_config_json

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)  # reduction order independent of the machine's core count

GREEDY_NEW_TOKENS = 16
LORA_RANK = 4
LORA_ALPHA = 8
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LORA_SEED = 1234
LOSS_LAST_K = 5
SECOND_ROW_LEN = 7
# Greedy tokens whose top-1/top-2 logit gap is below this could flip under float32 rounding
# differences between implementations; the script refuses such prompts.
MIN_GREEDY_MARGIN = 1e-2
MIN_LOGITS_STD = 0.5


def prompt_ids(spec: ModelSpec, attempt: int, length: int | None = None) -> list[int]:
    """Fixed pseudo-random token ids, avoiding 0 so a zero-initialised buffer cannot pass by luck."""
    gen = torch.Generator().manual_seed(spec.seed * 1000 + 7 + attempt)
    return torch.randint(1, spec.config_kwargs["vocab_size"], (length or spec.prompt_len,), generator=gen).tolist()


def forward_logits(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0]


def gathered_logprobs(logits: torch.Tensor, ids: list[int]) -> torch.Tensor:
    """log p(ids[t] | ids[<t]) for t >= 1, from logits[t-1]."""
    logp = torch.log_softmax(logits[:-1].double(), dim=-1)
    return logp.gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1)


def greedy(model, ids: list[int]) -> tuple[list[int], float]:
    """16 greedy tokens via model.generate with EOS disabled, cross-checked by a plain argmax loop."""
    from transformers import GenerationConfig

    gen_cfg = GenerationConfig(
        do_sample=False, max_new_tokens=GREEDY_NEW_TOKENS, min_new_tokens=GREEDY_NEW_TOKENS,
        eos_token_id=None, pad_token_id=0, bos_token_id=None,
    )
    with torch.no_grad():
        out = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             generation_config=gen_cfg)
    new_ids = out[0, len(ids):].tolist()
    if len(new_ids) != GREEDY_NEW_TOKENS:
        raise RuntimeError(f"generate returned {len(new_ids)} tokens, expected {GREEDY_NEW_TOKENS}")

    # Recompute every step without a KV cache: the engine must match both paths.
    seq = list(ids)
    min_margin = math.inf
    for _ in range(GREEDY_NEW_TOKENS):
        last = forward_logits(model, seq)[-1]
        top2 = torch.topk(last, 2).values
        min_margin = min(min_margin, float(top2[0] - top2[1]))
        seq.append(int(torch.argmax(last)))
    if seq[len(ids):] != new_ids:
        raise RuntimeError(f"generate() {new_ids} disagrees with the argmax loop {seq[len(ids):]}")
    return new_ids, min_margin


def model_reference(spec: ModelSpec, model) -> dict:
    for attempt in range(20):
        ids = prompt_ids(spec, attempt)
        new_ids, margin = greedy(model, ids)
        if margin >= MIN_GREEDY_MARGIN:
            break
    else:
        raise RuntimeError(f"{spec.name}: no prompt with a greedy margin >= {MIN_GREEDY_MARGIN}")

    logits = forward_logits(model, ids)
    logits_std = float(logits.float().std())
    if logits_std <= MIN_LOGITS_STD:
        raise RuntimeError(f"{spec.name}: logits too flat (std {logits_std:.3f}); scale the weights up")
    with torch.no_grad():
        logits64 = model.double()(input_ids=torch.tensor([ids])).logits[0]
        model.float()
    # A second, shorter sequence run on its own: a batched/padded engine run must match it per row.
    ids2 = prompt_ids(spec, 500, SECOND_ROW_LEN)
    logits2 = forward_logits(model, ids2)
    return {
        "model": spec.name,
        "input_ids": ids,
        "logits": logits,
        "logprobs": gathered_logprobs(logits, ids),
        "logits_std": logits_std,
        "float64_max_abs_diff": float((logits.double() - logits64).abs().max()),
        "greedy": {"prompt_ids": ids, "new_ids": new_ids, "min_top2_margin": margin},
        "second_row": {"input_ids": ids2, "logits": logits2, "logprobs": gathered_logprobs(logits2, ids2)},
    }


def loss_mask_for(length: int) -> list[int]:
    """Prompt (first 3 tokens) and a 'tool response' span in the middle are excluded."""
    mask = [1] * length
    for t in range(3):
        mask[t] = 0
    mid = length // 2
    mask[mid] = 0
    mask[mid + 1] = 0
    return mask


def masked_nll(logits: torch.Tensor, ids: list[int], mask: list[int]) -> torch.Tensor:
    logp = torch.log_softmax(logits[:-1], dim=-1)
    tok_logp = logp.gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1)
    weights = torch.tensor(mask[1:], dtype=logits.dtype)
    return -(tok_logp * weights).sum() / weights.sum()


def lora_grads(peft_model, loss: torch.Tensor) -> dict[str, torch.Tensor]:
    """Gradients of every LoRA tensor, keyed by the names PEFT writes to adapter_model.safetensors."""
    peft_model.zero_grad(set_to_none=True)
    loss.backward()
    grads = {}
    for name, param in peft_model.named_parameters():
        if "lora_" not in name:
            continue
        saved_name = name.replace(".default.", ".")
        grads[saved_name] = param.grad.detach().float().contiguous().clone()
    return grads


def lora_fixture(spec: ModelSpec, model, ids: list[int], out_dir: Path) -> dict:
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file, save_file

    torch.manual_seed(LORA_SEED)
    lora_cfg = LoraConfig(r=LORA_RANK, lora_alpha=LORA_ALPHA, target_modules=LORA_TARGETS,
                          init_lora_weights=False, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora_cfg)
    peft_model.eval()  # dropout is 0 anyway; eval keeps the forward identical to inference
    lora_dir = out_dir / "lora"
    peft_model.save_pretrained(str(lora_dir), safe_serialization=True)

    saved = load_file(str(lora_dir / "adapter_model.safetensors"))
    if not saved or any(t.abs().max() == 0 for k, t in saved.items() if "lora_B" in k):
        raise RuntimeError(f"{spec.name}: LoRA B is zero; init_lora_weights=False was not honoured")

    logits = forward_logits(peft_model, ids)
    mask = loss_mask_for(len(ids))

    # Gradients in float64 (the float32 forward above is the reference for logits).
    peft_model.double()
    logits64 = peft_model(input_ids=torch.tensor([ids])).logits[0]
    loss = masked_nll(logits64, ids, mask)
    grads = lora_grads(peft_model, loss)
    logits64 = peft_model(input_ids=torch.tensor([ids])).logits[0]
    last_k_mask = [0] * (len(ids) - LOSS_LAST_K) + [1] * LOSS_LAST_K
    loss_last_k = masked_nll(logits64, ids, last_k_mask)
    grads_last_k = lora_grads(peft_model, loss_last_k)
    peft_model.float()

    if set(grads) != set(saved):
        raise RuntimeError(f"{spec.name}: gradient names {sorted(set(grads) ^ set(saved))} differ from the adapter's")
    save_file(grads, str(lora_dir / "grads.safetensors"))
    save_file(grads_last_k, str(lora_dir / "grads_last_k.safetensors"))

    return {
        "model": spec.name,
        "lora": {"r": LORA_RANK, "lora_alpha": LORA_ALPHA, "scaling": LORA_ALPHA / LORA_RANK,
                 "target_modules": LORA_TARGETS, "seed": LORA_SEED},
        "input_ids": ids,
        "logits_with_adapter": logits,
        "logprobs_with_adapter": gathered_logprobs(logits, ids),
        "logits_with_adapter_std": float(logits.std()),
        "loss_definition": ("L = -(1/sum_t mask[t]) * sum_{t>=1, mask[t]=1} log_softmax(logits[t-1])[input_ids[t]]; "
                            "mask[t] marks the token being predicted, mask[0] is always 0. "
                            "Computed in float64; gradients stored as float32."),
        "loss_mask": mask,
        "loss": loss.item(),
        "loss_last_k_definition": "same with mask[t]=1 exactly for the last K positions t in [T-K, T-1]",
        "loss_last_k": LOSS_LAST_K,
        "loss_last_k_value": loss_last_k.item(),
        "grads_file": "grads.safetensors",
        "grads_last_k_file": "grads_last_k.safetensors",
    }


def write_model(spec: ModelSpec, out_root: Path, model, dtype: torch.dtype, name: str) -> Path:
    out_dir = out_root / name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    # A copy is cast, not the model: casting back would leave bf16-rounded rotary buffers behind.
    copy.deepcopy(model).to(dtype).save_pretrained(str(out_dir), safe_serialization=True)
    patch_config_json(out_dir / "config.json")
    return out_dir


def pin_hash_seed() -> None:
    """PEFT stores target_modules from a Python set; a fixed hash seed keeps adapter_config.json stable."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])


def main() -> int:
    pin_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="tests/fixtures/models", help="output folder (default: %(default)s)")
    args = parser.parse_args()
    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)

    for spec in MODEL_SPECS:
        model = build_model(spec)
        out_dir = write_model(spec, out_root, model, torch.float32, spec.name)
        ref = model_reference(spec, model)
        write_json(out_dir / "reference.json", ref)
        print(f"{spec.name}: logits std {ref['logits_std']:.3f}, greedy margin {ref['greedy']['min_top2_margin']:.4f}, "
              f"f32-vs-f64 max diff {ref['float64_max_abs_diff']:.2e}")

        if spec.bf16_copy:
            # Round every weight to bfloat16 once; the f32 reference is then computed from those
            # exact values (bf16 -> f32 upcast is lossless), so the loader's BF16 path is testable.
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.to(torch.bfloat16).float())
            bf16_name = f"{spec.name}-bf16"
            bf16_dir = write_model(spec, out_root, model, torch.bfloat16, bf16_name)
            bf16_ref = model_reference(spec, model)
            bf16_ref["model"] = bf16_name
            write_json(bf16_dir / "reference.json", bf16_ref)
            print(f"{bf16_name}: logits std {bf16_ref['logits_std']:.3f}")
            model = build_model(spec)  # back to the float32 weights for the LoRA fixture

        if spec.lora:
            lora_ref = lora_fixture(spec, model, ref["input_ids"], out_dir)
            write_json(out_dir / "lora" / "lora_reference.json", lora_ref)
            print(f"{spec.name}/lora: loss {lora_ref['loss']:.5f}, last-{LOSS_LAST_K} loss {lora_ref['loss_last_k_value']:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
