// JSON over node:http for the replay: kept-alive connections (one per request in flight), a
// timeout, and an AbortSignal that destroys the request in flight.
import { Agent, request } from 'node:http';

export interface JsonAnswer {
  status: number;
  body: unknown;
}

export function jsonRequest(
  method: 'GET' | 'POST',
  url: string,
  options: {
    body?: string;
    headers?: Record<string, string>;
    agent?: Agent;
    timeoutMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    options.signal?.throwIfAborted();
    const headers = {
      ...options.headers,
      ...(options.body === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(options.body)) }),
    };
    const timeoutMs = options.timeoutMs ?? 60_000;
    const req = request(
      url,
      { method, headers, timeout: timeoutMs, ...(options.agent ? { agent: options.agent } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          options.signal?.removeEventListener('abort', abort);
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : null });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: { message: text.slice(0, 500) } });
          }
        });
      },
    );
    const abort = () => req.destroy(options.signal?.reason as Error);
    options.signal?.addEventListener('abort', abort, { once: true });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within ${timeoutMs} ms`)));
    req.on('error', (error) => {
      options.signal?.removeEventListener('abort', abort);
      reject(error);
    });
    req.end(options.body);
  });
}

export const getJson = (url: string, signal?: AbortSignal) =>
  jsonRequest('GET', url, { timeoutMs: 5000, ...(signal ? { signal } : {}) });
