// After a build: run the image, wait until it is healthy, send the sample input saved at build
// time, and compare the answer with the predictions the notebook's model gave at build time.
// The container is removed whatever happens.
import { request } from 'node:http';
import type Docker from 'dockerode';
import { extract } from 'tar-stream';
import * as v from 'valibot';
import { checkedJson, describeIssues } from '../../shared/checked';
import { MlopsError } from '../../shared/errors';
import { frameText } from '../docker/logFrames';
import { MODEL_PORT } from './dockerfile';

export interface SmokeResult {
  ok: boolean;
  /** Milliseconds from container start to a healthy /ping. */
  healthyAfterMs: number;
  sample: unknown[] | null;
  predictions: unknown[] | null;
  expected: unknown[] | null;
  message: string;
}

export async function smokeTest(
  docker: Docker,
  image: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<SmokeResult> {
  const container = await docker.createContainer({
    Image: image,
    Labels: { 'mlops.smoke-test': 'true' },
    ExposedPorts: { [`${MODEL_PORT}/tcp`]: {} },
    HostConfig: { PortBindings: { [`${MODEL_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  try {
    const files = await readModelFiles(container, ['sample.json', 'sample_predictions.json']);
    const started = Date.now();
    await container.start();
    const port = (await container.inspect()).NetworkSettings.Ports[`${MODEL_PORT}/tcp`]?.[0]?.HostPort;
    if (!port) throw new MlopsError(`The smoke test container of ${image} published no port.`);
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(container, base, options.timeoutMs ?? 90_000, options.signal);
    const healthyAfterMs = Date.now() - started;
    const sample = savedList(files, 'sample.json', image);
    const expected = savedList(files, 'sample_predictions.json', image);
    if (!sample)
      return {
        ok: true,
        healthyAfterMs,
        sample: null,
        predictions: null,
        expected: null,
        message: `healthy after ${healthyAfterMs} ms; no sample input to send`,
      };
    const body =
      sample.length && typeof sample[0] === 'object' && !Array.isArray(sample[0])
        ? { dataframe_records: sample }
        : { instances: sample };
    const response = await httpJson('POST', `${base}/invocations`, body, 30_000);
    const answer = v.safeParse(InvocationsAnswer, response.body);
    if (response.status !== 200 || !answer.success || !answer.output.predictions) {
      const said = answer.success
        ? (answer.output.message ?? JSON.stringify(response.body))
        : `${JSON.stringify(response.body)?.slice(0, 500)}, which is not an answer of the model server (${describeIssues(answer.issues)})`;
      return {
        ok: false,
        healthyAfterMs,
        sample,
        predictions: null,
        expected,
        message: `/invocations answered HTTP ${response.status}: ${said}`,
      };
    }
    const same = expected === null || samePredictions(answer.output.predictions, expected);
    return {
      ok: same,
      healthyAfterMs,
      sample,
      predictions: answer.output.predictions,
      expected,
      message: same
        ? `healthy after ${healthyAfterMs} ms; ${sample.length} sample rows predicted ${JSON.stringify(answer.output.predictions)}`
        : `the container predicted ${JSON.stringify(answer.output.predictions)} but the notebook's model gave ${JSON.stringify(expected)}`,
    };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Waits for /ping to answer 200; fails early with the log tail when the server exits. */
export async function waitHealthy(
  container: Docker.Container,
  base: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const ping = await httpJson('GET', `${base}/ping`, undefined, 2000).catch(() => undefined);
    if (ping?.status === 200) return;
    const state = (await container.inspect()).State;
    if (!state.Running) {
      const logs = await container.logs({ stdout: true, stderr: true, tail: 20 });
      throw new MlopsError(
        `The model server exited with code ${state.ExitCode} before it was healthy.`,
        `Its log ends:\n${frameText(logs)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new MlopsError(`The model server did not answer /ping within ${Math.round(timeoutMs / 1000)} s.`);
}

/** Reads files of /opt/mlops/model out of a created container (a tar stream from the engine). */
async function readModelFiles(container: Docker.Container, names: string[]): Promise<Record<string, string>> {
  const archive = await container.getArchive({ path: '/opt/mlops/model' });
  const files: Record<string, string> = {};
  const untar = extract();
  await new Promise<void>((resolve, reject) => {
    untar.on('entry', (header, stream, next) => {
      const name = header.name.split('/').pop() ?? '';
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => {
        if (names.includes(name)) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        if (chunks.length) files[name] = Buffer.concat(chunks).toString('utf8');
        next();
      });
      stream.resume();
    });
    untar.on('finish', resolve);
    untar.on('error', reject);
    archive.pipe(untar);
  });
  return files;
}

/** The model server's answer to /invocations: predictions, or an error with a message. */
const InvocationsAnswer = v.looseObject({
  predictions: v.optional(v.array(v.unknown())),
  message: v.optional(v.string()),
});

/** A list saved in the image at build time, or null when the image has none. */
function savedList(files: Record<string, string>, name: string, image: string): unknown[] | null {
  const text = files[name];
  if (text === undefined) return null;
  return checkedJson(v.array(v.unknown()), text, `${name} in the image ${image}`, 'a list', 'Build the image again.');
}

/** Equal predictions, with floats compared to nine significant digits. */
export function samePredictions(actual: unknown[], expected: unknown[]): boolean {
  const close = (a: unknown, b: unknown): boolean => {
    if (typeof a === 'number' && typeof b === 'number')
      return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => close(x, b[i]));
    return JSON.stringify(a) === JSON.stringify(b);
  };
  return close(actual, expected);
}

/**
 * A JSON request with node:http. (fetch is not used: its timeouts do not keep the event loop
 * alive, so a CLI waiting for a starting container could exit early.)
 */
function httpJson(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        timeout: timeoutMs,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : null });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: { message: text.slice(0, 500) } });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
