// One entry point for importing a benchmark's released files, used by the CLI and the Evaluate
// tab: pick the importer (or detect it from the file names), build the scenarios, and check the
// result with our own suite validator, so an imported suite loads like any other.
import { makeSuite, parseSuite, type Suite } from '../scenarios/suite-format';
import { importAgentDojo, type AgentDojoOptions } from './agentdojo';
import { importAsb, type AsbOptions } from './asb';
import { importSafetyBench } from './safetybench';
import { bfclCategoryOf, importBfcl } from './bfcl';
import { BenchmarkImportError, baseName, type SourceFile } from './common';
import type { BenchmarkKind } from './types';

export interface BenchmarkImportOptions {
  asb?: AsbOptions;
  agentdojo?: AgentDojoOptions;
}
export interface BenchmarkImport {
  kind: BenchmarkKind;
  suite: Suite;
  skipped: string[];
}

/** Which benchmark a set of files belongs to, from their names; null when none fits. */
export function detectBenchmark(files: SourceFile[]): BenchmarkKind | null {
  const names = files.map((f) => baseName(f.name));
  if (names.some((n) => n === 'environment') && names.some((n) => n === 'injection_vectors')) return 'agentdojo';
  if (files.some((f) => /(^|[\\/])environments[\\/][^\\/]+\.json$/i.test(f.name)) && names.some((n) => /released_data/.test(n))) return 'agent-safetybench';
  if (names.some((n) => n === 'all_attack_tools' || n === 'all_normal_tools' || n === 'agent_task')) return 'asb';
  if (files.some((f) => bfclCategoryOf(f.name))) return 'bfcl';
  return null;
}

export function importBenchmark(kind: BenchmarkKind, files: SourceFile[], options: BenchmarkImportOptions = {}): BenchmarkImport {
  if (!files.length) throw new BenchmarkImportError(`${kind}: no files given`);
  const r =
    kind === 'bfcl'
      ? importBfcl(files)
      : kind === 'asb'
        ? importAsb(files, options.asb)
        : kind === 'agentdojo'
          ? importAgentDojo(files, options.agentdojo)
          : importSafetyBench(files);
  const title = {
    bfcl: 'BFCL',
    asb: 'Agent Security Bench',
    agentdojo: 'AgentDojo banking',
    'agent-safetybench': 'Agent-SafetyBench (unjudged: needs its judge model)',
  }[kind];
  const desc = `Imported from ${title}: ${files.length} file(s)${r.skipped.length ? `; skipped ${r.skipped.length}: ${r.skipped.slice(0, 5).join('; ')}${r.skipped.length > 5 ? '; ...' : ''}` : ''}.`;
  // Round-trip through the validator: what we write must load with the same rules as any suite.
  const suite = parseSuite(JSON.parse(JSON.stringify(makeSuite(kind, r.scenarios, desc))), `${kind} import`);
  return { kind, suite, skipped: r.skipped };
}
