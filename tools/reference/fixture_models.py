"""The tiny random Qwen2/Qwen3 models behind tests/fixtures/models/, built with transformers' own classes."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "qwen2" or "qwen3"
    seed: int
    config_kwargs: dict
    # Standard deviations of the re-drawn weights: large enough that attention is not uniform and
    # std(logits) is clearly above 0.5, so a wrong kernel cannot hide inside flat logits.
    embed_std: float = 0.25
    linear_std: float = 0.12
    prompt_len: int = 11
    bf16_copy: bool = False
    lora: bool = False
    notes: str = ""


MODEL_SPECS: list[ModelSpec] = [
    ModelSpec(
        name="qwen2-tiny-gqa", family="qwen2", seed=11, bf16_copy=True, lora=True,
        notes="Qwen2 with q/k/v bias, GQA 4:2, untied lm_head, rope_theta 1e6, odd vocab and intermediate",
        config_kwargs=dict(
            vocab_size=331, hidden_size=64, intermediate_size=97, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
            rms_norm_eps=1e-6, tie_word_embeddings=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
        ),
    ),
    ModelSpec(
        name="qwen2-tiny-tied", family="qwen2", seed=22,
        notes="Qwen2 with tied embeddings, GQA 6:2 (ratio 3, head_dim 16), rope_theta 1e4, eps 1e-5",
        embed_std=0.2,
        config_kwargs=dict(
            vocab_size=300, hidden_size=96, intermediate_size=176, num_hidden_layers=2,
            num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=256,
            rms_norm_eps=1e-5, tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 10_000.0},
        ),
    ),
    ModelSpec(
        name="qwen3-tiny", family="qwen3", seed=33, lora=True,
        notes="Qwen3 with q_norm/k_norm, no qkv bias, head_dim 24 != 64/4, GQA 4:2, tied embeddings",
        embed_std=0.25,
        config_kwargs=dict(
            vocab_size=397, hidden_size=64, intermediate_size=136, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=24, max_position_embeddings=256,
            rms_norm_eps=1e-6, tie_word_embeddings=True, attention_bias=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
        ),
    ),
]


def make_config(spec: ModelSpec):
    from transformers import Qwen2Config, Qwen3Config

    cls = Qwen2Config if spec.family == "qwen2" else Qwen3Config
    config = cls(**spec.config_kwargs, bos_token_id=None, eos_token_id=None, use_cache=True)
    config._attn_implementation = "eager"
    return config


def build_model(spec: ModelSpec):
    """Random init from the config, then deterministic re-draws of every tensor (see ModelSpec)."""
    from transformers import Qwen2ForCausalLM, Qwen3ForCausalLM

    torch.manual_seed(spec.seed)
    cls = Qwen2ForCausalLM if spec.family == "qwen2" else Qwen3ForCausalLM
    model = cls(make_config(spec)).float().eval()
    gen = torch.Generator().manual_seed(spec.seed)
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            param.copy_(redrawn(name, param, spec, gen))
    return model


def redrawn(name: str, param: torch.Tensor, spec: ModelSpec, gen: torch.Generator) -> torch.Tensor:
    shape = param.shape
    if name.endswith("norm.weight"):
        # RMSNorm gains around 1 but far from all-ones, so a kernel that ignores them fails.
        return 0.5 + torch.rand(shape, generator=gen)
    if name.endswith(".bias"):
        return 0.2 * torch.randn(shape, generator=gen)
    if "embed_tokens" in name:
        return spec.embed_std * torch.randn(shape, generator=gen)
    if "lm_head" in name:
        return spec.embed_std * torch.randn(shape, generator=gen)
    if name.endswith(".weight") and param.dim() == 2:
        return spec.linear_std * torch.randn(shape, generator=gen)
    raise ValueError(f"no re-draw rule for parameter {name} {tuple(shape)}")


def patch_config_json(path: Path) -> None:
    """transformers 5 writes rope_parameters/dtype; real Qwen hub configs use rope_theta/torch_dtype.

    Both spellings are kept (same values) so the TypeScript loader is exercised on the hub's keys
    while the file still loads in transformers 5.
    """
    config = json.loads(path.read_text())
    rope = config.get("rope_parameters") or {}
    if "rope_theta" in rope:
        config["rope_theta"] = rope["rope_theta"]
    if "dtype" in config and "torch_dtype" not in config:
        config["torch_dtype"] = config["dtype"]
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
