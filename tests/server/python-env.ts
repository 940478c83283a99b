// The Python side of the end-to-end test: a venv at .cache/python-venv (git-ignored, owned by
// npm test) with python/requirements.txt and the python/ package installed from the local package
// index. Installs when missing; any failure throws with pip's output (never skipped).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const VENV = join(process.cwd(), '.cache/python-venv');
export const PYTHON = join(VENV, 'bin/python');
const INDEX = ['--index-url', 'file:///opt/pypi/simple', '--extra-index-url', 'file:///opt/pypi-more/simple'];

function run(cmd: string, args: string[], what: string, timeoutMs: number) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(
      `${what} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${(r.stdout ?? '').slice(-3000)}\n${(r.stderr ?? '').slice(-3000)}`,
    );
  return r.stdout;
}

/** True when the venv already imports every pinned package at its pinned version. */
function satisfied(): boolean {
  if (!existsSync(PYTHON)) return false;
  const check =
    'import importlib.metadata as m, sys\nfor line in open("python/requirements.txt"):\n    line = line.split("#")[0].strip()\n    if not line: continue\n    name, want = line.split("==")\n    got = m.version(name)\n    if got.split("+")[0] != want: sys.exit(1)';
  return spawnSync(PYTHON, ['-c', check], { encoding: 'utf8' }).status === 0;
}

/** Test files run in parallel: one installs while the others wait (a directory as the lock). */
function withLock(fn: () => void) {
  const lock = `${VENV}.lock`;
  mkdirSync(join(VENV, '..'), { recursive: true });
  const deadline = Date.now() + 1_800_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run (older than the longest install) is taken over.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 1_800_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone already */
      }
      if (Date.now() > deadline) throw new Error(`waited 30 minutes for ${lock}: remove it if no test run is installing`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
  try {
    fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function ensurePythonEnv(): void {
  withLock(installIfNeeded);
}

function installIfNeeded(): void {
  if (!satisfied()) {
    const python3 = spawnSync('python3', ['--version'], { encoding: 'utf8' });
    if (python3.status !== 0)
      throw new Error('python3 is missing: the TRL end-to-end test needs Python 3.10+ (Debian: apt-get install -y python3 python3-venv)');
    if (!existsSync(PYTHON)) run('python3', ['-m', 'venv', VENV], 'python3 -m venv .cache/python-venv', 120_000);
    // /opt/wheels (when present) holds the CPU build of torch; the local index has the rest.
    const findLinks = existsSync('/opt/wheels') ? ['--find-links', '/opt/wheels'] : [];
    run(
      PYTHON,
      ['-m', 'pip', 'install', '--quiet', ...INDEX, ...findLinks, '-r', 'python/requirements.txt'],
      'pip install -r python/requirements.txt (local index)',
      1_500_000,
    );
  }
  // The package itself, reinstalled whenever its source changed, so tests run the working tree's
  // code (no deps: pinned above). Not on every call: another test file may be running it.
  const hash = createHash('sha256');
  for (const f of [
    'pyproject.toml',
    ...readdirSync('python/agent_safety_env')
      .filter((n) => n.endsWith('.py'))
      .sort()
      .map((n) => `agent_safety_env/${n}`),
  ])
    hash.update(f).update(readFileSync(join('python', f)));
  const stamp = join(VENV, '.agent-safety-env.sha256');
  const digest = hash.digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-build-isolation', '--force-reinstall', './python'], 'pip install ./python', 300_000);
  writeFileSync(stamp, digest);
}
