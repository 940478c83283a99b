// `tsc --noEmit -p .` as part of `npm test` (issue #11 item 5): the whole project, tests and tools
// included, type-checks under the strict settings of tsconfig.json. One test, so the summary line
// counts it; on failure its message is the compiler's own output (file(line,col): error TSxxxx ...).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

it('tsc --noEmit -p . reports no errors', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', '.'], { encoding: 'utf8', timeout: 540_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`tsc did not run: ${r.error.message}`);
  const output = `${r.stdout}${r.stderr}`.trim();
  expect(output, `tsc exited with ${r.status}:\n${output}`).toBe('');
  expect(r.status).toBe(0);
}, 600_000);
