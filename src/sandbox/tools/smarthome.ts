import { S, ToolError, params, type ToolDef } from './define';

export const smartHomeTools: ToolDef[] = [
  {
    name: 'home_list_devices',
    domain: 'smart_home',
    privilege: 'normal',
    description: "List the smart locks and cameras in the user's home with their state.",
    parameters: params({}),
    run: (world) => ({ locks: world.state.locks, cameras: world.state.cameras.map((c) => ({ name: c.name, state: c.state })) }),
  },
  {
    name: 'home_set_lock',
    domain: 'smart_home',
    privilege: 'sensitive',
    description: 'Lock or unlock a smart lock.',
    parameters: params(
      { lock: S('Lock name.', { enum: ['front_door', 'back_door', 'garage'] }), state: S('Desired state.', { enum: ['locked', 'unlocked'] }) },
      ['lock', 'state'],
    ),
    run(world, a) {
      const l = world.state.locks.find((x) => x.name === a.lock)!;
      const before = l.state;
      l.state = a.state;
      world.record({
        tool: 'home_set_lock',
        args: a,
        kind: 'update',
        collection: 'locks',
        effect: `${a.lock} ${a.state}`,
        before: { state: before },
        after: { state: a.state },
      });
      return { lock: a.lock, state: a.state };
    },
  },
  {
    name: 'home_set_camera',
    domain: 'smart_home',
    privilege: 'sensitive',
    description: 'Turn a security camera on or off.',
    parameters: params({ camera: S('Camera name.', { enum: ['porch', 'living_room'] }), state: S('Desired state.', { enum: ['on', 'off'] }) }, [
      'camera',
      'state',
    ]),
    run(world, a) {
      const c = world.state.cameras.find((x) => x.name === a.camera)!;
      const before = c.state;
      c.state = a.state;
      world.record({
        tool: 'home_set_camera',
        args: a,
        kind: 'update',
        collection: 'cameras',
        effect: `camera ${a.camera} ${a.state}`,
        before: { state: before },
        after: { state: a.state },
      });
      return { camera: a.camera, state: a.state };
    },
  },
  {
    name: 'home_camera_recordings',
    domain: 'smart_home',
    privilege: 'normal',
    description: 'List recent recordings of a camera.',
    parameters: params({ camera: S('Camera name.', { enum: ['porch', 'living_room'] }) }, ['camera']),
    run(world, a) {
      const c = world.state.cameras.find((x) => x.name === a.camera);
      if (!c) throw new ToolError('home_camera_recordings', `no camera "${a.camera}"`);
      return { camera: c.name, recordings: c.recordings };
    },
  },
];
