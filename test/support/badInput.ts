// The bad-input catalogue's one check: the built `mlops` command line is run on a bad input, and
// the case holds when it exits with the expected code, its stderr names the problem (the file,
// field, rule or host), it does not crash (no stack trace, no signal) and no file it was given
// changed. Each area keeps its cases in test/integration/badInputs/<area>.test.ts.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/lib/setup.mjs';

export const cliPath = join(repoRoot, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
}

/** Runs `node dist/cli.js ...args` with an argument array, killed after `timeoutMs`. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

export interface RunningCli {
  child: ChildProcess;
  /** Settles when the process has exited and its output is closed. */
  result: Promise<CliResult>;
  /** Resolves once stderr so far matches `pattern`; rejects if the process ends first. */
  stderrMatches(pattern: RegExp): Promise<void>;
}

/** Starts `node dist/cli.js ...args` in the background, for a test that signals it while it works. */
export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const started = Date.now();
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  child.stdin.end(options.input ?? '');
  const stderrMatches = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(stderr)) return;
        child.stderr.off('data', check);
        resolve();
      };
      child.stderr.on('data', check);
      check();
      void result.then((end) =>
        reject(
          new Error(
            `mlops ${args.join(' ')} ended (exit ${end.code}, signal ${end.signal}) before stderr matched ${pattern}:\n${end.stderr}`,
          ),
        ),
      );
    });
  return { child, result, stderrMatches };
}

/** A fingerprint of every file under the given paths (content hashes), to prove nothing changed. */
export function fingerprint(paths: string[]): Map<string, string> {
  const hashes = new Map<string, string>();
  const visit = (path: string) => {
    if (!existsSync(path)) return hashes.set(path, 'absent');
    if (statSync(path).isDirectory()) {
      hashes.set(path, 'dir');
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
    } else hashes.set(path, createHash('sha256').update(readFileSync(path)).digest('hex'));
  };
  paths.forEach(visit);
  return hashes;
}

export interface BadInputCase {
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Exit code expected; 1 for every bad input unless said otherwise. */
  exitCode?: number;
  /** What stderr must say: every pattern must match. */
  message: RegExp | RegExp[];
  /** Files and folders that must be byte for byte the same afterwards. */
  unchanged?: string[];
}

/** Runs one catalogue case and asserts its message, exit code, no crash and no data changed. */
export async function expectRefused(testCase: BadInputCase): Promise<CliResult> {
  const before = fingerprint(testCase.unchanged ?? []);
  const result = await runCli(testCase.args, testCase);
  const shown = `mlops ${testCase.args.join(' ')}\nexit ${result.code} signal ${result.signal}\nstderr: ${result.stderr}\nstdout: ${result.stdout.slice(0, 2000)}`;
  assert.equal(result.signal, null, `killed by a signal:\n${shown}`);
  assert.equal(result.code, testCase.exitCode ?? 1, shown);
  for (const pattern of [testCase.message].flat()) assert.match(result.stderr, pattern, shown);
  assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace instead of a message:\n${shown}`);
  assert.deepEqual(fingerprint(testCase.unchanged ?? []), before, `data changed:\n${shown}`);
  return result;
}

export interface AcceptedCase {
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** What stdout must say: every pattern must match. */
  output: RegExp | RegExp[];
  /** Files and folders that must be byte for byte the same afterwards. */
  unchanged?: string[];
}

/**
 * For an input that looks bad but is read as users mean it (a latin-1 CSV, a lock that a writer
 * soon lets go): exit code 0, the expected output, nothing on stderr that looks like a crash, and
 * the given files unchanged.
 */
export async function expectAccepted(testCase: AcceptedCase): Promise<CliResult> {
  const before = fingerprint(testCase.unchanged ?? []);
  const result = await runCli(testCase.args, testCase);
  const shown = `mlops ${testCase.args.join(' ')}\nexit ${result.code} signal ${result.signal}\nstderr: ${result.stderr}\nstdout: ${result.stdout.slice(0, 2000)}`;
  assert.equal(result.code, 0, shown);
  for (const pattern of [testCase.output].flat()) assert.match(result.stdout, pattern, shown);
  assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace:\n${shown}`);
  assert.deepEqual(fingerprint(testCase.unchanged ?? []), before, `data changed:\n${shown}`);
  return result;
}

/** A loopback port that nothing listens on: one the system just gave out, closed again. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
