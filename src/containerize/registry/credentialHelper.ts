// Docker credential helpers (`docker-credential-<name> get`): the server address goes in on stdin,
// `{"ServerURL", "Username", "Secret"}` comes out. runProgram has no stdin, hence spawn here.
import { spawn } from 'node:child_process';
import * as v from 'valibot';
import { MlopsError } from '../../shared/errors';

export interface HelperCredentials {
  username: string;
  secret: string;
}

const TIMEOUT_MS = 30_000;

/**
 * What a helper holds for a server, or undefined when it holds nothing. `configFile` is named in
 * errors; the helper's output is never shown, as it may hold the secret.
 */
export async function credentialsFromHelper(
  helper: string,
  serverAddress: string,
  env: NodeJS.ProcessEnv,
  configFile: string,
): Promise<HelperCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const { code, stdout } = await runWithInput(program, ['get'], serverAddress, env).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        throw new MlopsError(
          `The Docker credential helper ${program}, which ${configFile} names, is not on the PATH.`,
          `Install ${program}, or remove it from "credsStore" or "credHelpers" in ${configFile}.`,
        );
      }
      throw new MlopsError(`The Docker credential helper ${program} failed: ${error.message}`);
    },
  );
  if (code !== 0) {
    // Helpers say "credentials not found in native keychain" (docker-credential-helpers' ErrCredentialsNotFound).
    if (/credentials not found/i.test(stdout)) return undefined;
    throw new MlopsError(
      `The Docker credential helper ${program} exited with ${code} for ${serverAddress}.`,
      `Check it with: echo ${serverAddress} | ${program} get`,
    );
  }
  const parsed = parseHelperOutput(stdout);
  if (!parsed)
    throw new MlopsError(
      `The Docker credential helper ${program} printed something other than {"Username", "Secret"} for ${serverAddress}.`,
    );
  return parsed;
}

const HelperOutput = v.object({ Username: v.string(), Secret: v.string() });

function parseHelperOutput(stdout: string): HelperCredentials | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const parsed = v.safeParse(HelperOutput, value);
  return parsed.success ? { username: parsed.output.Username, secret: parsed.output.Secret } : undefined;
}

function runWithInput(
  program: string,
  args: readonly string[],
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`it did not answer within ${TIMEOUT_MS / 1000} s`));
    }, TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    // A helper may exit without reading its input; its exit status tells what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout });
    });
  });
}
