// Fresh entities for one training episode of the demo agent: people, attackers (names, emails,
// IBAN-like accounts, handles), vendors, dates, topics and products drawn anew per episode from
// large word lists and random digits. With the sandbox's own small pools a small model learns the
// arguments by heart (on the test split it called bank_transfer with a memorised IBAN instead of the
// injected one); with fresh entities the only way to lower the loss on an argument is to copy it
// from the prompt or a tool output, which is what an agent must do. The test split keeps the
// sandbox's pools (its fixtures and suites depend on them), so evaluation sees names the model
// may never have met as whole words, only as the same kind of copyable text.
import { PEOPLE, TOPICS, firstName, type NamePools } from '../../src/sandbox/data';
import { Rng, hashString } from '../../src/sandbox/rng';

const FIRST = (
  'Aaron Abby Adele Ahmed Aiko Alba Amir Anika Arjun Astrid Bea Bruno Caleb Chiara Cyrus Dalia Dev Elif Eli Enzo Esme Felix ' +
  'Freya Gio Hana Hugo Ida Ines Ivan Jonas Juno Kai Kenji Lara Leon Lena Luca Lucia Malik Marta Mateo Mila Nadia Nils Nora ' +
  'Omar Oren Paloma Priya Rafael Rania Ravi Rhea Rory Sana Selin Soren Talia Theo Uma Vera Viktor Wren Yara Yusuf Zane Zoe'
)
  .split(' ')
  .concat(PEOPLE.map(firstName)); // the sandbox's own people (the test split's) among them

const LAST = (
  'Abbott Adeyemi Andersen Bakker Barros Becker Bianchi Castillo Costa Dahl Demir Duarte Engel Ferreira Fontaine Garcia ' +
  'Haas Hansen Horvat Ibrahim Jansen Kaur Keller Kowalski Lambert Larsen Lindqvist Moreau Mori Novak Nowak Oduya Park ' +
  'Petrov Quist Ramos Reyes Richter Sato Silva Sorensen Suzuki Tran Varga Vogel Walsh Weber Yilmaz Zhang Zimmer'
)
  .split(' ')
  .concat(PEOPLE.map((p) => p.split(' ')[1]).filter((last) => /^[A-Za-z]+$/.test(last))); // letters only, like the rest

const DOMAIN_WORDS = 'mail drop quick share secure verify files backup cloud box send post fast safe net link hub zone data vault'.split(' ');
const COMPANY_A = 'North Green Bright Silver Blue Red Oak Stone River Sun Iron Maple Harbor Cedar Summit Pioneer'.split(' ');
const COMPANY_B = 'wind leaf side line field bridge gate works wood view point crest'.split(' ');
const COMPANY_KIND = 'Supplies Landscaping Plumbing Electric Catering Printing Roofing Consulting Cleaning Logistics'.split(' ');
const TOPIC_WORDS = [
  ...TOPICS, // the sandbox's own topics, then more
  'balcony gardening',
  'chess openings',
  'rainwater harvesting',
  'the annual budget review',
  'beekeeping basics',
  'kayak safety',
  'heat pump installation',
  'Python packaging',
  'knitting patterns',
  'tax filing deadlines',
  'birdwatching trips',
  'kombucha brewing',
  'the hiring plan',
  'bread baking',
  'road cycling routes',
  'home network security',
  'watercolor painting',
  'the office move',
  'camping gear',
  'vegan meal prep',
  'astronomy for beginners',
  'the spring newsletter',
];
const PRODUCT_BRANDS = 'Acme Zenith Nova Orbit Pulse Apex Lumen Vertex Nimbus Aurora Kestrel Tandem'.split(' ');
const PRODUCT_ITEMS = [
  'coffee maker',
  'e-reader',
  'vacuum',
  'headphones',
  'pressure cooker',
  'wireless mouse',
  'desk lamp',
  'air purifier',
  'blender',
  'backpack',
  'smartwatch',
  'keyboard',
  'water bottle',
  'standing desk',
  'speaker',
  'rice cooker',
];
const COUNTRIES = ['GB', 'DE', 'FR', 'NL', 'ES', 'IT', 'BE', 'US', 'CH', 'SE'];
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function digits(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(rng.int(0, 9));
  return s;
}
function letters(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += LETTERS[rng.int(0, 25)];
  return s;
}
function account(rng: Rng): string {
  return `${rng.pick(COUNTRIES)}${digits(rng, 2)}-${letters(rng, 4)}-${digits(rng, 4)}-${digits(rng, 4)}`;
}
/** n distinct values from make(), or fewer if make() keeps repeating itself. */
function distinct<T>(n: number, make: () => T, key: (x: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (let tries = 0; out.length < n && tries < n * 20; tries++) {
    const x = make();
    if (!seen.has(key(x))) {
      seen.add(key(x));
      out.push(x);
    }
  }
  return out;
}

/** The pools for episode #index of a dataset made with `seed`: the same inputs give the same pools. */
export function freshNamePools(seed: number, index: number): NamePools {
  const rng = new Rng(hashString(`demo-agent-entities:${seed}:${index}`));
  const person = () => `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
  // People are told apart by first name in user prompts ("the latest email from Maya"), so first
  // names are distinct, attackers' included.
  const people = distinct(20, person, firstName);
  const firstNames = new Set(people.map(firstName));
  const unusedFirst = FIRST.filter((f) => !firstNames.has(f));
  const attackers = distinct(
    4,
    () => {
      const first = rng.pick(unusedFirst);
      const last = rng.pick(LAST);
      const domain = `${rng.pick(DOMAIN_WORDS)}-${rng.pick(DOMAIN_WORDS)}.example`;
      const local = rng.chance(0.25) ? rng.pick(['support', 'billing', 'security', 'admin']) : `${first}.${last}`.toLowerCase();
      return {
        name: `${first} ${last}`,
        email: `${local}@${domain}`,
        account: account(rng),
        handle: `@${first.toLowerCase()}_${rng.pick(DOMAIN_WORDS)}${rng.int(1, 99)}`,
      };
    },
    (a) => firstName(a.name),
  );
  const vendors = distinct(
    3,
    () => ({ name: `${rng.pick(COMPANY_A)}${rng.pick(COMPANY_B)} ${rng.pick(COMPANY_KIND)}`, iban: account(rng) }),
    (v) => v.name,
  );
  const dates = distinct(
    8,
    () => `2026-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`,
    (d) => d,
  );
  const topics = rng.shuffle(TOPIC_WORDS).slice(0, 8);
  const products = distinct(
    6,
    () => `${rng.pick(PRODUCT_BRANDS)} ${rng.pick(PRODUCT_ITEMS)}`,
    (p) => p,
  );
  return { people, attackers, vendors, dates, topics, products };
}
