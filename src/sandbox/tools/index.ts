// Registry of the built-in mock tools (10 domains, 32 tools).
import { bankingTools } from './banking';
import { calendarTools } from './calendar';
import { contactTools } from './contacts';
import { databaseTools } from './database';
import { emailTools } from './email';
import { fileTools } from './files';
import { healthTools } from './health';
import { smartHomeTools } from './smarthome';
import { socialTools } from './social';
import { webTools } from './web';
import type { ToolDef } from './define';

export const BUILTIN_TOOLS: readonly ToolDef[] = [
  ...emailTools,
  ...fileTools,
  ...bankingTools,
  ...calendarTools,
  ...contactTools,
  ...webTools,
  ...smartHomeTools,
  ...databaseTools,
  ...socialTools,
  ...healthTools,
];

const BY_NAME = new Map(BUILTIN_TOOLS.map((t) => [t.name, t]));

export function builtinTool(name: string): ToolDef | undefined {
  return BY_NAME.get(name);
}
export function isBuiltinTool(name: string): boolean {
  return BY_NAME.has(name);
}

export { toSchema, ToolError, type ToolDef } from './define';
export { makeCustomTool, type CustomToolSpec } from './custom';
