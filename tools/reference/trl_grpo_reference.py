"""TRL's GRPO loss and LoRA gradients for a batch, through TRL's own GRPOTrainer._compute_loss.

    python tools/reference/trl_grpo_reference.py --model DIR --adapter DIR --batch FILE.json \
        --out GRADS.safetensors [--loss-json FILE.json]
    python tools/reference/trl_grpo_reference.py --make-fixtures     # writes tests/fixtures/grpo-grad/

The batch format is `npm run cli -- grpo-grad`'s (src/cli/commands/grpo-grad.ts). The model is
the Hugging Face checkpoint with the PEFT adapter (trainable); TRL's trainer is built around it
(GRPOConfig with the batch's loss_type, beta, epsilon = epsilon_high, temperature 1,
importance_sampling_level "token", no delta, no entropy mask, no vLLM) and its `_compute_loss` runs
on the batch as TRL lays it out: prompts left-padded, completions right-padded with a completion
mask, `old_per_token_logps` and `ref_per_token_logps` from the batch (with ref_logprobs null and
beta > 0, the reference is the model with its adapter disabled, as TRL does for PEFT models),
`num_items_in_batch` = the batch's completion tokens. The model is in eval mode (no dropout;
TRL's normaliser for dapo is then num_items_in_batch, i.e. one process, one accumulation step).
Gradients are written under PEFT's adapter_model.safetensors names (no ".default").
"""
import argparse
import json
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def build_trainer(model, batch, workdir):
    from datasets import Dataset
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast
    from trl import GRPOConfig, GRPOTrainer

    n = len(batch["prompt_ids"])
    # The fixture models have no tokenizer; TRL only needs one with a pad token to be constructed.
    vocab = {f"t{i}": i for i in range(model.config.vocab_size)}
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="t0")), pad_token="t0", eos_token="t1")
    args = GRPOConfig(
        output_dir=workdir, loss_type=batch["loss_type"], beta=batch["beta"], epsilon=batch["epsilon"],
        per_device_train_batch_size=n, num_generations=n, gradient_accumulation_steps=1,
        max_completion_length=max(len(c) for c in batch["completion_ids"]), temperature=1.0,
        use_bias_correction_kl=bool(batch.get("kl_bias_correction", False)),
        use_cpu=True, report_to=[], logging_strategy="no", save_strategy="no", bf16=False,
    )
    assert args.importance_sampling_level == "token" and args.delta is None and args.top_entropy_quantile == 1.0
    trainer = GRPOTrainer(model=model, reward_funcs=[lambda completions, **kw: [0.0] * len(completions)], args=args,
                          train_dataset=Dataset.from_dict({"prompt": ["t2"] * n}), processing_class=tok)
    # Symmetric clipping, as ours: TRL's epsilon_high defaults to epsilon.
    assert trainer.epsilon_low == trainer.epsilon_high == batch["epsilon"], (trainer.epsilon_low, trainer.epsilon_high)
    assert trainer.loss_type == batch["loss_type"] and trainer.beta == batch["beta"] and trainer.temperature == 1.0
    return trainer


def trl_inputs(batch, pad=0):
    def left(rows):
        width = max(len(r) for r in rows)
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        return ids, mask

    def right(rows, fill=0.0, dtype=torch.long):
        width = max(len(r) for r in rows)
        return torch.tensor([r + [fill] * (width - len(r)) for r in rows], dtype=dtype)

    prompt_ids, prompt_mask = left(batch["prompt_ids"])
    completion_ids = right(batch["completion_ids"], pad)
    completion_mask = right([[1] * len(c) for c in batch["completion_ids"]], 0)
    inputs = {
        "prompt_ids": prompt_ids, "prompt_mask": prompt_mask, "completion_ids": completion_ids, "completion_mask": completion_mask,
        "advantages": torch.tensor(batch["advantages"], dtype=torch.float32),
        "old_per_token_logps": right(batch["old_logprobs"], 0.0, torch.float32),
        "num_items_in_batch": completion_mask.sum(),
    }
    if batch.get("ref_logprobs") is not None:
        inputs["ref_per_token_logps"] = right(batch["ref_logprobs"], 0.0, torch.float32)
    return inputs


def completion_logprobs(model, batch):
    """log p of each completion token, one unpadded sequence at a time (for making batches)."""
    out = []
    with torch.no_grad():
        for p, c in zip(batch["prompt_ids"], batch["completion_ids"]):
            ids = torch.tensor([p + c])
            logits = model(input_ids=ids).logits[0].double()
            lp = torch.log_softmax(logits, -1)
            out.append([float(lp[len(p) - 1 + j, t]) for j, t in enumerate(c)])
    return out


def load_peft(model_dir, adapter_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, adapter_dir, is_trainable=True)
    model.eval()
    return model


def trl_loss_and_grads(model_dir, adapter_dir, batch):
    model = load_peft(model_dir, adapter_dir)
    with tempfile.TemporaryDirectory() as work:
        trainer = build_trainer(model, batch, work)
        inputs = trl_inputs(batch)
        if batch["beta"] != 0.0 and "ref_per_token_logps" not in inputs:
            with torch.no_grad(), trainer.model.disable_adapter():
                ref, _, _ = trainer._get_per_token_logps_and_entropies(trainer.model, torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1), torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1), inputs["completion_ids"].size(1))
            inputs["ref_per_token_logps"] = ref
        trainer.model.eval()
        trainer.model.zero_grad()
        loss = trainer._compute_loss(trainer.model, inputs)
        loss.backward()
        loss = loss.detach()
        grads = {}
        for name, p in trainer.model.named_parameters():
            if p.requires_grad and "lora_" in name:
                grads[name.replace(".default", "")] = p.grad.detach().clone().contiguous()
    return float(loss), grads


