// Public API of the benchmark importers and their scoring (re-exported by src/sandbox/index.ts).
export { importBenchmark, detectBenchmark, type BenchmarkImport, type BenchmarkImportOptions } from './import';
export { importBfcl, bfclParamSchema, bfclCategoryOf } from './bfcl';
export { bfclAstCheck, standardize as bfclStandardize } from './bfcl-ast';
export { importAsb, asbAttackPrompt, asbInjectedPrompt, type AsbOptions } from './asb';
export { importAgentDojo, importantInstructions, DojoEnvironment, type AgentDojoOptions } from './agentdojo';
export { judgeBenchmark } from './judge';
export { importSafetyBench } from './safetybench';
export {
  benchmarkMetrics,
  benchmarkHeadlineRows,
  compareHeadlines,
  type HeadlineRow,
  compareBenchmarkMetrics,
  flattenBenchmarkMetrics,
  benchmarkMetricsCsv,
  type BenchmarkMetrics,
  type BfclMetrics,
  type AsbMetrics,
  type AgentDojoMetrics,
} from './metrics';
export type { SourceFile } from './common';
export * from './types';
