import { request } from 'node:http';
import * as v from 'valibot';
import { checked } from '../shared/checked';
import { secondsText } from '../shared/remoteTimeout';

export interface DockerEngineInfo {
  version: string;
  apiVersion: string;
  swarm: 'active' | 'inactive' | 'pending' | 'error' | 'locked' | string;
}

/** Where to reach the engine: `mlops.dockerHost`, then DOCKER_HOST, then the local socket. */
export function resolveDockerHost(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return setting || env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/**
 * Asks a Docker Engine for its version and swarm state over its HTTP API. Covers unix sockets
 * and plain tcp; TLS and ssh hosts are reached through dockerode by the deploy commands.
 */
export async function pingDockerEngine(host: string, timeoutMs = 2000): Promise<DockerEngineInfo> {
  const version = checked(
    VersionAnswer,
    await getJson(host, '/version', timeoutMs),
    `${host} /version`,
    "Docker's answer",
  );
  const info = checked(InfoAnswer, await getJson(host, '/info', timeoutMs), `${host} /info`, "Docker's answer");
  return { version: version.Version, apiVersion: version.ApiVersion, swarm: info.Swarm?.LocalNodeState ?? 'inactive' };
}

const VersionAnswer = v.looseObject({ Version: v.string(), ApiVersion: v.string() });
const InfoAnswer = v.looseObject({ Swarm: v.optional(v.looseObject({ LocalNodeState: v.optional(v.string()) })) });

function getJson(host: string, path: string, timeoutMs: number): Promise<unknown> {
  const url = new URL(host);
  const target =
    url.protocol === 'unix:'
      ? { socketPath: url.pathname, path }
      : url.protocol === 'tcp:' || url.protocol === 'http:'
        ? { host: url.hostname, port: Number(url.port || 2375), path }
        : undefined;
  if (!target) return Promise.reject(new Error(`${host}: only unix:// and tcp:// hosts can be pinged directly`));
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${host}${path} answered HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`${host}${path} did not answer JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${secondsText(timeoutMs)}`)));
    req.on('error', reject);
    req.end();
  });
}
