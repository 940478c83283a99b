// The shape of a mock tool: a JSON-schema function (what the model sees), a privilege level,
// and a deterministic implementation over the World. Tool failures throw ToolError, which
// the sandbox turns into an error observation naming the tool.
import type { JsonObject, JsonSchemaObject, JsonSchemaProperty, JsonValue, Privilege, ToolSchema } from '../types';
import type { World } from '../world';
import { textOf } from '../limits';

export type Args = Record<string, any>; // validated against `parameters` before run() sees them

export interface ToolDef {
  name: string;
  domain: string;
  privilege: Privilege;
  description: string;
  parameters: JsonSchemaObject;
  run(world: World, args: Args): JsonValue;
}

export class ToolError extends Error {
  constructor(
    public readonly tool: string,
    message: string,
  ) {
    super(`${tool}: ${message}`);
  }
}

export function toSchema(tool: Pick<ToolDef, 'name' | 'description' | 'parameters'>): ToolSchema {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

/** Length caps stated in every built-in schema (the model sees them; validateArguments enforces them). */
export const SHORT_TEXT_CHARS = 1_000;
export const LONG_TEXT_CHARS = 20_000;
export const LIST_ITEMS = 50;

export const S = (description: string, extra: Partial<JsonSchemaProperty> = {}): JsonSchemaProperty => ({
  type: 'string',
  description,
  maxLength: SHORT_TEXT_CHARS,
  ...extra,
});
/** A free-text field (message body, file content, post): the long cap. */
export const T = (description: string): JsonSchemaProperty => S(description, { maxLength: LONG_TEXT_CHARS });
export const N = (description: string): JsonSchemaProperty => ({ type: 'number', description });
export const I = (description: string): JsonSchemaProperty => ({ type: 'integer', description });
export const B = (description: string): JsonSchemaProperty => ({ type: 'boolean', description });
export const A = (description: string, items: JsonSchemaProperty): JsonSchemaProperty => ({ type: 'array', description, items, maxItems: LIST_ITEMS });

export function params(properties: Record<string, JsonSchemaProperty>, required: string[] = []): JsonSchemaObject {
  return { type: 'object', properties, required };
}

/** Case-insensitive substring match over any string fields of a record. */
export function recordMatches(rec: JsonObject, query: string, fields: string[]): boolean {
  const q = query.toLowerCase();
  return fields.some((f) => {
    const v = rec[f];
    const text = Array.isArray(v) ? v.map(textOf).join(' ') : textOf(v);
    return text.toLowerCase().includes(q);
  });
}
