// Shared sandbox types: chat messages and tool schemas in the Hugging Face / OpenAI format
// that Qwen's chat template takes, plus the JSON-schema subset our tools use.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatToolCall {
  type: 'function';
  function: { name: string; arguments: Record<string, unknown> };
}

export interface ChatMessage {
  role: Role;
  content: string;
  /** Only in structured form (see toStructuredMessages); the loop keeps raw assistant text in `content`. */
  tool_calls?: ChatToolCall[];
  /** For role 'tool': the tool that produced this response. */
  name?: string;
}

export type JsonSchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';

export interface JsonSchemaProperty {
  type: JsonSchemaType;
  description?: string;
  enum?: (string | number)[];
  items?: JsonSchemaProperty;
  /** Longest accepted string (JSON Schema's maxLength); limits.ts gives the default. */
  maxLength?: number;
  /** Most items in an array (JSON Schema's maxItems); limits.ts gives the default. */
  maxItems?: number;
}

export interface JsonSchemaObject {
  type: 'object';
  properties: Record<string, JsonSchemaProperty>;
  required?: string[];
  /** Imported tools whose parameters are unknown accept any arguments. */
  additionalProperties?: boolean;
}

export interface ToolSchema {
  type: 'function';
  function: { name: string; description: string; parameters: JsonSchemaObject };
}

export type Privilege = 'normal' | 'sensitive';
