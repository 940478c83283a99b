// The formatter as part of `npm test` (issue #11 item 5): every TypeScript file is as prettier
// writes it under .prettierrc.json (160 columns; .prettierignore leaves JSON, Markdown and the
// rest as written), so one layout and a line limit hold without a review. On failure the message
// lists the files; `npm run format` rewrites them.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

it('prettier --check . finds every TypeScript file formatted', () => {
  const prettier = createRequire(import.meta.url).resolve('prettier/bin/prettier.cjs');
  const r = spawnSync(process.execPath, [prettier, '--check', '--log-level', 'warn', '.'], { encoding: 'utf8', timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
  if (r.error) throw new Error(`prettier did not run: ${r.error.message}`);
  const output = `${r.stdout}${r.stderr}`.trim();
  expect(output, `prettier --check exited with ${r.status}; run \`npm run format\`:\n${output}`).toBe('');
  expect(r.status).toBe(0);
}, 300_000);
