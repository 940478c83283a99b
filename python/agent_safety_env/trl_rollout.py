"""TRL GRPOTrainer integration: a `rollout_func` that plays whole multi-turn episodes against the
sandbox server, with the server's reward as the reward function.

Why `rollout_func` and not `environment_factory`: TRL's environment_factory exposes environment
methods as tools in the model's native tool-calling format and runs TRL's own tool loop. Our
protocol has a second channel that is not a tool call: `<tool_check>` verification requests,
answered by the verifier as a user message (`<tool_check_response>`), plus error observations for
malformed calls, and a reward judged over the whole trajectory. Sending each raw assistant turn to
the server, which runs the same agent loop as the browser, keeps all of that exactly as in the
playground; `rollout_func` lets us do that and return the token sequence with an `env_mask`
(1 = sampled by the policy, trained; 0 = tool/verifier/template tokens, not trained).

Each prompt of the dataset is a scenario id (a plain string); TRL's sampler already repeats each
prompt num_generations times, so one episode is played per prompt received.
"""
from __future__ import annotations

from typing import Any

import torch

from .client import SandboxEnv

END_TOKENS = ("<|im_end|>", "<|endoftext|>")


def _render(tokenizer, messages, tools, add_generation_prompt):
    return tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=add_generation_prompt, tokenize=False)


def _encode(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


SENTINEL = "\u2063sentinel\u2063"


def _env_suffix(tokenizer, conv, n_new, tools) -> str:
    """The template text after the last assistant turn's <|im_end|>: its environment messages and
    the next generation prompt. Found by rendering the turn once followed by those messages and
    once by a sentinel user message, so the assistant turn is never the last message (templates
    such as Qwen3's render a final assistant message differently, e.g. with an empty think block)."""
    head = conv[: len(conv) - n_new]
    after = _render(tokenizer, conv, tools, True)
    probe = _render(tokenizer, head + [{"role": "user", "content": SENTINEL}], tools, False)
    common = 0
    while common < min(len(after), len(probe)) and after[common] == probe[common]:
        common += 1
    cut = after.rfind(END_TOKENS[0], 0, common)
    if cut < 0:
        raise RuntimeError("cannot find the end of the assistant turn in the chat template's rendering")
    return after[cut + len(END_TOKENS[0]):]


def play_episode(model, tokenizer, base_url: str, scenario_id: str, max_new_tokens: int, max_context: int, temperature: float = 1.0) -> dict[str, Any]:
    """One episode: returns prompt_ids, completion_ids, logprobs, env_mask, reward and info."""
    stop_ids = [i for i in (tokenizer.convert_tokens_to_ids(t) for t in END_TOKENS) if i is not None and i >= 0]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop_ids[0]
    device = next(model.parameters()).device
    with SandboxEnv(base_url) as env:
        r = env.reset(scenario_id=scenario_id)
        tools = r.observation["tools"]
        prompt_ids = _encode(tokenizer, _render(tokenizer, r.observation["messages"], tools, True))
        completion: list[int] = []
        env_mask: list[int] = []
        logprobs: list[float] = []
        reward, breakdown, end = 0.0, None, "context_full"
        while True:
            ids = prompt_ids + completion
            room = min(max_new_tokens, max_context - len(ids))
            if room <= 0:
                break  # out of context before the episode ended: reward 0, end "context_full"
            with torch.no_grad():
                gen = model.generate(
                    input_ids=torch.tensor([ids], device=device), attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=device),
                    max_new_tokens=room, do_sample=True, temperature=temperature, top_p=1.0, top_k=0,
                    eos_token_id=stop_ids, pad_token_id=pad_id, return_dict_in_generate=True, output_scores=True,
                )
            new = gen.sequences[0, len(ids):].tolist()
            # The sampling distribution's log-probs (scores are the processed logits TRL would sample from).
            lps = [float(torch.log_softmax(s[0].float(), -1)[t]) for s, t in zip(gen.scores, new)]
            finished = bool(new) and new[-1] in stop_ids
            completion += new
            env_mask += [1] * len(new)
            logprobs += lps
            r = env.step(tokenizer.decode(new, skip_special_tokens=False), finished)
            if r.done:
                reward = float(r.reward)
                breakdown = r.observation.get("reward_breakdown")
                end = r.observation.get("end_reason")
                break
            # The environment's messages as the chat template renders them after this turn, and the
            # generation prompt of the next turn (tokens the policy did not sample: env_mask 0).
            conv = r.observation["messages"]
            env_text = _env_suffix(tokenizer, conv, len(r.observation["new_messages"]), tools)
            glue = "" if finished else "<|im_end|>"
            env_ids = _encode(tokenizer, glue + env_text)
            completion += env_ids
            env_mask += [0] * len(env_ids)
            logprobs += [0.0] * len(env_ids)
    return {"prompt_ids": prompt_ids, "completion_ids": completion, "logprobs": logprobs, "env_mask": env_mask,
            "reward": reward, "reward_breakdown": breakdown, "end_reason": end}


def make_rollout_func(base_url: str, max_new_tokens: int = 256, max_context: int = 4096, log: list | None = None):
    """A GRPOTrainer rollout_func; `log`, when given, collects each episode's scenario, reward and end."""

    def rollout_func(prompts: list, trainer) -> dict[str, list]:
        model = trainer.accelerator.unwrap_model(trainer.model)
        tokenizer = trainer.processing_class
        was_training = model.training
        model.eval()
        out: dict[str, list] = {k: [] for k in ("prompt_ids", "completion_ids", "logprobs", "env_mask", "env_reward")}
        try:
            for prompt in prompts:
                scenario_id = prompt if isinstance(prompt, str) else prompt[-1]["content"]
                ep = play_episode(model, tokenizer, base_url, scenario_id.strip(), max_new_tokens, max_context, trainer.temperature)
                for k in ("prompt_ids", "completion_ids", "logprobs", "env_mask"):
                    out[k].append(ep[k])
                out["env_reward"].append(ep["reward"])
                if log is not None:
                    log.append({"scenario_id": scenario_id, "reward": ep["reward"], "end_reason": ep["end_reason"],
                                "sampled_tokens": sum(ep["env_mask"]), "env_tokens": len(ep["env_mask"]) - sum(ep["env_mask"])})
        finally:
            model.train(was_training)
        return out

    return rollout_func


def env_reward(prompts=None, completions=None, env_reward=None, **kwargs) -> list[float]:
    """The reward function: the server's episode reward, passed through by rollout_func."""
    return [float(r) for r in env_reward]
