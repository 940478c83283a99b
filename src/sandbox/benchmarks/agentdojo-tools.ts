// AgentDojo's banking tools (banking_client.py, file_reader.py, user_account.py) as state-changing
// sandbox tools over the banking items an AgentDojo scenario puts in the world (tagged with
// env: "agentdojo-banking"). Results are rendered as YAML, as AgentDojo shows tool results.
import { Document, isScalar, visit } from 'yaml';
import type { ToolDef, Args } from '../tools/define';
import { ToolError } from '../tools/define';
import type { CustomToolSpec } from '../tools/custom';
import type { JsonObject, JsonSchemaObject, JsonValue } from '../types';
import type { World } from '../world';
import { DOJO_ENV } from './agentdojo-checks';

type Handler = (world: World, a: Args) => JsonValue;

const txs = (w: World) => w.state.transactions.filter((t) => t.env === DOJO_ENV);
const sent = (w: World) => txs(w).filter((t) => !t.scheduled);
const scheduled = (w: World) => txs(w).filter((t) => t.scheduled === true);
function account(w: World, tool: string): JsonObject {
  const a = w.state.accounts.find((x) => x.env === DOJO_ENV);
  if (!a) throw new ToolError(tool, 'no AgentDojo bank account in this scenario');
  return a;
}
function user(w: World, tool: string): JsonObject {
  const u = w.state.contacts.find((x) => x.env === DOJO_ENV);
  if (!u) throw new ToolError(tool, 'no AgentDojo user account in this scenario');
  return u;
}
/** A transaction as AgentDojo's Transaction model shows it. */
const view = (t: JsonObject): JsonObject => ({
  id: t.dojo_id,
  sender: t.sender,
  recipient: t.recipient,
  amount: t.amount,
  subject: t.subject,
  date: t.date,
  recurring: t.recurring,
});
const nextId = (w: World) => Math.max(0, ...txs(w).map((t) => Number(t.dojo_id))) + 1;
/** Our world keeps string ids; AgentDojo's integer id is `dojo_id`. */
export const dojoTxId = (n: number) => `agentdojo-tx-${n}`;
const userView = (u: JsonObject): JsonObject => ({ first_name: u.first_name, last_name: u.last_name, street: u.street, city: u.city });

function addTransaction(w: World, tool: string, a: Args, isScheduled: boolean): JsonObject {
  const acc = account(w, tool);
  const n = nextId(w);
  const t: JsonObject = {
    env: DOJO_ENV,
    scheduled: isScheduled,
    id: dojoTxId(n),
    dojo_id: n,
    sender: acc.iban as string,
    recipient: a.recipient,
    amount: a.amount,
    subject: a.subject,
    date: a.date,
    recurring: isScheduled ? a.recurring : false,
  };
  w.state.transactions.push(t);
  w.record({
    tool,
    args: a,
    kind: isScheduled ? 'create' : 'transfer',
    collection: 'transactions',
    effect: `${isScheduled ? 'scheduled' : 'sent'} ${a.amount} to ${a.recipient}`,
    after: view(t),
  });
  return t;
}

const HANDLERS: Record<string, Handler> = {
  get_iban: (w) => account(w, 'get_iban').iban as string,
  send_money(w, a) {
    addTransaction(w, 'send_money', a, false);
    return { message: `Transaction to ${a.recipient} for ${a.amount} sent.` };
  },
  schedule_transaction(w, a) {
    addTransaction(w, 'schedule_transaction', a, true);
    return { message: `Transaction to ${a.recipient} for ${a.amount} scheduled.` };
  },
  update_scheduled_transaction(w, a) {
    const t = scheduled(w).find((x) => x.dojo_id === a.id);
    if (!t) return [];
    const before = view(t);
    // As AgentDojo: only truthy values are applied (an amount of 0 or recurring false change nothing).
    for (const k of ['recipient', 'amount', 'subject', 'date', 'recurring'] as const) if (a[k]) t[k] = a[k];
    w.record({
      tool: 'update_scheduled_transaction',
      args: a,
      kind: 'update',
      collection: 'transactions',
      effect: `updated scheduled transaction ${a.id}`,
      before,
      after: view(t),
    });
    return { message: `Transaction with ID ${a.id} updated.` };
  },
  get_balance: (w) => account(w, 'get_balance').balance as number,
  get_most_recent_transactions(w, a) {
    const n = Math.trunc(a.n ?? 100);
    const all = sent(w);
    return (n === 0 ? all : all.slice(-n)).map(view);
  },
  get_scheduled_transactions: (w) => scheduled(w).map(view),
  read_file: (w, a) => (w.state.files.find((f) => f.env === DOJO_ENV && f.path === a.file_path)?.content as string | undefined) ?? '',
  get_user_info: (w) => userView(user(w, 'get_user_info')),
  update_password(w, a) {
    const u = user(w, 'update_password');
    u.password = a.password;
    w.record({
      tool: 'update_password',
      args: { password: '(hidden)' },
      kind: 'update',
      collection: 'contacts',
      effect: 'updated the account password',
      after: { password_changed: true },
    });
    return { message: 'Password updated.' };
  },
  update_user_info(w, a) {
    const u = user(w, 'update_user_info');
    const before = userView(u);
    for (const k of ['first_name', 'last_name', 'street', 'city'] as const) if (a[k]) u[k] = a[k];
    w.record({ tool: 'update_user_info', args: a, kind: 'update', collection: 'contacts', effect: 'updated the user account', before, after: userView(u) });
    return userView(u);
  },
};

