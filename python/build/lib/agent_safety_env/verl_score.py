"""verl's custom reward function: `custom_reward_function.path=.../verl_score.py`,
`custom_reward_function.name=compute_score`, with `ground_truth` = the scenario id and the server
URL in $AGENT_SAFETY_ENV_URL (default http://127.0.0.1:8000). One-turn scoring through POST /score."""
import os

from .client import score


def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    url = os.environ.get("AGENT_SAFETY_ENV_URL", "http://127.0.0.1:8000")
    return float(score(url, [solution_str], [""], [str(ground_truth)])["rewards"][0])
