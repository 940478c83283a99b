// Argument validation against a tool's JSON schema: types, required fields, enums and
// unknown fields, string lengths and list sizes. Errors name the tool and the argument, because
// they are shown to the model. Argument names are the model's choice, so schemas are looked up by
// own property only: "constructor" or "__proto__" is "not a parameter", never Object.prototype's.
import { hasOwn, LIMITS } from './limits';
import type { JsonSchemaObject, JsonSchemaProperty } from './types';

export class ToolArgumentError extends Error {
  constructor(
    public readonly tool: string,
    public readonly argument: string,
    message: string,
  ) {
    super(`${tool}: argument "${argument}" ${message}`);
  }
}

function typeOfValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, prop: JsonSchemaProperty): boolean {
  const t = typeOfValue(v);
  if (prop.type === 'number') return t === 'number' || t === 'integer';
  return t === prop.type;
}

function checkValue(tool: string, path: string, v: unknown, prop: JsonSchemaProperty): void {
  if (!matchesType(v, prop)) throw new ToolArgumentError(tool, path, `must be ${prop.type}, got ${typeOfValue(v)}`);
  if (typeof v === 'string') {
    const max = prop.maxLength ?? LIMITS.stringArgChars;
    if (v.length > max) throw new ToolArgumentError(tool, path, `must be at most ${max} characters, got ${v.length}`);
  }
  if (Array.isArray(v)) {
    const max = prop.maxItems ?? LIMITS.arrayArgItems;
    if (v.length > max) throw new ToolArgumentError(tool, path, `must have at most ${max} items, got ${v.length}`);
  }
  if (prop.enum && !prop.enum.includes(v as string | number)) {
    throw new ToolArgumentError(tool, path, `must be one of ${prop.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(v)}`);
  }
  if (prop.type === 'array' && prop.items) (v as unknown[]).forEach((item, i) => checkValue(tool, `${path}[${i}]`, item, prop.items!));
}

/** Throws ToolArgumentError on the first problem; returns the arguments unchanged when valid. */
export function validateArguments(tool: string, schema: JsonSchemaObject, args: unknown): Record<string, unknown> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new ToolArgumentError(tool, '(arguments)', `must be a JSON object, got ${typeOfValue(args)}`);
  }
  const obj = args as Record<string, unknown>;
  for (const name of schema.required ?? []) {
    if (!hasOwn(obj, name) || obj[name] === undefined || obj[name] === null) throw new ToolArgumentError(tool, name, 'is required');
  }
  for (const [name, value] of Object.entries(obj)) {
    const prop = hasOwn(schema.properties, name) ? schema.properties[name] : undefined;
    if (!prop && schema.additionalProperties) continue;
    if (!prop) throw new ToolArgumentError(tool, name, `is not a parameter (expected: ${Object.keys(schema.properties).join(', ') || 'none'})`);
    if (value === undefined || value === null) continue;
    checkValue(tool, name, value, prop);
  }
  return obj;
}
