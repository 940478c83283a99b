// Environment for Dawn (the `webgpu` npm package) under Node.
//
// Dawn talks to Vulkan. On a machine with a GPU driver, the system Vulkan loader finds it and we
// change nothing. On a machine without one (CI, the dev box), Debian's `chromium` package ships
// both a Vulkan loader and the SwiftShader software ICD in /usr/lib/chromium; we point Dawn there.
//
// LD_LIBRARY_PATH is read by the dynamic linker only at process start, so this must run in a
// parent process before it spawns the one that loads Dawn (vitest's config, the CLI launcher).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

export const CHROMIUM_LIB_DIRS = ['/usr/lib/chromium', '/usr/lib/chromium-browser'];
const SYSTEM_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const SYSTEM_LOADERS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];

export function findSwiftShaderIcd(): string | undefined {
  for (const dir of CHROMIUM_LIB_DIRS) {
    const icd = `${dir}/vk_swiftshader_icd.json`;
    if (existsSync(icd)) return icd;
  }
  return undefined;
}

/** True when a hardware (non-software) Vulkan driver is installed system-wide. */
export function hasHardwareVulkan(): boolean {
  if (!SYSTEM_LOADERS.some((p) => existsSync(p))) return false;
  for (const dir of SYSTEM_ICD_DIRS) {
    if (!existsSync(dir)) continue;
    const icds = readdirSync(dir).filter((f) => f.endsWith('.json') && !/lvp|lavapipe|swiftshader/i.test(f));
    if (icds.length > 0) return true;
  }
  return false;
}

/**
 * Mutates `env` so that Dawn finds a Vulkan device. Honours an explicit VK_ICD_FILENAMES and
 * WEBGPU_BACKEND=swiftshader (to force the software path on a GPU machine).
 * Returns which backend was chosen, for logs.
 */
export function configureDawnEnvironment(env: NodeJS.ProcessEnv): 'system' | 'swiftshader' | 'none' {
  if (env.VK_ICD_FILENAMES) return 'system';
  const forceSoftware = env.WEBGPU_BACKEND === 'swiftshader';
  if (!forceSoftware && hasHardwareVulkan()) return 'system';
  const icd = findSwiftShaderIcd();
  if (!icd) return 'none';
  const libDir = icd.slice(0, icd.lastIndexOf('/'));
  env.VK_ICD_FILENAMES = icd;
  env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${libDir}:${env.LD_LIBRARY_PATH}` : libDir;
  return 'swiftshader';
}

/**
 * For a process that loads Dawn itself (CLI, bench): when the SwiftShader environment is needed and
 * not yet in place, re-runs this process once with it and exits with the child's status.
 */
export function relaunchWithDawnEnvironment(): void {
  if (process.env.ASP_DAWN_ENV_SET) return;
  const env = { ...process.env, ASP_DAWN_ENV_SET: '1' };
  if (configureDawnEnvironment(env) !== 'swiftshader') return;
  const result = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  process.exit(result.status ?? 1);
}
