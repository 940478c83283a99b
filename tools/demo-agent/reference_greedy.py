"""Ground truth for tests/gpu/demo-agent.test.ts: Hugging Face's greedy continuation of the demo
agent on one train-split prompt, as rendered by the model policy (prompt text from make-data.ts).

    python tools/demo-agent/reference_greedy.py --data train.jsonl --model models/demo-agent \\
        --out tests/fixtures/demo-agent-greedy.json
"""
import argparse
import json

import torch
import transformers
from tokenizers import Tokenizer
from transformers import GenerationConfig, Qwen2ForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokens", type=int, default=24)
    args = ap.parse_args()
    with open(args.data, encoding="utf-8") as f:
        first = json.loads(f.readline())
    prompt = first["segments"][0]["text"]
    tok = Tokenizer.from_file(f"{args.model}/tokenizer.json")
    model = Qwen2ForCausalLM.from_pretrained(args.model).eval()
    ids = tok.encode(prompt, add_special_tokens=False).ids
    with torch.no_grad():
        # Exactly `tokens` greedy steps with no stop and no suppression: min_new_tokens would mask the
        # end-of-turn ids (the engine's greedy path does not), so turn the stop ids off instead.
        gen = GenerationConfig(max_new_tokens=args.tokens, do_sample=False, eos_token_id=None, pad_token_id=tok.token_to_id("<|endoftext|>"))
        out = model.generate(torch.tensor([ids]), generation_config=gen)
    greedy = out[0, len(ids):].tolist()
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({
            "generator": "tools/demo-agent/reference_greedy.py", "transformers_version": transformers.__version__,
            "scenario": first["id"], "prompt_tokens": len(ids), "prompt_ids": ids, "greedy_ids": greedy,
            "greedy_text": tok.decode(greedy, skip_special_tokens=False),
        }, f)
    print(first["id"], len(ids), greedy)


if __name__ == "__main__":
    main()
