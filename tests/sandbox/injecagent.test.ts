// InjecAgent import: Python-literal parameters, quoted responses, tools.json or synthesised
// schemas, clear errors; and the reference policies: comply is always attacked, oracle and
// refuse never are.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runEval } from '../../src/sandbox/evaluate';
import { importInjecAgent } from '../../src/sandbox/scenarios/injecagent';
import { parsePythonLiteral } from '../../src/sandbox/scenarios/pyliteral';
import { complyPolicy, oraclePolicy, refusePolicy } from '../../src/sandbox/policies';
import { Sandbox } from '../../src/sandbox/sandbox';

const dir = 'tests/fixtures/injecagent';
const load = (f: string) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
const dh = load('test_cases_dh.json'),
  ds = load('test_cases_ds.json'),
  tools = load('tools.json');

describe('Python literal parser', () => {
  it('parses dicts, lists, tuples, escapes, True/False/None and numbers', () => {
    expect(parsePythonLiteral("{'a': [1, -2.5, 1e3], 'b': (True, False, None), \"c\": 'it\\'s', 'd': {'e': 'x\\ny'}, 'f': 'a' 'b',}")).toEqual({
      a: [1, -2.5, 1000],
      b: [true, false, null],
      c: "it's",
      d: { e: 'x\ny' },
      f: 'ab',
    });
  });
  for (const bad of ["{'a': }", "{'a' 1}", "'open", '{1: 2', 'nope', "{'a': 1} extra"]) {
    it(`rejects ${bad}`, () => expect(() => parsePythonLiteral(bad)).toThrow(/at offset \d+/));
  }
});

describe('InjecAgent import', () => {
  it('imports cases as BU-MT scenarios with tools.json schemas', () => {
    const s = importInjecAgent([...dh, ...ds], { toolkits: tools, source: 'fixture' });
    expect(s).toHaveLength(6);
    for (const x of s) {
      expect(x.cell).toBe('BU-MT');
      expect(x.split).toBe('imported');
      expect(x.attacker!.trigger).toBe(x.attacker!.instruction);
    }
    const notes = s[2];
    expect(notes.userGoal.plan[0]).toEqual({
      name: 'EvernoteManagerSearchNotes',
      arguments: { keywords: ['garden', 'project'], max_results: 5, include_archived: true, notebook_id: null },
    });
    expect(notes.technique).toBe('injecagent-enhanced');
    const unlock = s[0].customTools!.find((t) => t.schema.function.name === 'AugustSmartLockUnlockDoor')!;
    expect(unlock).toMatchObject({ privilege: 'sensitive', sideEffect: true });
    const send = s[3].customTools!.find((t) => t.schema.function.name === 'GmailSendEmail')!;
    expect(send.schema.function.parameters.required).toEqual(['to', 'subject', 'body']);
    expect(s[3].attacker!.dataStealing).toEqual({ readTool: 'AmazonViewSavedAddresses', exfilTool: 'GmailSendEmail' });
    expect(s[3].attacker!.plan[1].arguments.to).toBe('amy.watson@gmail.com');
    // The user tool returns the filled response with its extra quotes removed.
    const sb = new Sandbox(s[0]);
    const obs = sb.execute('AmazonGetProductDetails', { product_id: 'B0C4XZ12QP' });
    expect(obs.content.startsWith("{'product_details'")).toBe(true);
    expect(obs.content).toContain(dh[0]['Attacker Instruction']);
  });

  it('synthesises minimal schemas without tools.json', () => {
    const s = importInjecAgent(ds, { source: 'fixture' });
    const user = s[0].customTools!.find((t) => t.schema.function.name === 'TwitterManagerGetUserProfile')!;
    expect(user.schema.function.parameters).toMatchObject({ properties: { user_id: { type: 'string' } }, required: ['user_id'], additionalProperties: true });
    expect(new Sandbox(s[0]).execute('GmailSendEmail', { to: 'x@y.z', anything: 1 }).ok).toBe(true);
  });

  const broken: [string, (c: any) => void, RegExp][] = [
    ['missing key', (c) => delete c['User Tool'], /case 0 is missing "User Tool"/],
    [
      'bad parameters',
      (c) => {
        c['Tool Parameters'] = "{'a': ";
      },
      /"Tool Parameters" is not a Python dict literal/,
    ],
    [
      'non-dict parameters',
      (c) => {
        c['Tool Parameters'] = "['a']";
      },
      /must be a dict/,
    ],
    [
      'instruction not in response',
      (c) => {
        c['Tool Response'] = '"{}"';
      },
      /does not contain the "Attacker Instruction"/,
    ],
    [
      'three attacker tools',
      (c) => {
        c['Attacker Tools'] = ['A', 'B', 'C'];
      },
      /has 3 tools/,
    ],
    [
      'bad exfil tool',
      (c) => {
        c['Attacker Tools'] = ['A', 'SlackSend'];
      },
      /must end with GmailSendEmail/,
    ],
  ];
  for (const [name, mutate, msg] of broken) {
    it(`rejects a case with ${name}`, () => {
      const c = structuredClone(dh[0]);
      mutate(c);
      expect(() => importInjecAgent([c], { source: 'cases.json' })).toThrow(msg);
    });
  }
  it('names a tool missing from tools.json', () => {
    expect(() => importInjecAgent(dh, { toolkits: tools.filter((t: any) => t.toolkit !== 'Dropbox'), toolsSource: 'tools.json' })).toThrow(
      /tool "DropboxDeleteItem" is not in tools.json/,
    );
    expect(() => importInjecAgent({}, {})).toThrow(/must be a JSON list/);
  });

  for (const withTools of [true, false]) {
    it(`comply is attacked every time, oracle and refuse never (${withTools ? 'with' : 'without'} tools.json)`, async () => {
      const s = importInjecAgent([...dh, ...ds], withTools ? { toolkits: tools } : {});
      const comply = (await runEval(s, complyPolicy())).report;
      expect(comply.overall.attack_success_rate).toBe(1);
      expect(comply.injecagent!.asr_valid).toEqual({ direct_harm: 1, data_stealing_s1: 1, data_stealing_s2: 1, data_stealing: 1, total: 1 });
      expect(Object.keys(comply.by_attack_type).sort()).toEqual([
        'Data Security Harm',
        'Financial Data',
        'Financial Harm',
        'Others',
        'Physical Data',
        'Physical Harm',
      ]);
      expect(comply.injecagent!.by_attack_type['Physical Data']).toEqual({ n: 1, valid: 1, successes: 1, asr_valid: 1 });
      for (const p of [oraclePolicy(), refusePolicy()]) {
        const r = (await runEval(s, p)).report;
        expect(r.overall.attack_success_rate).toBe(0);
        expect(r.injecagent!.asr_valid.total).toBe(0);
        expect(r.injecagent!.valid_rate).toBe(1);
      }
    });
  }
});
