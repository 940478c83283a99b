#!/usr/bin/env python3
"""PEFT side of the adapter round trip: our exported adapter, loaded by PEFT, and its logits.

tests/fixtures/peft-roundtrip/adapter/ is written by our TypeScript exporter
(tools/reference/make_ts_adapter.ts -> src/peft/export.ts). This script loads
tests/fixtures/models/qwen2-tiny-gqa with transformers, applies that adapter with
PeftModel.from_pretrained, checks PEFT read every tensor and the config as written, and records
the logits for fixed token ids in tests/fixtures/peft-roundtrip/reference.json. The GPU test
tests/gpu/training/peft-roundtrip.test.ts compares our engine's logits (merged and unmerged LoRA)
with them.

Usage (from the repository root, after `npx tsx tools/reference/make_ts_adapter.ts`):
    python tools/reference/peft_roundtrip.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from fixture_json import write_json

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)  # reduction order independent of the machine's core count

ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "qwen2-tiny-gqa"
MODEL_DIR = ROOT / "tests/fixtures/models" / MODEL_NAME
OUT_DIR = ROOT / "tests/fixtures/peft-roundtrip"
ADAPTER_DIR = OUT_DIR / "adapter"
EXPECTED = {"r": 3, "lora_alpha": 6, "scaling": 2.0}
PROMPT_LEN = 12
PROMPT_SEED = 2507
# The adapter must move the logits by at least this fraction of their std, or the test is weak.
MIN_ADAPTER_EFFECT = 0.1


def forward_logits(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0]


def check_loaded(peft_model) -> None:
    """PEFT must have read every tensor of the file, bit for bit, and the config as we wrote it."""
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file

    written = load_file(str(ADAPTER_DIR / "adapter_model.safetensors"))
    loaded = get_peft_model_state_dict(peft_model)
    if sorted(written) != sorted(loaded):
        missing = sorted(set(loaded) - set(written))
        extra = sorted(set(written) - set(loaded))
        raise RuntimeError(f"tensor names differ: PEFT expects but file lacks {missing[:3]}; file has but PEFT ignores {extra[:3]}")
    for name, tensor in written.items():
        if not torch.equal(tensor, loaded[name]):
            raise RuntimeError(f"{name}: PEFT loaded different values than the file holds")
    config = peft_model.peft_config["default"]
    if config.r != EXPECTED["r"] or config.lora_alpha != EXPECTED["lora_alpha"]:
        raise RuntimeError(f"config read as r={config.r}, lora_alpha={config.lora_alpha}; expected {EXPECTED}")
    from peft.tuners.lora import LoraLayer

    scalings = {m.scaling["default"] for m in peft_model.modules() if isinstance(m, LoraLayer)}
    if scalings != {EXPECTED["scaling"]}:
        raise RuntimeError(f"LoRA scalings {scalings}, expected {{{EXPECTED['scaling']}}}")
    adapted = {name.split(".")[-3] for name in written}
    print(f"PEFT loaded {len(written)} tensors, modules {sorted(adapted)}, scaling {EXPECTED['scaling']}")


def main() -> int:
    import peft
    import transformers
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    if not (ADAPTER_DIR / "adapter_config.json").exists():
        raise SystemExit(f"{ADAPTER_DIR} has no adapter_config.json; run `npx tsx tools/reference/make_ts_adapter.ts` first")
    model = AutoModelForCausalLM.from_pretrained(str(MODEL_DIR), dtype=torch.float32, attn_implementation="eager")
    model.eval()
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(PROMPT_SEED)
    ids = torch.randint(1, vocab, (PROMPT_LEN,), generator=gen).tolist()
    base_logits = forward_logits(model, ids)

    peft_model = PeftModel.from_pretrained(model, str(ADAPTER_DIR))
    peft_model.eval()
    check_loaded(peft_model)
    logits = forward_logits(peft_model, ids)
    logits_std = float(logits.std())
    effect = float((logits - base_logits).abs().max())
    if effect < MIN_ADAPTER_EFFECT * logits_std:
        raise RuntimeError(f"the adapter barely changes the logits (max {effect:.4f}, std {logits_std:.3f}); make it larger")
    # PEFT's own merge gives the same function (what our merged path relies on).
    merged = forward_logits(peft_model.merge_and_unload(), ids)
    merged_diff = float((merged - logits).abs().max())

    write_json(OUT_DIR / "reference.json", {
        "model": MODEL_NAME,
        "adapter_dir": "adapter",
        "lora": {"r": EXPECTED["r"], "lora_alpha": EXPECTED["lora_alpha"], "scaling": EXPECTED["scaling"]},
        "input_ids": ids,
        "logits": logits,
        "logits_std": logits_std,
        "base_logits_max_abs_diff": effect,
        "peft_merged_max_abs_diff": merged_diff,
        "peft_version": peft.__version__,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
    })
    print(f"logits std {logits_std:.3f}; adapter moves them by up to {effect:.3f}; PEFT merged vs unmerged {merged_diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
