#!/usr/bin/env python3
"""PyTorch reference for the GPU optimizer: torch.optim.AdamW after torch.nn.utils.clip_grad_norm_.

Writes tests/fixtures/adamw-reference.json: a few small float32 tensors, given gradients for 3
steps, and the parameters after each step plus the final AdamW state (exp_avg, exp_avg_sq).
Cases cover clipping active with weight decay, clipping inactive without weight decay and with
non-default betas/eps, and no clipping at all. Deterministic (fixed seeds, one CPU thread).

Usage (from the repository root):
    python tools/reference/adamw_reference.py [--out tests/fixtures/adamw-reference.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from fixture_json import write_json

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

STEPS = 3
# Names and shapes like LoRA A/B matrices, with odd sizes (1 and 7 elements too).
TENSORS = [("layers.0.q_proj.lora_A", (3, 5)), ("layers.0.q_proj.lora_B", (7, 1)), ("layers.1.v_proj.lora_A", (1,)), ("layers.1.v_proj.lora_B", (2, 9))]
CASES = [
    # name, lr, betas, eps, weight_decay, max_norm (None: no clipping), gradient scale
    ("clipped-with-weight-decay", 0.01, (0.9, 0.999), 1e-8, 0.1, 1.0, 1.0),
    ("unclipped-no-weight-decay-custom-betas", 0.05, (0.8, 0.99), 1e-6, 0.0, 100.0, 0.5),
    ("no-clipping-default-decay", 0.002, (0.9, 0.999), 1e-8, 0.01, None, 2.0),
]


def run_case(index: int, name: str, lr: float, betas: tuple[float, float], eps: float, weight_decay: float, max_norm: float | None, grad_scale: float) -> dict:
    gen = torch.Generator().manual_seed(7000 + index)
    params = [torch.nn.Parameter(torch.randn(shape, generator=gen, dtype=torch.float32)) for _, shape in TENSORS]
    tensors = [{"name": n, "shape": list(s), "initial": p.detach().flatten().clone()} for (n, s), p in zip(TENSORS, params)]
    opt = torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=False)
    steps = []
    for _ in range(STEPS):
        grads = [torch.randn(p.shape, generator=gen, dtype=torch.float32) * grad_scale for p in params]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        if max_norm is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
            clipped = False
        else:
            norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
            clipped = bool(max_norm / (float(norm) + 1e-6) < 1.0)
        opt.step()
        steps.append({
            "grads": {n: g.flatten() for (n, _), g in zip(TENSORS, grads)},
            "gradNorm": float(norm),
            "clipped": clipped,
            "params": {n: p.detach().flatten().clone() for (n, _), p in zip(TENSORS, params)},
        })
    if not any(s["clipped"] for s in steps) and max_norm is not None and max_norm < 10:
        raise RuntimeError(f"case {name}: clipping was meant to be active but never was")
    state = [opt.state[p] for p in params]
    return {
        "name": name,
        "config": {"lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps, "weightDecay": weight_decay, "maxGradNorm": max_norm},
        "tensors": tensors,
        "steps": steps,
        "final": {
            "step": STEPS,
            "m": {n: s["exp_avg"].flatten() for (n, _), s in zip(TENSORS, state)},
            "v": {n: s["exp_avg_sq"].flatten() for (n, _), s in zip(TENSORS, state)},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/adamw-reference.json"))
    args = parser.parse_args()
    fixture = {
        "generator": "tools/reference/adamw_reference.py",
        "torch": torch.__version__,
        "clipEpsilon": 1e-6,
        "cases": [run_case(i, *case) for i, case in enumerate(CASES)],
    }
    write_json(args.out, fixture)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
