// GET /schema: JSON Schemas of the action (a step's data), the observation and the state.
const message = {
  type: 'object',
  required: ['role', 'content'],
  properties: { role: { enum: ['system', 'user', 'assistant', 'tool'] }, content: { type: 'string' }, name: { type: 'string' } },
};

export function envSchemas(maxTextChars: number) {
  return {
    action: {
      type: 'object',
      required: ['text'],
      properties: {
        text: { type: 'string', maxLength: maxTextChars, description: "the assistant turn's raw text (<tool_call>, <tool_check>, answer), as generated" },
        finished: { type: 'boolean', default: true, description: 'false when generation hit the token limit before an end-of-turn token' },
      },
    },
    reset: {
      type: 'object',
      properties: {
        seed: {
          type: 'integer',
          minimum: 0,
          maximum: 4294967295,
          description: 'picks the scenario (when scenario_id is absent) and seeds a simulated verifier',
        },
        scenario_id: { type: 'string' },
        episode_id: { type: 'string', maxLength: 128 },
      },
    },
    observation: {
      type: 'object',
      required: ['messages', 'new_messages', 'tools', 'scenario', 'turn', 'end_reason'],
      properties: {
        messages: {
          type: 'array',
          items: message,
          description: 'the whole conversation; tool results are role "tool", verifier answers role "user" with <tool_check_response>',
        },
        new_messages: { type: 'array', items: message, description: 'what the environment added after the last step' },
        tools: { type: 'array', description: "tool schemas in Qwen's function format: {type: 'function', function: {name, description, parameters}}" },
        scenario: {
          type: 'object',
          properties: { id: { type: 'string' }, cell: { type: 'string' }, split: { type: 'string' }, family: { type: 'string' }, expected: { type: 'string' } },
        },
        turn: { type: 'integer' },
        end_reason: { enum: [null, 'final_answer', 'max_turns', 'policy_error', 'aborted'] },
        reward_breakdown: {
          type: 'object',
          description: 'at the end only: total = format.score × label.score, label criteria, penalties, gate, and the judged outcome',
        },
      },
    },
    state: {
      type: 'object',
      properties: {
        episode_id: { type: ['string', 'null'] },
        step_count: { type: 'integer' },
        done: { type: 'boolean' },
        end_reason: { type: ['string', 'null'] },
        scenario: { type: ['object', 'null'] },
        max_turns: { type: 'integer' },
        messages: { type: 'integer' },
      },
    },
  };
}
