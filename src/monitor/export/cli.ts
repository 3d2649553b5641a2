// `mlops export grafana | prometheus --name NAME`: the Grafana dashboard (JSON) or the Prometheus
// scrape configuration (YAML) of a deployment on stdout, ready to import or apply; with
// `--push`, the dashboard goes straight to Grafana, authenticated by GRAFANA_TOKEN (never a flag,
// which would land in shell history and process lists).
import type { CliCommand, CliContext } from '../../shared/cliFramework';
import { UsageError } from '../../shared/cliFramework';
import { openTarget, TARGET_OPTIONS } from '../../deploy/cli';
import type { Endpoint } from '../../deploy/targets/deployTarget';
import { MlopsError } from '../../shared/errors';
import { grafanaDashboard } from './grafanaDashboard';
import { pushDashboard } from './grafanaPush';
import {
  endpointAddress,
  prometheusYaml,
  SCRAPE_MODES,
  scrapeConfigYaml,
  type ScrapeConfigOptions,
  type ScrapeMode,
  type ScrapeTargetKind,
} from './prometheusConfig';

export interface ExportDeps {
  env: NodeJS.ProcessEnv;
  /** The published endpoints of a Swarm deployment (the router's), for --mode static without --address. */
  endpoints(context: CliContext, name: string): Promise<Endpoint[]>;
  /** The namespace of the kubeconfig's context, when --namespace is not given. */
  namespace(context: CliContext): Promise<string>;
}

const defaultDeps: ExportDeps = {
  env: process.env,
  endpoints: async (context, name) =>
    (await openTarget({ ...context, values: { ...context.values, target: 'swarm' } })).endpoints(name),
  namespace: async (context) => {
    const target = (await openTarget({ ...context, values: { ...context.values, target: 'kubernetes' } })) as {
      namespace?: string;
    };
    return target.namespace ?? 'default';
  },
};

const USAGE = [
  'export grafana --name NAME [--push --grafana-url URL [--folder UID]] [--json]',
  '       mlops export prometheus --name NAME [--target swarm|kubernetes] [--mode static|dns|annotations|servicemonitor] [--address HOST:PORT] [--direct] [--namespace N] [--scrape-interval 15s] [--full]',
  '',
  'grafana: the dashboard JSON on stdout; --push saves it in Grafana with the token in GRAFANA_TOKEN (URL: --grafana-url or GRAFANA_URL).',
  'prometheus: a scrape_configs entry (YAML) on stdout, or with --full a whole prometheus.yml; --mode servicemonitor prints a ServiceMonitor.',
  '  swarm static (default): the router at --address, else the published address of the deployment; --direct scrapes a model server itself.',
  '  swarm dns: tasks.NAME from inside the overlay network. kubernetes annotations (default): annotated pods. kubernetes servicemonitor: Prometheus Operator.',
].join('\n');

function text(context: CliContext, key: string): string | undefined {
  const value = context.values[key];
  return typeof value === 'string' && value ? value : undefined;
}

function requiredName(context: CliContext): string {
  const name = text(context, 'name');
  if (!name) throw new UsageError('--name NAME is required');
  return name;
}

async function exportGrafana(context: CliContext, deps: ExportDeps): Promise<number> {
  const name = requiredName(context);
  const dashboard = grafanaDashboard({ name });
  if (context.values.push !== true) {
    if (text(context, 'grafana-url') || text(context, 'folder'))
      throw new UsageError('--grafana-url and --folder go with --push');
    context.io.stdout(`${JSON.stringify(dashboard, null, 2)}\n`);
    return 0;
  }
  const grafanaUrl = text(context, 'grafana-url') ?? deps.env.GRAFANA_URL;
  if (!grafanaUrl) throw new UsageError('--push needs --grafana-url URL (or GRAFANA_URL)');
  const token = deps.env.GRAFANA_TOKEN;
  if (!token)
    throw new MlopsError(
      'GRAFANA_TOKEN is not set.',
      'Create a service account token with the Editor role in Grafana and export it as GRAFANA_TOKEN (it is never a flag).',
    );
  const folderUid = text(context, 'folder');
  const result = await pushDashboard({
    grafanaUrl,
    token,
    dashboard: { ...dashboard },
    ...(folderUid ? { folderUid } : {}),
    message: `mlops export grafana --name ${name}`,
  });
  context.io.stdout(
    context.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : `Saved ${dashboard.title} in Grafana: ${result.url} (version ${result.version})\n`,
  );
  return 0;
}

