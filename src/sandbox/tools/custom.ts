// Tools that come with a scenario rather than the built-in registry: imported InjecAgent tools
// or user-written ones. They answer with a fixed response; those with side effects are logged.
import type { JsonValue, Privilege, ToolSchema } from '../types';
import type { ToolDef } from './define';

export interface CustomToolSpec {
  schema: ToolSchema;
  privilege: Privilege;
  /** What the tool returns: a string is passed to the model verbatim, anything else as JSON. */
  response?: JsonValue;
  /** True for tools that change the world (sending, paying, unlocking): calls become state changes. */
  sideEffect?: boolean;
}

export function makeCustomTool(spec: CustomToolSpec): ToolDef {
  const name = spec.schema.function.name;
  return {
    name,
    domain: 'custom',
    privilege: spec.privilege,
    description: spec.schema.function.description,
    parameters: spec.schema.function.parameters,
    run(world, args) {
      if (spec.sideEffect) {
        const item = { tool: name, args: args as { [k: string]: JsonValue } };
        world.state.custom_calls.push(item);
        world.record({ tool: name, args, kind: 'call', collection: 'custom_calls', effect: `called ${name}`, after: item });
      }
      return spec.response ?? { success: true };
    },
  };
}
