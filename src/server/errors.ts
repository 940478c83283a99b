// Errors the environment server reports to a client as {"type": "error", "data": {code, message}}:
// the episode (and every other one) goes on.
export type EnvErrorCode =
  | 'bad_json'
  | 'bad_request'
  | 'unknown_type'
  | 'binary_frame'
  | 'too_large'
  | 'no_episode'
  | 'episode_done'
  | 'unknown_scenario'
  | 'busy'
  | 'idle_timeout'
  | 'internal';

export class EnvError extends Error {
  constructor(
    readonly code: EnvErrorCode,
    message: string,
  ) {
    super(message);
  }
}
