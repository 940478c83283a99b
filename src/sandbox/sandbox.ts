// One scenario's environment: a fresh world with the scenario's content, the tools it offers,
// and an executor that validates arguments and never throws (errors become observations).
import { validateArguments, ToolArgumentError } from './schema';
import type { Scenario } from './scenarios/types';
import { builtinTool, makeCustomTool, toSchema, ToolError, type ToolDef } from './tools/index';
import { handlerTool } from './benchmarks/agentdojo-tools';
import type { Privilege, ToolSchema } from './types';
import { createWorld, type World, type WorldState } from './world';

export interface Observation {
  tool: string;
  ok: boolean;
  /** The text the model sees inside <tool_response>. */
  content: string;
  error?: string;
}

export class Sandbox {
  readonly world: World;
  readonly tools: Map<string, ToolDef>;
  readonly preState: WorldState;

  constructor(readonly scenario: Scenario) {
    this.world = createWorld(scenario.world.seed, scenario.world.patches);
    this.tools = new Map();
    for (const name of scenario.tools) {
      const def = builtinTool(name);
      if (!def) throw new Error(`scenario ${scenario.id}: unknown built-in tool "${name}"`);
      this.tools.set(name, def);
    }
    // A custom tool naming a benchmark handler (AgentDojo's banking tools) runs that code on the world.
    for (const spec of scenario.customTools ?? []) this.tools.set(spec.schema.function.name, handlerTool(spec) ?? makeCustomTool(spec));
    this.preState = this.world.snapshot();
  }

  schemas(): ToolSchema[] {
    return [...this.tools.values()].map(toSchema);
  }

  privilegeOf(name: string): Privilege | undefined {
    return this.tools.get(name)?.privilege;
  }

  execute(name: string, args: unknown): Observation {
    const tool = this.tools.get(name);
    if (!tool) return fail(name, `unknown tool "${name}". Available tools: ${[...this.tools.keys()].join(', ')}`);
    try {
      const valid = validateArguments(name, tool.parameters, args);
      const result = tool.run(this.world, valid);
      return { tool: name, ok: true, content: typeof result === 'string' ? result : JSON.stringify(result) };
    } catch (err) {
      if (err instanceof ToolArgumentError || err instanceof ToolError) return fail(name, err.message);
      return fail(name, `${name} failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }
}

function fail(tool: string, message: string): Observation {
  return { tool, ok: false, content: JSON.stringify({ error: message }), error: message };
}
