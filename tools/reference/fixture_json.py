"""JSON output for reference fixtures: float32 values in their shortest round-trip form, one matrix row per line."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch


def f32(value: float) -> float:
    """The float32 nearest to value, printed with the fewest digits that read back to it (<= 9)."""
    as32 = np.float32(value)
    if not math.isfinite(float(as32)):
        raise ValueError(f"non-finite value {value} cannot be stored in a JSON fixture")
    return float(str(as32))


def plain(value):
    """Tensors and numpy arrays become nested lists of float32 values; other values pass through."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iu":
            return value.tolist()
        return plain(value.tolist())
    if isinstance(value, float):
        return f32(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def dumps(value, indent: int = 0) -> str:
    """Like json.dumps(indent=2) but keeps flat lists on one line (a [T][V] matrix is T lines)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dumps(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        items = [f"{pad}  {dumps(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def write_json(path: Path, value) -> None:
    text = dumps(plain(value)) + "\n"
    json.loads(text)  # refuse to write anything that is not valid JSON
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
