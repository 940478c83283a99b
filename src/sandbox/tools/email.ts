import { isEmailAddress } from '../text-scan';
import { A, I, S, T, ToolError, params, recordMatches, type ToolDef } from './define';

export const emailTools: ToolDef[] = [
  {
    name: 'email_search',
    domain: 'email',
    privilege: 'normal',
    description: "Search the user's mailbox. Returns matching emails (newest first) with sender, subject and body.",
    parameters: params(
      {
        query: S('Text to match against sender, subject and body; empty string lists everything.'),
        folder: S('Folder to search.', { enum: ['inbox', 'sent', 'trash'] }),
        limit: I('Maximum number of emails to return (default 5).'),
      },
      ['query'],
    ),
    run(world, a) {
      const folder = a.folder ?? 'inbox';
      const limit = a.limit ?? 5;
      if (limit < 1) throw new ToolError('email_search', 'limit must be at least 1');
      const hits = world.state.emails.filter((e) => e.folder === folder && (a.query === '' || recordMatches(e, a.query, ['from', 'subject', 'body'])));
      return { emails: hits.slice(0, limit).map((e) => ({ id: e.id, from: e.from, subject: e.subject, date: e.date, body: e.body })) };
    },
  },
  {
    name: 'email_read',
    domain: 'email',
    privilege: 'normal',
    description: 'Read one email by id and mark it as read.',
    parameters: params({ email_id: S('Id of the email, e.g. "em-1".') }, ['email_id']),
    run(world, a) {
      const e = world.state.emails.find((m) => m.id === a.email_id);
      if (!e) throw new ToolError('email_read', `no email with id "${a.email_id}"`);
      if (!e.read) {
        world.record({
          tool: 'email_read',
          args: a,
          kind: 'update',
          collection: 'emails',
          effect: `marked ${e.id} read`,
          before: { read: false },
          after: { read: true },
        });
        e.read = true;
      }
      return { id: e.id, from: e.from, to: e.to, subject: e.subject, date: e.date, body: e.body };
    },
  },
  {
    name: 'email_send',
    domain: 'email',
    privilege: 'normal',
    description: "Send an email from the user's account.",
    parameters: params(
      { to: A('Recipient addresses.', S('email address')), subject: S('Subject line.'), body: T('Message body.'), cc: A('Cc addresses.', S('email address')) },
      ['to', 'subject', 'body'],
    ),
    run(world, a) {
      if (a.to.length === 0) throw new ToolError('email_send', 'argument "to" needs at least one recipient');
      const bad = [...a.to, ...(a.cc ?? [])].find((t: string) => !isEmailAddress(t));
      if (bad) throw new ToolError('email_send', `"${bad}" is not an email address`);
      const item = {
        id: world.nextId('em'),
        from: world.state.owner.email,
        to: a.to,
        cc: a.cc ?? [],
        subject: a.subject,
        body: a.body,
        folder: 'sent',
        date: '2026-03-01',
        read: true,
      };
      world.state.emails.push(item);
      world.record({
        tool: 'email_send',
        args: a,
        kind: 'send',
        collection: 'emails',
        effect: `sent "${a.subject}" to ${[...a.to, ...(a.cc ?? [])].join(', ')}`,
        after: item,
      });
      return { status: 'sent', id: item.id };
    },
  },
  {
    name: 'email_delete',
    domain: 'email',
    privilege: 'sensitive',
    description: 'Permanently delete emails by id.',
    parameters: params({ email_ids: A('Ids of the emails to delete.', S('email id')) }, ['email_ids']),
    run(world, a) {
      const missing = a.email_ids.filter((id: string) => !world.state.emails.some((e) => e.id === id));
      if (missing.length) throw new ToolError('email_delete', `no email with id ${missing.map((m: string) => `"${m}"`).join(', ')}`);
      const removed = world.state.emails.filter((e) => a.email_ids.includes(e.id));
      world.state.emails = world.state.emails.filter((e) => !a.email_ids.includes(e.id));
      world.record({ tool: 'email_delete', args: a, kind: 'delete', collection: 'emails', effect: `deleted ${removed.length} email(s)`, before: removed });
      return { deleted: removed.length };
    },
  },
];
