"""GRPO with TRL on the sandbox server: LoRA via PEFT, multi-turn episodes via rollout_func.

    npm run serve-env -- --builtin train --port 8000 &
    accelerate launch python/examples/train_grpo.py --model Qwen/Qwen2.5-7B-Instruct \
        --env-url http://127.0.0.1:8000 --steps 200 --num-generations 8 --out runs/qwen7b-lora

Defaults match the playground's trainer (loss_type dapo = token mean over the batch, plain k3 KL,
beta 0.04, epsilon 0.2, LoRA on all 7 projections); see docs/scale-out.md.
"""
import argparse
import json
import os

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

import torch
from datasets import Dataset
from peft import LoraConfig, PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

from agent_safety_env import metadata
from agent_safety_env.trl_rollout import env_reward, make_rollout_func

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--env-url", default="http://127.0.0.1:8000")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--num-generations", type=int, default=8, help="G: episodes per scenario")
    ap.add_argument("--prompts-per-step", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--beta", type=float, default=0.04)
    ap.add_argument("--epsilon", type=float, default=0.2)
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--lora-alpha", type=int, default=32)
    ap.add_argument("--lora-init", choices=["default", "random"], default="default", help="random: non-zero B (tests)")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--max-context", type=int, default=4096)
    ap.add_argument("--scenarios", type=int, default=0, help="use only the first N scenario ids of the server (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cpu", action="store_true")
    ap.add_argument("--check-ids", help="after saving: write PEFT's logits for these ids (CSV) to --check-out")
    ap.add_argument("--check-out")
    a = ap.parse_args()

    ids = metadata(a.env_url).get("scenario_ids")
    if not ids:
        raise SystemExit("the server lists no scenario_ids in /metadata")
    if a.scenarios:
        ids = ids[: a.scenarios]
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = "<|endoftext|>"
    tokenizer.padding_side = "left"
    args = GRPOConfig(
        output_dir=a.out, max_steps=a.steps, learning_rate=a.lr, beta=a.beta, epsilon=a.epsilon,
        loss_type="dapo", use_bias_correction_kl=False, num_generations=a.num_generations,
        per_device_train_batch_size=a.num_generations * a.prompts_per_step, gradient_accumulation_steps=1,
        max_completion_length=a.max_context, temperature=1.0, seed=a.seed, logging_steps=1,
        save_strategy="no", report_to=[], use_cpu=a.cpu, bf16=not a.cpu and torch.cuda.is_available(),
    )
    lora = LoraConfig(r=a.lora_r, lora_alpha=a.lora_alpha, lora_dropout=0.0, target_modules=TARGETS, task_type="CAUSAL_LM",
                      init_lora_weights=a.lora_init == "default")
    episodes: list = []
    trainer = GRPOTrainer(
        model=a.model, reward_funcs=[env_reward], args=args, train_dataset=Dataset.from_dict({"prompt": ids}),
        processing_class=tokenizer, peft_config=lora,
        rollout_func=make_rollout_func(a.env_url, a.max_new_tokens, a.max_context, log=episodes),
    )
    trainer.train()
    # Only PEFT's files (adapter_config.json, adapter_model.safetensors, README.md): Trainer.save_model
    # would add tokenizer files and training_args.bin (a torch pickle) that the playground does not need.
    trainer.model.save_pretrained(a.out)
    with open(os.path.join(a.out, "episodes.json"), "w") as f:
        json.dump({"episodes": episodes, "log_history": trainer.state.log_history}, f, indent=1)
    print(json.dumps({"adapter": a.out, "episodes": len(episodes), "steps": trainer.state.global_step}))

    if a.check_ids:
        base = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
        peft_model = PeftModel.from_pretrained(base, a.out).eval()
        x = torch.tensor([[int(t) for t in a.check_ids.split(",")]])
        with torch.no_grad():
            logits = peft_model(input_ids=x).logits[0].float()
        with open(a.check_out, "w") as f:
            json.dump({"logits": logits.tolist(), "std": float(logits.std())}, f)


if __name__ == "__main__":
    main()
