"""An OpenEnv-style client for the sandbox server.

One `SandboxEnv` is one WebSocket connection, i.e. one episode at a time on the server:

    with SandboxEnv("http://127.0.0.1:8000") as env:
        r = env.reset(scenario_id="train-MU-BT-00000")   # r.observation["messages"], ["tools"]
        while not r.done:
            r = env.step(model_turn_text(r.observation))
        print(r.reward, r.observation["reward_breakdown"])

Messages are {"type": "reset"|"step"|"state"|"close", "data": {...}}; replies are
{"type": "observation"|"state"|"error", "data": {...}} (see GET /schema).
"""
from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

from websockets.sync.client import connect


class EnvServerError(RuntimeError):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class StepResult:
    observation: dict[str, Any]
    reward: float | None
    done: bool


def _ws_url(base_url: str) -> str:
    url = base_url.rstrip("/")
    if url.startswith("http://"):
        url = "ws://" + url[len("http://"):]
    elif url.startswith("https://"):
        url = "wss://" + url[len("https://"):]
    return url + "/ws"


class SandboxEnv:
    def __init__(self, base_url: str, timeout_s: float = 60.0, max_message_bytes: int = 64 * 1024 * 1024):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._ws = connect(_ws_url(base_url), open_timeout=timeout_s, max_size=max_message_bytes)

    def _request(self, type_: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        self._ws.send(json.dumps({"type": type_, "data": data or {}}))
        reply = json.loads(self._ws.recv(timeout=self.timeout_s))
        if reply.get("type") == "error":
            d = reply.get("data", {})
            raise EnvServerError(d.get("code", "unknown"), d.get("message", ""))
        return reply

    def reset(self, seed: int | None = None, scenario_id: str | None = None) -> StepResult:
        data: dict[str, Any] = {}
        if seed is not None:
            data["seed"] = seed
        if scenario_id is not None:
            data["scenario_id"] = scenario_id
        d = self._request("reset", data)["data"]
        return StepResult(d["observation"], d["reward"], d["done"])

    def step(self, text: str, finished: bool = True) -> StepResult:
        d = self._request("step", {"text": text, "finished": finished})["data"]
        return StepResult(d["observation"], d["reward"], d["done"])

    def state(self) -> dict[str, Any]:
        return self._request("state")["data"]

    def close(self) -> None:
        try:
            self._ws.send(json.dumps({"type": "close"}))
        except Exception:
            pass
        self._ws.close()

    def __enter__(self) -> "SandboxEnv":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _http_json(url: str, body: Any = None, timeout_s: float = 60.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=timeout_s) as r:
        return json.loads(r.read())


def health(base_url: str) -> dict[str, Any]:
    return _http_json(base_url.rstrip("/") + "/health")


def metadata(base_url: str) -> dict[str, Any]:
    return _http_json(base_url.rstrip("/") + "/metadata")


def score(base_url: str, query: list[str], prompts: list[str], labels: list[str]) -> dict[str, Any]:
    """OpenRLHF's remote reward: one-turn scoring of `query[i]` (prompt + response) for scenario `labels[i]`."""
    return _http_json(base_url.rstrip("/") + "/score", {"query": query, "prompts": prompts, "labels": labels})
