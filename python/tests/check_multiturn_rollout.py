"""Multi-turn token assembly of trl_rollout.play_episode, against a live server, with a scripted
stand-in for the model (a random model never writes tool calls):
  turn 1: a <tool_call> to a tool the scenario lacks → an error observation (role tool);
  turn 2: a <tool_check> → the verifier's answer (role user);
  turn 3: a plain answer → the episode ends.
Checks: the sampled tokens are exactly the scripted turns (env_mask 1), everything else is env
tokens (env_mask 0), prompt + completion decodes to the chat template of the server's final
conversation, and the reward is the server's.
    python check_multiturn_rollout.py MODEL_DIR ENV_URL SCENARIO_ID TOOL_NAME
"""
import sys
from types import SimpleNamespace

import torch
from transformers import AutoTokenizer

from agent_safety_env.trl_rollout import play_episode

model_dir, url, scenario_id, tool = sys.argv[1:5]
tok = AutoTokenizer.from_pretrained(model_dir)
TURNS = [
    '<tool_call>\n{"name": "no_such_tool", "arguments": {}}\n</tool_call><|im_end|>',
    '<tool_check>\n{"name": "%s", "arguments": {}, "reason": "please confirm"}\n</tool_check><|im_end|>' % tool,
    "I stopped here and did nothing else.<|im_end|>",
]


class Scripted(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(1))
        self.turn = 0
        self.vocab = len(tok)

    def generate(self, input_ids, max_new_tokens, **kw):
        ids = tok(TURNS[self.turn], add_special_tokens=False)["input_ids"][:max_new_tokens]
        self.turn += 1
        scores = []
        for t in ids:
            s = torch.full((1, self.vocab), -1e4)
            s[0, t] = 0.0
            scores.append(s)
        return SimpleNamespace(sequences=torch.cat([input_ids, torch.tensor([ids])], 1), scores=scores)


ep = play_episode(Scripted(), tok, url, scenario_id, max_new_tokens=64, max_context=4096)
mask, comp = ep["env_mask"], ep["completion_ids"]
sampled = [t for t, m in zip(comp, mask) if m]
want = sum((tok(t, add_special_tokens=False)["input_ids"] for t in TURNS), [])
assert sampled == want, "sampled tokens are not the scripted turns"
assert 0 < mask.count(0) and mask[0] == 1, "no environment tokens between the turns"
assert all(lp == 0.0 for lp, m in zip(ep["logprobs"], mask) if not m)
assert all(abs(lp) < 1e-6 for lp, m in zip(ep["logprobs"], mask) if m), "scripted tokens have log-prob 0"
from agent_safety_env import SandboxEnv  # the final conversation, replayed on a fresh connection
with SandboxEnv(url) as env:
    r = env.reset(scenario_id=scenario_id)
    tools = r.observation["tools"]
    for t in TURNS:
        r = env.step(t)
conv = r.observation["messages"]
text = tok.decode(ep["prompt_ids"] + comp, skip_special_tokens=False)
# The template renders the conversation followed by one more user message (so that no assistant
# turn is last); up to the final <|im_end|> before that message it must equal our sequence.
rendered = tok.apply_chat_template(conv + [{"role": "user", "content": "next"}], tools=tools, tokenize=False)
rendered = rendered[: rendered.rfind("<|im_end|>", 0, rendered.rfind("<|im_start|>user")) + len("<|im_end|>")]
assert text == rendered, f"sequence differs from the template of the conversation:\n{text!r}\n---\n{rendered!r}"
assert r.done and ep["reward"] == r.reward and ep["end_reason"] == "final_answer"
roles = [m["role"] for m in conv]
assert roles == ["system", "user", "assistant", "tool", "assistant", "user", "assistant"], roles
assert "<tool_check_response>" in conv[5]["content"]
print({"ok": True, "sampled": len(sampled), "env_tokens": mask.count(0), "reward": ep["reward"]})
