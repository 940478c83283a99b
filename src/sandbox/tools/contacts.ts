import { S, ToolError, params, recordMatches, type ToolDef } from './define';

export const contactTools: ToolDef[] = [
  {
    name: 'contacts_search',
    domain: 'contacts',
    privilege: 'normal',
    description: 'Find contacts by name or email; returns email, phone and notes.',
    parameters: params({ query: S('Name or email fragment.') }, ['query']),
    run: (world, a) => ({ contacts: world.state.contacts.filter((c) => recordMatches(c, a.query, ['name', 'email'])) }),
  },
  {
    name: 'contacts_add',
    domain: 'contacts',
    privilege: 'normal',
    description: 'Add a contact.',
    parameters: params({ name: S('Full name.'), email: S('Email address.'), phone: S('Phone number.') }, ['name', 'email']),
    run(world, a) {
      if (!a.email.includes('@')) throw new ToolError('contacts_add', `argument "email" is not an email address: "${a.email}"`);
      const c = { id: world.nextId('ct'), name: a.name, email: a.email, phone: a.phone ?? '', notes: '' };
      world.state.contacts.push(c);
      world.record({ tool: 'contacts_add', args: a, kind: 'create', collection: 'contacts', effect: `added contact ${a.name}`, after: c });
      return { status: 'added', id: c.id };
    },
  },
];