def make_batch(model_dir, adapter_dir, seed, loss_type, beta, with_ref, kl_correction):
    """A batch with mixed-sign advantages and old log-probs far enough from the current ones that
    both clip sides are hit (ratios outside [1 − ε, 1 + ε] for positive and negative advantages)."""
    g = torch.Generator().manual_seed(seed)
    model = load_peft(model_dir, adapter_dir)
    vocab = model.config.vocab_size
    prompt_lens, completion_lens = [3, 6, 4, 5], [7, 4, 9, 6]
    batch = {
        "prompt_ids": [torch.randint(0, vocab, (n,), generator=g).tolist() for n in prompt_lens],
        "completion_ids": [torch.randint(0, vocab, (n,), generator=g).tolist() for n in completion_lens],
        "advantages": [1.2, -0.7, 0.4, -1.1], "beta": beta, "epsilon": 0.2, "loss_type": loss_type,
        "kl_bias_correction": kl_correction,
    }
    current = completion_logprobs(model, batch)
    shift = lambda rows, scale: [[v + scale * float(torch.randn((), generator=g)) for v in r] for r in rows]
    batch["old_logprobs"] = shift(current, 0.35)
    batch["ref_logprobs"] = shift(current, 0.5) if with_ref else None
    ratios = [torch.exp(torch.tensor(c) - torch.tensor(o)) for c, o in zip(current, batch["old_logprobs"])]
    clipped = sum(int(((r > 1.2) & (a > 0)).sum() + ((r < 0.8) & (a < 0)).sum()) for r, a in zip(ratios, batch["advantages"]))
    total = sum(completion_lens)
    if not (0 < clipped < total):
        raise SystemExit(f"batch seed {seed}: {clipped} of {total} tokens clipped; pick another seed")
    return batch


def save_grads(path, grads):
    from safetensors.torch import save_file
    save_file({k: v.float() for k, v in sorted(grads.items())}, path)


CASES = [
    # (fixture model, loss_type, beta, ref in the batch, use_bias_correction_kl)
    ("qwen2-tiny-gqa", "dapo", 0.04, True, False),   # our trainer's objective
    ("qwen2-tiny-gqa", "grpo", 0.0, False, False),
    ("qwen3-tiny", "dapo", 0.04, True, True),        # TRL 1.x's defaults (loss_type dapo, bias-corrected KL)
    ("qwen3-tiny", "bnpo", 0.04, False, False),      # reference from the model with its adapter disabled
]


def make_fixtures():
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    out_dir = os.path.join(ROOT, "tests", "fixtures", "grpo-grad")
    os.makedirs(out_dir, exist_ok=True)
    index = []
    for k, (name, loss_type, beta, with_ref, kl_correction) in enumerate(CASES):
        model_dir = os.path.join(ROOT, "tests", "fixtures", "models", name)
        adapter_dir = os.path.join(model_dir, "lora")
        batch = make_batch(model_dir, adapter_dir, 100 + k, loss_type, beta, with_ref, kl_correction)
        loss, grads = trl_loss_and_grads(model_dir, adapter_dir, batch)
        if any(float(g.abs().max()) == 0.0 for g in grads.values()):
            raise SystemExit(f"{name}/{loss_type}: a gradient is all zero; the test would be weak")
        stem = f"{name}-{loss_type}" + ("-klcorr" if kl_correction else "")
        with open(os.path.join(out_dir, f"{stem}.batch.json"), "w") as f:
            json.dump(batch, f)
        save_grads(os.path.join(out_dir, f"{stem}.grads.safetensors"), grads)
        index.append({"model": name, "batch": f"{stem}.batch.json", "grads": f"{stem}.grads.safetensors", "loss": loss, "loss_type": loss_type, "beta": beta, "ref_in_batch": with_ref, "kl_bias_correction": kl_correction})
        print(f"{stem}: loss {loss:.8f}, {len(grads)} gradient tensors")
    import peft, transformers, trl
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump({"made_by": "tools/reference/trl_grpo_reference.py --make-fixtures", "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__, "trl": trl.__version__}, "cases": index}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make-fixtures", action="store_true")
    ap.add_argument("--model")
    ap.add_argument("--adapter")
    ap.add_argument("--batch")
    ap.add_argument("--out")
    ap.add_argument("--loss-json")
    a = ap.parse_args()
    if a.make_fixtures:
        return make_fixtures()
    if not (a.model and a.adapter and a.batch and a.out):
        ap.error("give --model, --adapter, --batch and --out (or --make-fixtures)")
    with open(a.batch) as f:
        batch = json.load(f)
    batch.setdefault("loss_type", "dapo")
    batch.setdefault("beta", 0.0)
    batch.setdefault("epsilon", 0.2)
    batch.setdefault("kl_bias_correction", False)
    loss, grads = trl_loss_and_grads(a.model, a.adapter, batch)
    save_grads(a.out, grads)
    print(json.dumps({"loss": loss, "loss_type": batch["loss_type"]}))
    if a.loss_json:
        with open(a.loss_json, "w") as f:
            json.dump({"loss": loss}, f)


if __name__ == "__main__":
    sys.exit(main())
