// Chat messages and tool specs in the OpenAI / Hugging Face shape, checked before they reach the
// model's Jinja chat template. Message text is attacker-controlled (tool outputs, user prompts), so
// a malformed message is rejected with an error that names the message and field instead of
// rendering something the model was never trained on.

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  type: 'function';
  id?: string;
  /** `arguments` is a JSON object (rendered with tojson) or an already-serialised JSON string. */
  function: { name: string; arguments: Record<string, unknown> | string };
}

export interface ChatMessage {
  role: ChatRole;
  /** null is allowed for an assistant turn that only makes tool calls. */
  content: string | null;
  tool_calls?: ToolCall[];
  /** Qwen3: reasoning of an assistant turn, rendered inside <think> when the template keeps it. */
  reasoning_content?: string;
  tool_call_id?: string;
  name?: string;
}

export interface ToolSpec {
  type: 'function';
  function: {
    name: string;
    description?: string;
    parameters: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
  };
}

export interface ChatTemplateOptions {
  tools?: readonly ToolSpec[] | null;
  /** End the prompt with "<|im_start|>assistant\n" so the model writes the next turn. */
  addGenerationPrompt?: boolean;
  /** Qwen3 only: false appends an empty <think></think> block (no reasoning). Ignored by Qwen2.5. */
  enableThinking?: boolean;
}

/** A message list or tool list that the chat template cannot render; the message names the field. */
export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(where: string, problem: string): never {
  throw new ChatTemplateError(`${where} ${problem}`);
}

function checkToolCall(call: unknown, where: string): ToolCall {
  if (!isPlainObject(call)) fail(where, 'must be an object {type: "function", function: {name, arguments}}');
  const fn = call.function;
  if (!isPlainObject(fn)) fail(`${where}.function`, 'must be an object {name, arguments}');
  if (typeof fn.name !== 'string' || fn.name === '') fail(`${where}.function.name`, 'must be a non-empty string');
  const args = fn.arguments;
  if (typeof args !== 'string' && !isPlainObject(args)) {
    fail(`${where}.function.arguments`, 'must be a JSON object or a JSON string');
  }
  return { type: 'function', function: { name: fn.name, arguments: args } };
}

/** A checked message as the template sees it: content is always a string. */
export type TemplateMessage = Omit<ChatMessage, 'content'> & { content: string };

function checkMessage(message: unknown, index: number): TemplateMessage {
  const where = `messages[${index}]`;
  if (!isPlainObject(message)) fail(where, 'must be an object {role, content}');
  const role = message.role;
  if (typeof role !== 'string' || !ROLES.has(role)) {
    fail(`${where}.role`, `must be one of system, user, assistant, tool (got ${JSON.stringify(role)})`);
  }
  const content = message.content;
  const toolCalls = message.tool_calls;
  if (toolCalls !== undefined && toolCalls !== null) {
    if (role !== 'assistant') fail(`${where}.tool_calls`, `is only allowed on assistant messages (role is ${role})`);
    if (!Array.isArray(toolCalls)) fail(`${where}.tool_calls`, 'must be an array');
  }
  const hasCalls = Array.isArray(toolCalls) && toolCalls.length > 0;
  if (typeof content !== 'string' && !(content === null && hasCalls)) {
    fail(`${where}.content`, hasCalls ? 'must be a string or null' : 'must be a string');
  }
  const out: TemplateMessage = {
    role: role as ChatRole,
    // The templates test and concatenate content as a string; '' renders exactly like null in
    // Qwen2.5's template and keeps Qwen3's ('</think>' in content) from failing on null.
    content: content ?? '',
  };
  if (hasCalls) out.tool_calls = (toolCalls as unknown[]).map((c, i) => checkToolCall(c, `${where}.tool_calls[${i}]`));
  if (message.reasoning_content !== undefined && message.reasoning_content !== null) {
    if (typeof message.reasoning_content !== 'string') fail(`${where}.reasoning_content`, 'must be a string');
    out.reasoning_content = message.reasoning_content;
  }
  for (const key of ['tool_call_id', 'name'] as const) {
    const value = message[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') fail(`${where}.${key}`, 'must be a string');
    out[key] = value;
  }
  return out;
}

function checkTool(tool: unknown, index: number): ToolSpec {
  const where = `tools[${index}]`;
  if (!isPlainObject(tool) || tool.type !== 'function') fail(where, 'must be {type: "function", function: {...}}');
  const fn = tool.function;
  if (!isPlainObject(fn)) fail(`${where}.function`, 'must be an object {name, description, parameters}');
  if (typeof fn.name !== 'string' || fn.name === '') fail(`${where}.function.name`, 'must be a non-empty string');
  if (fn.description !== undefined && typeof fn.description !== 'string') fail(`${where}.function.description`, 'must be a string');
  const params = fn.parameters;
  if (!isPlainObject(params) || params.type !== 'object' || !isPlainObject(params.properties)) {
    fail(`${where}.function.parameters`, 'must be a JSON schema {type: "object", properties: {...}}');
  }
  // Tools are rendered verbatim with tojson, so the caller's object is passed on unchanged.
  return tool as unknown as ToolSpec;
}

/** Validated, normalised inputs for the Jinja template (the variables Hugging Face passes). */
export interface TemplateVariables {
  messages: TemplateMessage[];
  tools: ToolSpec[] | null;
  add_generation_prompt: boolean;
  enable_thinking?: boolean;
}

export function templateVariables(messages: unknown, options: ChatTemplateOptions = {}): TemplateVariables {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ChatTemplateError('messages must be a non-empty array of {role, content}');
  }
  const tools = options.tools ?? null;
  if (tools !== null && !Array.isArray(tools)) throw new ChatTemplateError('tools must be an array of function specs');
  const vars: TemplateVariables = {
    messages: messages.map(checkMessage),
    // Templates test `{% if tools %}`; an empty list means "no tools" as in Python.
    tools: tools && tools.length > 0 ? tools.map(checkTool) : null,
    add_generation_prompt: options.addGenerationPrompt ?? false,
  };
  // Only defined when asked: Qwen3's template distinguishes "not given" from true/false.
  if (options.enableThinking !== undefined) vars.enable_thinking = options.enableThinking;
  return vars;
}
