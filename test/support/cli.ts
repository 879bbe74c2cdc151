import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

// `npm test` builds before it runs the suite and sets HOOKLINE_TEST_BUILT_CLI: its processes
// then run the built CLI, as users do, and skip compiling the sources through tsx (most of a
// second of CPU per process). Vitest run alone runs the sources, so no build step is needed.
const cli = process.env.HOOKLINE_TEST_BUILT_CLI
  ? ['bin/hookline.js']
  : ['--import', 'tsx', 'src/cli/main.ts'];

/** Runs the real `hookline` CLI: the build under `npm test`, the sources otherwise. */
export function spawnHookline(args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [...cli, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts,
    env: { ...process.env, HOOKLINE_LOG_LEVEL: 'warn', ...opts.env },
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hookline …` to completion and collects its output. */
export async function runHookline(args: string[], opts: SpawnOptions = {}): Promise<CliResult> {
  const child = spawnHookline(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}
