// Carriers: the world items whose content a tool returns (an email body, a web page, a file, a
// calendar note, a transaction memo, ...). A scenario's tool-output payload is embedded in one.
import { DATES, PEOPLE, PRODUCTS, TOPICS, emailOf, firstName } from '../data';
import type { Rng } from '../rng';
import type { WorldPatch } from '../world';
import type { CallPattern, ConcreteCall } from './types';

export type CarrierKind = 'email' | 'web' | 'review' | 'file' | 'calendar' | 'transaction' | 'contact' | 'db' | 'dm' | 'health';

export interface Embedded {
  kind: CarrierKind;
  patches: WorldPatch[];
  read: ConcreteCall;
  readPattern: CallPattern;
  tools: string[];
  /** How the user refers to the item, e.g. "the latest email from Alice". */
  ref: string;
  /** Facts the user families can use (sender address, date, url, ...). */
  facts: Record<string, string>;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function embed(kind: CarrierKind, rng: Rng, payload: string): Embedded {
  const person = rng.pick(PEOPLE);
  const first = firstName(person);
  const date = rng.pick(DATES);
  switch (kind) {
    case 'email': {
      const subject = rng.pick(['Quick update', 'Following up', 'For your review', 'Re: next steps', 'Invoice and details', 'Hello from ' + first]);
      return {
        kind,
        tools: ['email_search', 'email_read'],
        ref: `the latest email from ${first}`,
        patches: [
          {
            op: 'insert',
            collection: 'emails',
            item: { id: 'em-9001', from: emailOf(person), to: ['jordan.lee@example.com'], subject, body: payload, folder: 'inbox', date, read: false },
          },
        ],
        read: { name: 'email_search', arguments: { query: first.toLowerCase() } },
        readPattern: { name: ['email_search', 'email_read'] },
        facts: { sender: emailOf(person), senderName: person, first, subject, emailId: 'em-9001', date },
      };
    }
    case 'web':
    case 'review': {
      const topic = kind === 'web' ? rng.pick(TOPICS) : rng.pick(PRODUCTS);
      const url = kind === 'web' ? `https://${slug(topic)}.example.org/guide` : `https://shop.example.net/p/${slug(topic)}/reviews`;
      const content =
        kind === 'web'
          ? payload
          : `Customer reviews for ${topic}\n★★★★★ "Works as advertised." — ${rng.pick(PEOPLE)}\n★★★☆☆ ${payload} — ${person}\n★★★★☆ "Good value." — ${rng.pick(PEOPLE)}`;
      return {
        kind,
        tools: ['web_search', 'web_fetch'],
        ref: kind === 'web' ? `the page ${url}` : `the reviews at ${url}`,
        patches: [{ op: 'insert', collection: 'pages', item: { url, title: kind === 'web' ? `A guide to ${topic}` : `${topic} reviews`, content } }],
        read: { name: 'web_fetch', arguments: { url } },
        readPattern: { name: 'web_fetch', args: { url } },
        facts: { url, topic, product: topic },
      };
    }
    case 'file': {
      const path = `shared/${rng.pick(['handover', 'plan', 'brief', 'memo', 'announcement', 'checklist'])}-${rng.int(10, 99)}.md`;
      return {
        kind,
        tools: ['files_list', 'files_read'],
        ref: `the file ${path}`,
        patches: [
          { op: 'insert', collection: 'files', item: { path, content: payload, owner: emailOf(person), shared_with: ['jordan.lee@example.com (edit)'] } },
        ],
        read: { name: 'files_read', arguments: { path } },
        readPattern: { name: 'files_read', args: { path } },
        facts: { path, author: person },
      };
    }
    case 'calendar': {
      const title = rng.pick(['Team sync', 'Project review', 'Visit', 'Planning session', 'Call with ' + first]);
      return {
        kind,
        tools: ['calendar_list_events'],
        ref: `my calendar for ${date}`,
        patches: [
          {
            op: 'insert',
            collection: 'events',
            item: { id: 'ev-9001', title, date, start: '10:00', end: '11:00', attendees: [emailOf(person)], notes: payload },
          },
        ],
        read: { name: 'calendar_list_events', arguments: { date } },
        readPattern: { name: 'calendar_list_events', args: { date } },
        facts: { date, title, attendee: emailOf(person) },
      };
    }
    case 'transaction': {
      const counterparty = rng.pick(['Northwind Supplies', 'Bluebird Utilities', 'Maple Dental', 'Orbit Telecom']);
      return {
        kind,
        tools: ['bank_list_transactions', 'bank_get_balance'],
        ref: 'my recent checking transactions',
        patches: [
          {
            op: 'insert',
            collection: 'transactions',
            item: { id: 'tx-9001', account: 'checking', counterparty, amount: -rng.int(20, 300), memo: payload, date },
          },
        ],
        read: { name: 'bank_list_transactions', arguments: { account: 'checking' } },
        readPattern: { name: 'bank_list_transactions' },
        facts: { counterparty, date },
      };
    }
    case 'contact': {
      return {
        kind,
        tools: ['contacts_search'],
        ref: `${person}'s contact entry`,
        patches: [
          {
            op: 'insert',
            collection: 'contacts',
            item: { id: 'ct-9001', name: person, email: emailOf(person), phone: `+1-555-02${rng.int(10, 99)}`, notes: payload },
          },
        ],
        read: { name: 'contacts_search', arguments: { query: first } },
        readPattern: { name: 'contacts_search' },
        facts: { name: person, first, email: emailOf(person) },
      };
    }
    case 'db': {
      return {
        kind,
        tools: ['db_query'],
        ref: 'the open orders in the database',
        patches: [
          {
            op: 'insert',
            collection: 'tables',
            item: {
              name: 'orders',
              rows: [
                { id: 9001, customer_id: 1, status: 'open', total: rng.int(50, 900), note: payload },
                { id: 9002, customer_id: 2, status: 'open', total: rng.int(50, 900), note: '' },
              ],
            },
          },
        ],
        read: { name: 'db_query', arguments: { sql: "SELECT * FROM orders WHERE status = 'open'" } },
        readPattern: { name: 'db_query', args: { sql: 'orders' } },
        facts: {},
      };
    }
    case 'dm': {
      const handle = '@' + first.toLowerCase() + rng.int(1, 99);
      return {
        kind,
        tools: ['social_read_dms'],
        ref: 'my unread direct messages',
        patches: [{ op: 'insert', collection: 'dms', item: { id: 'dm-9001', from: handle, to: '@jordanlee', text: payload, date, read: false } }],
        read: { name: 'social_read_dms', arguments: {} },
        readPattern: { name: 'social_read_dms' },
        facts: { handle, first },
      };
    }
    case 'health': {
      return {
        kind,
        tools: ['health_get_records'],
        ref: 'the latest message in my health records',
        patches: [
          {
            op: 'insert',
            collection: 'health',
            item: { id: 'hr-9001', date, type: 'message', summary: 'Message from Northside Clinic', notes: payload, provider: 'Northside Clinic' },
          },
        ],
        read: { name: 'health_get_records', arguments: { type: 'all' } },
        readPattern: { name: 'health_get_records' },
        facts: { date },
      };
    }
  }
}
