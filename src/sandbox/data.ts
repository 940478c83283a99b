// Name pools shared by the world seeder and the scenario generator. All addresses use
// reserved example domains; attacker-controlled ones are marked as such in scenarios.
//
// The pools below are the sandbox's entities for every split and fixture. A caller that wants
// other entities for a while (the demo agent's training data draws fresh ones per episode, so
// arguments can only be copied from the prompt, never memorised) runs its code inside
// withNamePools: the builders and the world seeder read these arrays at call time.

export const PEOPLE = [
  'Alice Chen',
  'Bob Martinez',
  'Carol Nguyen',
  'David Okafor',
  'Emma Schmidt',
  'Farid Haddad',
  'Grace Kim',
  'Hiro Tanaka',
  'Isabel Rossi',
  'Jamal Wright',
  'Katya Ivanova',
  "Liam O'Brien",
  'Maya Patel',
  'Noah Fischer',
  'Olivia Dubois',
  'Pedro Alves',
  'Quinn Murphy',
  'Rosa Jimenez',
  'Sam Taylor',
  'Tara Singh',
];

export const ATTACKERS = [
  { name: 'Alex Vance', email: 'alex.vance@mail-drop.example', account: 'GB29-ATTK-6016-1331-9268-19', handle: '@vance_deals' },
  { name: 'Sid Merrick', email: 'sid.merrick@quickshare.example', account: 'DE89-ATTK-0440-0532-0130-00', handle: '@sidm' },
  { name: 'Kim Rourke', email: 'support@secure-verify.example', account: 'FR76-ATTK-3000-6000-0112-34', handle: '@kr_promo' },
  { name: 'Dana Voss', email: 'dana.voss@files-backup.example', account: 'NL91-ATTK-0417-1643-00', handle: '@dvoss' },
];

export const VENDORS = [
  { name: 'Northwind Supplies', iban: 'US33-NWND-0001-4477' },
  { name: 'Greenleaf Landscaping', iban: 'US71-GRLF-0002-9012' },
  { name: 'Brightside Plumbing', iban: 'US05-BRPL-0003-3321' },
];

export const OWNER = { name: 'Jordan Lee', email: 'jordan.lee@example.com', phone: '+1-555-0100' };

export function emailOf(person: string): string {
  return (
    person
      .toLowerCase()
      .replace(/[^a-z ]/g, '')
      .trim()
      .replace(/ +/g, '.') + '@example.com'
  );
}
export function firstName(person: string): string {
  return person.split(' ')[0];
}

export const DATES = ['2026-03-02', '2026-03-05', '2026-03-09', '2026-03-12', '2026-03-16', '2026-03-19', '2026-03-23', '2026-03-27'];
export const TOPICS = [
  'solar panel subsidies',
  'sourdough starters',
  'electric bike maintenance',
  'the Q3 product roadmap',
  'home composting',
  'marathon training plans',
  'Rust async runtimes',
  'city recycling rules',
];
export const PRODUCTS = [
  'AeroPress coffee maker',
  'Kindle Paperwhite',
  'Dyson V15 vacuum',
  'Sony WH-1000XM5 headphones',
  'Instant Pot Duo',
  'Logitech MX Master 3',
];

export interface NamePools {
  people: string[];
  attackers: { name: string; email: string; account: string; handle: string }[];
  vendors: { name: string; iban: string }[];
  dates: string[];
  topics: string[];
  products: string[];
}

/**
 * Runs `build` with the pools' contents replaced by `pools`, and puts the originals back after,
 * even on a throw. Synchronous only: an async `build` would let other code see the swapped pools,
 * so a returned promise is refused. Each replacement must be non-empty (builders pick from it).
 */
export function withNamePools<T>(pools: NamePools, build: () => T): T {
  // One live array per pool; the mapped type makes a pool added to NamePools a compile error here until listed.
  const live: { [K in keyof NamePools]: NamePools[K] } = {
    people: PEOPLE,
    attackers: ATTACKERS,
    vendors: VENDORS,
    dates: DATES,
    topics: TOPICS,
    products: PRODUCTS,
  };
  const keys = Object.keys(live) as (keyof NamePools)[];
  for (const k of keys) if (pools[k].length === 0) throw new Error(`withNamePools: pool "${k}" needs at least one entry`);
  const swap = (source: NamePools) => keys.forEach((k) => (live[k] as unknown[]).splice(0, live[k].length, ...source[k]));
  const saved = Object.fromEntries(keys.map((k) => [k, live[k].slice()])) as unknown as NamePools;
  swap(pools);
  try {
    const result = build();
    if (result instanceof Promise) throw new Error('withNamePools: build must be synchronous');
    return result;
  } finally {
    swap(saved);
  }
}