async function exportPrometheus(context: CliContext, deps: ExportDeps): Promise<number> {
  const name = requiredName(context);
  const target = (text(context, 'target') ?? 'swarm') as ScrapeTargetKind;
  if (!(target in SCRAPE_MODES)) throw new UsageError(`--target takes swarm or kubernetes, not '${target}'`);
  const mode = (text(context, 'mode') ?? SCRAPE_MODES[target][0]) as ScrapeMode;
  if (!SCRAPE_MODES[target].includes(mode))
    throw new UsageError(`--mode takes ${SCRAPE_MODES[target].join(' or ')} with --target ${target}, not '${mode}'`);
  if (context.values.direct === true && mode !== 'static') throw new UsageError('--direct goes with --mode static');
  if (text(context, 'address') && mode !== 'static') throw new UsageError('--address goes with --mode static');
  const options: ScrapeConfigOptions = {
    name,
    target,
    mode,
    ...(context.values.direct === true ? { direct: true } : {}),
  };
  const interval = text(context, 'scrape-interval');
  if (interval) options.scrapeInterval = interval;
  if (mode === 'static') {
    let address = text(context, 'address');
    if (!address) {
      const endpoints = await deps.endpoints(context, name).catch((error: unknown) => {
        // The lookup needs the swarm; the address alone does not.
        const remedy = error instanceof MlopsError && error.remedy ? `${error.remedy} ` : '';
        throw new MlopsError(
          error instanceof Error ? error.message : String(error),
          `${remedy}Or give the router's published address with --address HOST:PORT.`,
          { cause: error },
        );
      });
      if (!endpoints.length) {
        throw new MlopsError(
          `${name} publishes no port, so a Prometheus outside the swarm cannot reach it.`,
          'Deploy it with --port, give the address with --address HOST:PORT, or use --mode dns from inside the overlay network.',
        );
      }
      address = endpointAddress(endpoints[0]!.url);
    }
    options.address = address;
  }
  if (target === 'kubernetes') options.namespace = text(context, 'namespace') ?? (await deps.namespace(context));
  const yaml = context.values.full === true ? prometheusYaml(options) : scrapeConfigYaml(options);
  context.io.stdout(
    context.json
      ? `${JSON.stringify({ name, target, mode, ...(options.address ? { address: options.address } : {}), ...(options.namespace ? { namespace: options.namespace } : {}), yaml }, null, 2)}\n`
      : yaml,
  );
  return 0;
}

export function createExportCommand(deps: ExportDeps = defaultDeps): CliCommand {
  return {
    name: 'export',
    summary:
      'Export monitoring for a deployment: a Grafana dashboard (optionally pushed) or a Prometheus scrape config',
    usage: USAGE,
    options: {
      ...TARGET_OPTIONS,
      push: { type: 'boolean' },
      'grafana-url': { type: 'string' },
      folder: { type: 'string' },
      // Declared only to refuse it with a reason: a token on the command line leaks.
      token: { type: 'string' },
      mode: { type: 'string' },
      address: { type: 'string' },
      direct: { type: 'boolean' },
      'scrape-interval': { type: 'string' },
      full: { type: 'boolean' },
    },
    async run(context) {
      if (context.values.token !== undefined)
        throw new UsageError('the Grafana token is never a flag (shell history, process lists): set GRAFANA_TOKEN');
      const [what, ...extra] = context.positionals;
      if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
      if (what === 'grafana') return exportGrafana(context, deps);
      if (what === 'prometheus') return exportPrometheus(context, deps);
      throw new UsageError(
        what
          ? `export takes grafana or prometheus, not '${what}'`
          : 'export needs what to export: grafana or prometheus',
      );
    },
  };
}

export const exportCommand = createExportCommand();
