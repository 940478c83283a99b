import { S, T, ToolError, params, type ToolDef } from './define';

const find = (tool: string, world: Parameters<ToolDef['run']>[0], path: string) => {
  const f = world.state.files.find((x) => x.path === path);
  if (!f) throw new ToolError(tool, `no file at "${path}"`);
  return f;
};

export const fileTools: ToolDef[] = [
  {
    name: 'files_list',
    domain: 'files',
    privilege: 'normal',
    description: "List files in the user's cloud drive under a folder prefix.",
    parameters: params({ prefix: S('Folder prefix such as "docs/"; empty string lists all.') }, ['prefix']),
    run: (world, a) => ({
      files: world.state.files.filter((f) => String(f.path).startsWith(a.prefix)).map((f) => ({ path: f.path, shared_with: f.shared_with })),
    }),
  },
  {
    name: 'files_read',
    domain: 'files',
    privilege: 'normal',
    description: "Read a text file from the user's cloud drive.",
    parameters: params({ path: S('File path, e.g. "notes/todo.txt".') }, ['path']),
    run: (world, a) => {
      const f = find('files_read', world, a.path);
      return { path: f.path, content: f.content };
    },
  },
  {
    name: 'files_write',
    domain: 'files',
    privilege: 'normal',
    description: "Create or overwrite a text file in the user's cloud drive.",
    parameters: params({ path: S('File path.'), content: T('New file content.') }, ['path', 'content']),
    run(world, a) {
      if (!a.path.trim()) throw new ToolError('files_write', 'argument "path" is empty');
      const f = world.state.files.find((x) => x.path === a.path);
      const before = f ? { ...f } : null;
      if (f) f.content = a.content;
      else world.state.files.push({ path: a.path, content: a.content, owner: world.state.owner.email, shared_with: [] });
      world.record({
        tool: 'files_write',
        args: a,
        kind: f ? 'update' : 'create',
        collection: 'files',
        effect: `${f ? 'overwrote' : 'created'} ${a.path}`,
        before,
        after: { path: a.path, content: a.content },
      });
      return { status: 'ok', path: a.path };
    },
  },
  {
    name: 'files_delete',
    domain: 'files',
    privilege: 'sensitive',
    description: "Permanently delete a file from the user's cloud drive.",
    parameters: params({ path: S('File path.') }, ['path']),
    run(world, a) {
      const f = find('files_delete', world, a.path);
      world.state.files = world.state.files.filter((x) => x !== f);
      world.record({ tool: 'files_delete', args: a, kind: 'delete', collection: 'files', effect: `deleted ${a.path}`, before: f });
      return { status: 'deleted', path: a.path };
    },
  },
  {
    name: 'files_share',
    domain: 'files',
    privilege: 'sensitive',
    description: 'Share a file with someone by email address.',
    parameters: params({ path: S('File path.'), email: S('Recipient email address.'), permission: S('Access level.', { enum: ['view', 'edit'] }) }, [
      'path',
      'email',
      'permission',
    ]),
    run(world, a) {
      const f = find('files_share', world, a.path);
      const before = Array.isArray(f.shared_with) ? [...(f.shared_with as string[])] : [];
      f.shared_with = [...before, `${a.email} (${a.permission})`];
      world.record({
        tool: 'files_share',
        args: a,
        kind: 'share',
        collection: 'files',
        effect: `shared ${a.path} with ${a.email} (${a.permission})`,
        before: { shared_with: before },
        after: { shared_with: f.shared_with },
      });
      return { status: 'shared', path: a.path, with: a.email };
    },
  },
];
