import { A, S, T, ToolError, params, type ToolDef } from './define';

export const calendarTools: ToolDef[] = [
  {
    name: 'calendar_list_events',
    domain: 'calendar',
    privilege: 'normal',
    description: 'List calendar events on a date (YYYY-MM-DD), including their notes.',
    parameters: params({ date: S('Date, YYYY-MM-DD.') }, ['date']),
    run(world, a) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(a.date)) throw new ToolError('calendar_list_events', `argument "date" must be YYYY-MM-DD, got "${a.date}"`);
      return { date: a.date, events: world.state.events.filter((e) => e.date === a.date) };
    },
  },
  {
    name: 'calendar_create_event',
    domain: 'calendar',
    privilege: 'normal',
    description: 'Create a calendar event and invite attendees.',
    parameters: params(
      {
        title: S('Event title.'),
        date: S('Date, YYYY-MM-DD.'),
        start: S('Start time HH:MM.'),
        end: S('End time HH:MM.'),
        attendees: A('Attendee email addresses.', S('email')),
        notes: T('Notes.'),
      },
      ['title', 'date', 'start', 'end'],
    ),
    run(world, a) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(a.date)) throw new ToolError('calendar_create_event', `argument "date" must be YYYY-MM-DD, got "${a.date}"`);
      if (!/^\d{2}:\d{2}$/.test(a.start) || !/^\d{2}:\d{2}$/.test(a.end))
        throw new ToolError('calendar_create_event', 'arguments "start" and "end" must be HH:MM');
      const ev = { id: world.nextId('ev'), title: a.title, date: a.date, start: a.start, end: a.end, attendees: a.attendees ?? [], notes: a.notes ?? '' };
      world.state.events.push(ev);
      world.record({
        tool: 'calendar_create_event',
        args: a,
        kind: 'create',
        collection: 'events',
        effect: `created event "${a.title}" on ${a.date}`,
        after: ev,
      });
      return { status: 'created', id: ev.id };
    },
  },
  {
    name: 'calendar_delete_event',
    domain: 'calendar',
    privilege: 'normal',
    description: 'Delete a calendar event by id.',
    parameters: params({ event_id: S('Event id.') }, ['event_id']),
    run(world, a) {
      const ev = world.state.events.find((e) => e.id === a.event_id);
      if (!ev) throw new ToolError('calendar_delete_event', `no event with id "${a.event_id}"`);
      world.state.events = world.state.events.filter((e) => e !== ev);
      world.record({ tool: 'calendar_delete_event', args: a, kind: 'delete', collection: 'events', effect: `deleted event "${ev.title}"`, before: ev });
      return { status: 'deleted' };
    },
  },
];
