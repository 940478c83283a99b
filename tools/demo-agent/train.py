"""Trains the demo agent: a small Qwen2ForCausalLM from scratch, by imitation of the mixture
teacher's sandbox episodes (make-data.ts), loss on the assistant's own tokens only.

Each segment of an episode is tokenised on its own and the ids concatenated; segment boundaries
fall right after "assistant\\n" or next to an added token, where Qwen's pre-tokenizer splits anyway,
so the ids equal those of the whole text, and a prompt is tokenised exactly as the engine's
encodeChat tokenises it at inference time.

Every episode starts with the same text (system prompt and the template's tool header, ~310
tokens). It carries no information, so its keys and values are computed once per step without
gradient and shared by the batch; the rest of each episode attends to them as it does at inference.
This saves ~30% of the compute on this 2-core machine; `prefix_matches_full_forward` checks that
the loss equals a plain forward over the whole sequence.

    python tools/demo-agent/train.py --data train.jsonl --tokenizer models/demo-agent \\
        --out models/demo-agent --minutes 45
"""

import argparse
import json
import math
import os
import random
import time

import torch
from tokenizers import Tokenizer
from transformers import DynamicCache, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

IGNORE = -100


PREFIX_END = "<tools>\n"


def load_examples(path, tok):
    """(shared prefix ids, [(ids, labels) of the rest of each episode])."""
    examples, prefix = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            first = e["segments"][0]["text"]
            cut = first.index(PREFIX_END) + len(PREFIX_END)  # after a newline: a pre-token boundary
            if prefix is None:
                prefix = first[:cut]
            if first[:cut] != prefix:
                raise ValueError(f"{e['id']}: does not start with the shared prefix")
            segments = [{"text": first[cut:], "train": False}] + e["segments"][1:]
            encoded = tok.encode_batch([s["text"] for s in segments], add_special_tokens=False)
            ids, labels = [], []
            for s, enc in zip(segments, encoded):
                ids += enc.ids
                labels += enc.ids if s["train"] else [IGNORE] * len(enc.ids)
            examples.append((ids, labels))
    prefix_ids = tok.encode(prefix, add_special_tokens=False).ids
    whole = tok.encode(prefix + tok.decode(examples[0][0], skip_special_tokens=False), add_special_tokens=False).ids
    if whole != prefix_ids + examples[0][0]:
        raise ValueError("the shared prefix does not end on a token boundary")
    return prefix_ids, examples


def forward_loss(model, prefix_ids, ids, labels, mask):
    """Mean loss over label tokens, the shared prefix's keys and values computed once, without gradient."""
    b, n = ids.shape
    p = len(prefix_ids)
    with torch.no_grad():
        pre = model.model(input_ids=torch.tensor([prefix_ids]), use_cache=True).past_key_values
    cache = DynamicCache()
    for i, layer in enumerate(pre.layers):
        cache.update(layer.keys.expand(b, -1, -1, -1).contiguous(), layer.values.expand(b, -1, -1, -1).contiguous(), i)
    full_mask = torch.cat([torch.ones((b, p), dtype=mask.dtype), mask], dim=1)
    positions = torch.arange(p, p + n).unsqueeze(0).expand(b, -1)
    hidden = model.model(input_ids=ids, attention_mask=full_mask, position_ids=positions, past_key_values=cache, use_cache=True).last_hidden_state
    # Token t predicts token t+1; the first token of `ids` is predicted by the prefix (never a label).
    # Only ~7% of positions have a label: project just those through the LM head (40% of the FLOPs).
    targets = labels[:, 1:]
    keep = targets != IGNORE
    logits = model.lm_head(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits, targets[keep])


def prefix_matches_full_forward(model, prefix_ids, example, pad_id):
    ids, labels, mask = collate([example], [0], pad_id)
    with torch.no_grad():
        shared = forward_loss(model, prefix_ids, ids, labels, mask).item()
        whole = torch.tensor([prefix_ids + example[0]])
        whole_labels = torch.tensor([[IGNORE] * len(prefix_ids) + example[1]])
        plain = model(input_ids=whole, labels=whole_labels).loss.item()
    if abs(shared - plain) > 1e-4 * max(1.0, abs(plain)):
        raise AssertionError(f"shared-prefix loss {shared} != full forward {plain}")
    return shared, plain


