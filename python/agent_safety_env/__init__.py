"""Client and TRL integration for the agent-safety sandbox environment server (`npm run serve-env`)."""
from .client import EnvServerError, SandboxEnv, StepResult, health, metadata, score

__all__ = ["SandboxEnv", "StepResult", "EnvServerError", "health", "metadata", "score"]
