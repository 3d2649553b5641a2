// A GET over node:http(s) with a timeout, a size cap and an abort signal, for the endpoints
// monitoring reads (model servers, routers, the Kubernetes API server's pod proxy). Node's own
// fetch cannot take the TLS options a kubeconfig gives, hence the plain request.
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface HttpGetOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Bodies larger than this are refused (default 64 MiB). */
  maxBytes?: number;
  /** TLS and auth settings (a kubeconfig's), merged into the request. */
  requestOptions?: RequestOptions & Record<string, unknown>;
  /** Request headers, added to those of `requestOptions`. */
  headers?: Record<string, string>;
}

/** Resolves with any HTTP status; rejects when no answer arrives (network, timeout, abort, size). */
export function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpAnswer> {
  const { signal, timeoutMs = 10_000, maxBytes = 64 * 1024 * 1024 } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = { ...(options.requestOptions?.headers as Record<string, string> | undefined), ...options.headers };
    const request = send(
      target,
      { ...options.requestOptions, headers, method: 'GET', timeout: timeoutMs, signal },
      (response) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes)
            request.destroy(new Error(`the answer is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(response.headers))
            if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', reject);
    request.end();
  });
}
