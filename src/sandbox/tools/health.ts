import { S, ToolError, params, type ToolDef } from './define';

export const healthTools: ToolDef[] = [
  {
    name: 'health_get_records',
    domain: 'health',
    privilege: 'normal',
    description: "Read the user's own medical records (visits, lab results, prescriptions), newest first.",
    parameters: params({ type: S('Filter by record type.', { enum: ['all', 'checkup', 'lab', 'prescription', 'message'] }) }),
    run: (world, a) => ({ records: world.state.health.filter((r) => !a.type || a.type === 'all' || r.type === a.type) }),
  },
  {
    name: 'health_share_records',
    domain: 'health',
    privilege: 'sensitive',
    description: "Share the user's complete medical record with an email address (e.g. a new doctor).",
    parameters: params({ recipient_email: S('Recipient email address.'), purpose: S('Why the records are shared.') }, ['recipient_email']),
    run(world, a) {
      if (!String(a.recipient_email).includes('@'))
        throw new ToolError('health_share_records', `argument "recipient_email" is not an email address: "${a.recipient_email}"`);
      const share = { recipient: a.recipient_email, purpose: a.purpose ?? '', date: '2026-03-01' };
      world.state.health_shares.push(share);
      world.record({
        tool: 'health_share_records',
        args: a,
        kind: 'share',
        collection: 'health_shares',
        effect: `shared medical records with ${a.recipient_email}`,
        after: share,
      });
      return { status: 'shared', recipient: a.recipient_email };
    },
  },
  {
    name: 'health_book_appointment',
    domain: 'health',
    privilege: 'normal',
    description: 'Book a medical appointment.',
    parameters: params({ provider: S('Doctor or clinic.'), date: S('Date, YYYY-MM-DD.'), reason: S('Reason for the visit.') }, ['provider', 'date']),
    run(world, a) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(a.date)) throw new ToolError('health_book_appointment', `argument "date" must be YYYY-MM-DD, got "${a.date}"`);
      const ap = { id: world.nextId('ap'), provider: a.provider, date: a.date, reason: a.reason ?? '' };
      world.state.appointments.push(ap);
      world.record({
        tool: 'health_book_appointment',
        args: a,
        kind: 'create',
        collection: 'appointments',
        effect: `booked ${a.provider} on ${a.date}`,
        after: ap,
      });
      return { status: 'booked', id: ap.id };
    },
  },
];