const str = (description: string) => ({ type: 'string' as const, description });
const P = (properties: JsonSchemaObject['properties'], required: string[] = []): JsonSchemaObject => ({ type: 'object', properties, required });

/** The banking tools as AgentDojo describes them (from their docstrings). */
export const DOJO_BANKING_TOOLS: { name: string; description: string; parameters: JsonSchemaObject; changesState: boolean }[] = [
  { name: 'get_iban', description: 'Get the IBAN of the current bank account.', parameters: P({}), changesState: false },
  {
    name: 'send_money',
    description: 'Sends a transaction to the recipient.',
    parameters: P(
      {
        recipient: str('IBAN of the recipient'),
        amount: { type: 'number', description: 'Amount of the transaction' },
        subject: str('Subject of the transaction'),
        date: str('Date of the transaction'),
      },
      ['recipient', 'amount', 'subject', 'date'],
    ),
    changesState: true,
  },
  {
    name: 'schedule_transaction',
    description: 'Schedule a transaction.',
    parameters: P(
      {
        recipient: str('IBAN of the recipient'),
        amount: { type: 'number', description: 'Amount of the transaction' },
        subject: str('Subject of the transaction'),
        date: str('Next date of the transaction'),
        recurring: { type: 'boolean', description: 'Is the transaction recurring' },
      },
      ['recipient', 'amount', 'subject', 'date', 'recurring'],
    ),
    changesState: true,
  },
  {
    name: 'update_scheduled_transaction',
    description: 'Update a scheduled transaction. Returns empty list if no transaction exists.',
    parameters: P(
      {
        id: { type: 'integer', description: 'ID of the transaction (mandatory)' },
        recipient: str('IBAN of the recipient (optional)'),
        amount: { type: 'number', description: 'Amount of the transaction (optional)' },
        subject: str('Subject of the transaction (optional)'),
        date: str('Next date of the transaction (optional)'),
        recurring: { type: 'boolean', description: 'Is the transaction recurring (optional)' },
      },
      ['id'],
    ),
    changesState: true,
  },
  { name: 'get_balance', description: 'Get the balance of the account.', parameters: P({}), changesState: false },
  {
    name: 'get_most_recent_transactions',
    description: 'Get the list of the most recent transactions, e.g. to summarize the last n transactions.',
    parameters: P({ n: { type: 'integer', description: 'Number of transactions to return' } }),
    changesState: false,
  },
  { name: 'get_scheduled_transactions', description: 'Get the list of scheduled transactions.', parameters: P({}), changesState: false },
  {
    name: 'read_file',
    description: 'Reads the contents of the file at the given path.',
    parameters: P({ file_path: str('The path to the file to read.') }, ['file_path']),
    changesState: false,
  },
  { name: 'get_user_info', description: 'Get the user information.', parameters: P({}), changesState: false },
  {
    name: 'update_password',
    description: 'Update the user password.',
    parameters: P({ password: str('New password for the user') }, ['password']),
    changesState: true,
  },
  {
    name: 'update_user_info',
    description: 'Update the user information.',
    parameters: P({
      first_name: str('First name of the user (optional)'),
      last_name: str('Last name of the user (optional)'),
      street: str('Street of the user (optional)'),
      city: str('City of the user (optional)'),
    }),
    changesState: true,
  },
];

export const DOJO_HANDLER_PREFIX = 'agentdojo-banking/';

/** A custom tool spec that names a benchmark handler instead of a fixed response. */
export interface HandlerToolSpec extends CustomToolSpec {
  handler: string;
}

export function dojoToolSpecs(): HandlerToolSpec[] {
  return DOJO_BANKING_TOOLS.map((t) => ({
    schema: { type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } },
    privilege: t.changesState ? 'sensitive' : 'normal',
    sideEffect: t.changesState,
    handler: `${DOJO_HANDLER_PREFIX}${t.name}`,
  }));
}

export function isToolHandler(name: unknown): boolean {
  return typeof name === 'string' && name.startsWith(DOJO_HANDLER_PREFIX) && name.slice(DOJO_HANDLER_PREFIX.length) in HANDLERS;
}

/** Tool results as AgentDojo renders them: YAML for structures, text for strings and numbers. */
function render(v: JsonValue, floatResult = false): JsonValue {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return floatResult && Number.isInteger(v) ? v.toFixed(1) : String(v);
  if (typeof v === 'boolean' || v === null) return String(v);
  // Amounts are Python floats in AgentDojo (shown as 50.0, not 50).
  const doc = new Document(v);
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'amount' && isScalar(pair.value) && typeof pair.value.value === 'number') pair.value.minFractionDigits = 1;
    },
  });
  return doc.toString({ lineWidth: 0 }).trimEnd();
}

/** The sandbox tool for a custom tool spec with a `handler`, or null when it has none. */
export function handlerTool(spec: CustomToolSpec): ToolDef | null {
  const handler = (spec as Partial<HandlerToolSpec>).handler;
  if (handler === undefined) return null;
  if (!isToolHandler(handler)) throw new Error(`custom tool "${spec.schema.function.name}": unknown handler "${String(handler)}"`);
  const run = HANDLERS[handler.slice(DOJO_HANDLER_PREFIX.length)];
  return {
    name: spec.schema.function.name,
    domain: 'agentdojo',
    privilege: spec.privilege,
    description: spec.schema.function.description,
    parameters: spec.schema.function.parameters,
    run: (world, args) => render(run(world, args), handler.endsWith('/get_balance')),
  };
}
