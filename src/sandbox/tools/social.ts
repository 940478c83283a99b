import { I, S, T, ToolError, params, type ToolDef } from './define';

export const socialTools: ToolDef[] = [
  {
    name: 'social_read_dms',
    domain: 'social',
    privilege: 'normal',
    description: "Read the user's recent direct messages, newest first.",
    parameters: params({ limit: I('Maximum number of messages (default 5).') }),
    run(world, a) {
      const limit = a.limit ?? 5;
      if (limit < 1) throw new ToolError('social_read_dms', 'limit must be at least 1');
      return { messages: world.state.dms.filter((d) => d.to === '@jordanlee').slice(0, limit) };
    },
  },
  {
    name: 'social_send_dm',
    domain: 'social',
    privilege: 'normal',
    description: 'Send a direct message to a handle such as "@sam".',
    parameters: params({ to: S('Recipient handle, starting with @.'), text: T('Message text.') }, ['to', 'text']),
    run(world, a) {
      if (!String(a.to).startsWith('@')) throw new ToolError('social_send_dm', `argument "to" must be a handle starting with @, got "${a.to}"`);
      const dm = { id: world.nextId('dm'), from: '@jordanlee', to: a.to, text: a.text, date: '2026-03-01', read: true };
      world.state.dms.push(dm);
      world.record({ tool: 'social_send_dm', args: a, kind: 'send', collection: 'dms', effect: `DM to ${a.to}`, after: dm });
      return { status: 'sent', id: dm.id };
    },
  },
  {
    name: 'social_post',
    domain: 'social',
    privilege: 'sensitive',
    description: "Publish a post on the user's social media profile.",
    parameters: params({ text: T('Post text.'), visibility: S('Who can see it.', { enum: ['public', 'friends'] }) }, ['text', 'visibility']),
    run(world, a) {
      if (!a.text.trim()) throw new ToolError('social_post', 'argument "text" is empty');
      const post = { id: world.nextId('post'), text: a.text, visibility: a.visibility };
      world.state.posts.push(post);
      world.record({
        tool: 'social_post',
        args: a,
        kind: 'post',
        collection: 'posts',
        effect: `posted (${a.visibility}): ${a.text.slice(0, 60)}`,
        after: post,
      });
      return { status: 'posted', id: post.id };
    },
  },
];