def batches(examples, max_tokens, rng):
    """Length-bucketed batches of at most max_tokens (padded) tokens, in a shuffled order."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]), rng.random()))
    out, cur, longest = [], [], 0
    for i in order:
        n = len(examples[i][0])
        if cur and max(longest, n) * (len(cur) + 1) > max_tokens:
            out.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, n)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def collate(examples, idx, pad_id):
    n = max(len(examples[i][0]) for i in idx)
    ids = torch.full((len(idx), n), pad_id, dtype=torch.long)
    labels = torch.full((len(idx), n), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(idx), n), dtype=torch.long)
    for r, i in enumerate(idx):
        a, b = examples[i]
        ids[r, : len(a)] = torch.tensor(a)
        labels[r, : len(b)] = torch.tensor(b)
        mask[r, : len(a)] = 1
    return ids, labels, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True, help="folder with tokenizer.json (train_tokenizer.py)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--intermediate", type=int, default=384)
    ap.add_argument("--batch-tokens", type=int, default=8192)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--minutes", type=float, default=45.0, help="wall-clock budget; the schedule is set from a measured step time")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--init", help="start from this model folder's weights (same shape) instead of from scratch")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    tok = Tokenizer.from_file(os.path.join(args.tokenizer, "tokenizer.json"))
    vocab = tok.get_vocab_size(with_added_tokens=True)
    im_end, eot = tok.token_to_id("<|im_end|>"), tok.token_to_id("<|endoftext|>")
    prefix_ids, examples = load_examples(args.data, tok)
    train_tokens = sum(sum(1 for x in b if x != IGNORE) for _, b in examples)
    print(json.dumps({"episodes": len(examples), "prefix_tokens": len(prefix_ids), "tokens_after_prefix": sum(len(a) for a, _ in examples), "loss_tokens": train_tokens, "vocab": vocab}), flush=True)

    config = Qwen2Config(
        vocab_size=vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        max_position_embeddings=4096, rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
        bos_token_id=eot, eos_token_id=im_end, pad_token_id=eot, use_sliding_window=False,
        hidden_act="silu", attention_dropout=0.0,
    )
    config._attn_implementation = "sdpa"
    model = Qwen2ForCausalLM.from_pretrained(args.init, attn_implementation="sdpa") if args.init else Qwen2ForCausalLM(config)
    params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))

    print(json.dumps({"check": "shared prefix == full forward", "losses": prefix_matches_full_forward(model, prefix_ids, examples[0], eot)}), flush=True)
    epoch_batches = batches(examples, args.batch_tokens, rng)
    total_steps = max_steps = max(1, int(len(epoch_batches) * args.epochs))
    warmup = 10
    start = time.time()
    step, epoch, queue = 0, 0, list(epoch_batches)
    print(json.dumps({"params": params, "batches_per_epoch": len(epoch_batches), "planned_steps": total_steps}), flush=True)

    def lr_at(s):
        if s < warmup:
            return args.lr * (s + 1) / warmup
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (s - warmup) / max(1, total_steps - warmup)))))

    def save():
        model.save_pretrained(args.out, safe_serialization=True)
        GenerationConfig(bos_token_id=eot, eos_token_id=[im_end, eot], pad_token_id=eot, do_sample=False).save_pretrained(args.out)

    model.train()
    smoothed = None
    while step < total_steps:
        if not queue:
            epoch += 1
            queue = batches(examples, args.batch_tokens, rng)
        ids, labels, mask = collate(examples, queue.pop(), eot)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = forward_loss(model, prefix_ids, ids, labels, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        smoothed = loss.item() if smoothed is None else 0.95 * smoothed + 0.05 * loss.item()
        elapsed = time.time() - start
        if step % 20 == 0:
            # Fit the schedule to the wall-clock budget from the step time measured so far (this
            # machine is shared, so the rate drifts); never below the steps already taken.
            fit = min(max_steps, max(step + 1, int(args.minutes * 60 / (elapsed / step))))
            if fit != total_steps:
                total_steps = fit
                print(json.dumps({"planned_steps": total_steps, "reason": "time budget"}), flush=True)
        if step % 10 == 0 or step == total_steps:
            print(json.dumps({"step": step, "epoch": epoch, "loss": round(smoothed, 4), "lr": round(lr_at(step), 6), "elapsed_s": round(elapsed)}), flush=True)
        if step % args.save_every == 0:
            save()
    save()
    print(json.dumps({"done": True, "steps": step, "elapsed_s": round(time.time() - start), "final_loss": round(smoothed, 4)}), flush=True)


if __name__ == "__main__":
    main()
