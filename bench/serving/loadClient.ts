// Closed-loop load on a model server: a number of keep-alive clients, each sending one row per
// request and the next as soon as the answer is in, for a warm-up and then a fixed window. Every
// answer is checked against the model's own prediction for the row it carried.
import { Agent, request } from 'node:http';
import { treeCpuSeconds } from './processCpu';

/** How to ask a server for one row's prediction and read its answer. */
export interface Target {
  port: number;
  path: string;
  /** The request body for each row, by row index. */
  bodies: string[];
  /** The predictions in an answer's body; throws when the body is not one of the protocol's answers. */
  predictions(text: string): unknown[];
}

export interface LoadOptions {
  clients: number;
  warmUpSeconds: number;
  seconds: number;
  /** The server's process, whose CPU time (with its descendants') is read at both ends of the window. */
  serverPid: number;
}

export interface LoadResult {
  /** Answers completed inside the window. */
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  serverCpuPer1000: number;
  clientCpuPer1000: number;
  /** Over the whole run, warm-up included: answers that were not 200, and 200s with another prediction. */
  errors: number;
  wrong: number;
  firstProblem?: string;
}

function post(agent: Agent, target: Target, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.path,
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    call.setTimeout(120_000, () => call.destroy(new Error('no answer within 120 s')));
    call.on('error', reject);
    call.end(body);
  });
}

/** An error (no answer, not 200, not the protocol's answer), a wrong prediction, or undefined when right. */
export type Problem = { kind: 'error' | 'wrong'; message: string } | undefined;

export async function askOnce(agent: Agent, target: Target, row: number, expected: unknown): Promise<Problem> {
  let answer: { status: number; text: string };
  try {
    answer = await post(agent, target, target.bodies[row]);
  } catch (error) {
    return { kind: 'error', message: `row ${row}: ${(error as Error).message}` };
  }
  const { status, text } = answer;
  if (status !== 200) return { kind: 'error', message: `row ${row}: HTTP ${status} ${text.slice(0, 200)}` };
  let predictions: unknown[];
  try {
    predictions = target.predictions(text);
  } catch (error) {
    return { kind: 'error', message: `row ${row}: ${(error as Error).message} in ${text.slice(0, 200)}` };
  }
  const [got, want] = [JSON.stringify(predictions), JSON.stringify([expected])];
  return got === want
    ? undefined
    : { kind: 'wrong', message: `row ${row}: answered ${got}, the model predicts ${want}` };
}

/** NaN when there are no values. */
export function percentile(values: number[], share: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)];
}

export async function drive(target: Target, expected: unknown[], options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const latencies: number[] = [];
  let [next, errors, wrong] = [0, 0, 0];
  let firstProblem: string | undefined;
  // The window opens and closes on timers; the instants they actually ran are the ones used.
  const window = { open: Infinity, close: Infinity, serverCpu: 0, client: process.cpuUsage() };
  let closing = false;
  const opened = new Promise<void>((resolve) =>
    setTimeout(() => {
      window.open = performance.now();
      window.serverCpu = treeCpuSeconds(options.serverPid);
      window.client = process.cpuUsage();
      resolve();
    }, options.warmUpSeconds * 1000),
  );
  const closed = opened.then(
    () =>
      new Promise<{ serverCpu: number; clientCpu: number }>((resolve) =>
        setTimeout(() => {
          window.close = performance.now();
          closing = true;
          const client = process.cpuUsage(window.client);
          resolve({
            serverCpu: treeCpuSeconds(options.serverPid) - window.serverCpu,
            clientCpu: (client.user + client.system) / 1e6,
          });
        }, options.seconds * 1000),
      ),
  );
  const client = async () => {
    while (!closing) {
      const row = next++ % target.bodies.length;
      const started = performance.now();
      const problem = await askOnce(agent, target, row, expected[row]);
      const ended = performance.now();
      if (problem?.kind === 'error') errors++;
      if (problem?.kind === 'wrong') wrong++;
      firstProblem ??= problem?.message;
      if (!problem && ended >= window.open && ended <= window.close) latencies.push(ended - started);
    }
  };
  try {
    const [cpu] = await Promise.all([closed, ...Array.from({ length: options.clients }, client)]);
    const seconds = (window.close - window.open) / 1000;
    return {
      requests: latencies.length,
      perSecond: latencies.length / seconds,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      serverCpuPer1000: (cpu.serverCpu / latencies.length) * 1000,
      clientCpuPer1000: (cpu.clientCpu / latencies.length) * 1000,
      errors,
      wrong,
      firstProblem,
    };
  } finally {
    agent.destroy();
  }
}
