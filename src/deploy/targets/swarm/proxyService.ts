// The proxy of a Swarm deployment: HAProxy holds the published port (service NAME-router) and
// routes predictions to the tasks of each group by DNS; its haproxy.cfg and mirror.lua are Swarm
// configs named by their content, as configs cannot change. The Python router runs beside it
// (NAME-router-api, no published port) for everything that is not a prediction.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { PRODUCTION_VARIANT } from '../deployTarget';
import { haproxyConfig, PROXY_COMMAND, PROXY_CONFIG_DIR, type ProxyGroup } from '../../../serving/haproxyConfig';
import { variantWorkload, type SplitRecord } from '../splitPlan';
import { DATA_TOKEN_PATH, withDataToken, type SecretRef } from './dataTokenSecret';
import { LABEL, proxyConfigName, routerApiName, routerName } from './labels';

const SECOND = 1_000_000_000;
/** The port HAProxy and the router-api listen on inside their containers. */
export const PROXY_PORT = 8080;
const API_PORT = 8080;
/** Swarm's DNS server, inside every container on an overlay network. */
const SWARM_DNS = '127.0.0.11:53';
const FILES = { config: 'haproxy.cfg', lua: 'mirror.lua' } as const;

/** The groups HAProxy routes to: production alone, or each variant of a split. */
export function proxyGroups(name: string, split: SplitRecord | null, port: number): ProxyGroup[] {
  const variants = split?.variants ?? [{ name: PRODUCTION_VARIANT, weight: 100, shadow: false }];
  return variants.map((variant) => ({
    name: variant.name,
    weight: variant.weight,
    shadow: variant.shadow,
    server: { dns: `tasks.${variantWorkload(name, variant.name)}`, port },
  }));
}

/** haproxy.cfg and mirror.lua as Swarm configs, made when no config holds this content yet. */
export async function ensureProxyConfigs(
  docker: Docker,
  name: string,
  split: SplitRecord | null,
  port: number,
): Promise<Docker.ConfigReference[]> {
  const files = haproxyConfig({
    groups: proxyGroups(name, split, port),
    stickyKey: split?.stickyKey ?? null,
    api: { dns: `tasks.${routerApiName(name)}`, port: API_PORT },
    port: PROXY_PORT,
    dnsResolver: SWARM_DNS,
    // The deployment's secret, mounted in the proxy too: it signs the request ids it makes.
    dataToken: { file: DATA_TOKEN_PATH },
  });
  const references: Docker.ConfigReference[] = [];
  for (const [key, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    const text = files[key];
    const configName = proxyConfigName(name, file, createHash('sha256').update(text).digest('hex').slice(0, 12));
    const id = (await findConfig(docker, configName)) ?? (await createConfig(docker, name, configName, text));
    references.push({
      ConfigID: id,
      ConfigName: configName,
      File: { Name: `${PROXY_CONFIG_DIR}/${file}`, UID: '0', GID: '0', Mode: 0o444 },
    });
  }
  return references;
}

async function findConfig(docker: Docker, configName: string): Promise<string | undefined> {
  const found = await docker.listConfigs({ filters: JSON.stringify({ name: [configName] }) });
  return found.find((config) => config.Spec?.Name === configName)?.ID;
}

async function createConfig(docker: Docker, name: string, configName: string, text: string): Promise<string> {
  try {
    const created = (await docker.createConfig({
      Name: configName,
      Labels: { [LABEL.deployment]: name, [LABEL.role]: 'proxy-config' },
      Data: Buffer.from(text).toString('base64'),
    })) as { id?: string; ID?: string };
    return created.id ?? created.ID ?? (await findConfig(docker, configName))!;
  } catch (error) {
    // Made meanwhile by another client: the same content under the same name.
    const made =
      (error as { statusCode?: number }).statusCode === 409 ? await findConfig(docker, configName) : undefined;
    if (made) return made;
    throw error;
  }
}

/** Removes the proxy configs of a deployment that its proxy no longer mounts; one still in use by a stopping task stays for the next time. */
export async function removeUnusedProxyConfigs(docker: Docker, name: string, proxy: Docker.ServiceSpec): Promise<void> {
  const used = new Set(container(proxy)?.Configs?.map((config) => config.ConfigName) ?? []);
  const configs = await docker.listConfigs({
    filters: JSON.stringify({ label: [`${LABEL.deployment}=${name}`, `${LABEL.role}=proxy-config`] }),
  });
  for (const config of configs)
    if (!used.has(config.Spec?.Name ?? ''))
      await docker
        .getConfig(config.ID)
        .remove()
        .catch(() => undefined);
}

/** The proxy's service: the official HAProxy image (or mlops.proxyImage) on the host-mode published port. */
export function proxyServiceSpec(input: {
  name: string;
  image: string;
  publishedPort: number;
  networkId: string;
  configs: Docker.ConfigReference[];
  /** The split it runs, as the SplitRecord label; null outside a split. */
  split: string | null;
  dataToken: SecretRef;
}): Docker.ServiceSpec {
  return withDataToken(
    {
      Name: routerName(input.name),
      Labels: {
        [LABEL.deployment]: input.name,
        [LABEL.role]: 'router',
        ...(input.split ? { [LABEL.split]: input.split } : {}),
      },
      TaskTemplate: {
        ContainerSpec: {
          Image: input.image,
          Command: PROXY_COMMAND,
          Configs: input.configs,
          // HAProxy's graceful stop: it finishes the requests in flight, then exits.
          StopSignal: 'SIGUSR1',
          StopGracePeriod: 10 * SECOND,
        },
        RestartPolicy: { Condition: 'any', Delay: 1 * SECOND },
        Networks: [{ Target: input.networkId }],
      },
      Mode: { Replicated: { Replicas: 1 } },
      // One task holds the host port, so a new config replaces it stop-first; one that does not
      // start is rolled back to the previous config by Swarm.
      UpdateConfig: { Parallelism: 1, Order: 'stop-first', FailureAction: 'rollback', Monitor: 5 * SECOND },
      RollbackConfig: { Parallelism: 1, Order: 'stop-first', FailureAction: 'pause', Monitor: 5 * SECOND },
      EndpointSpec: {
        Mode: 'vip',
        Ports: [{ Protocol: 'tcp', TargetPort: PROXY_PORT, PublishedPort: input.publishedPort, PublishMode: 'host' }],
      },
    },
    input.dataToken,
  );
}

/** Whether a deployment's router service still runs the Python router (made before the proxy), which the next deploy or split replaces. */
export function isPythonRouter(spec: Docker.ServiceSpec | undefined): boolean {
  return Boolean(container(spec)?.Command?.includes('mlops_runtime.router'));
}

/** Whether applying `wanted` restarts the service's tasks: a new image, command, environment, config or published port does; labels alone do not. */
export function restartsTasks(current: Docker.ServiceSpec | undefined, wanted: Docker.ServiceSpec): boolean {
  const facts = (spec: Docker.ServiceSpec | undefined) => {
    const c = container(spec);
    return JSON.stringify([
      c?.Image,
      c?.Command ?? [],
      [...(c?.Env ?? [])].sort(),
      (c?.Configs ?? []).map((config) => config.ConfigName).sort(),
      spec?.EndpointSpec?.Ports?.map((port) => port.PublishedPort) ?? [],
    ]);
  };
  return facts(current) !== facts(wanted);
}

function container(spec: Docker.ServiceSpec | undefined): Docker.ContainerSpec | undefined {
  return (spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ContainerSpec;
}
