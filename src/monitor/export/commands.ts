// The monitoring export commands, from a deployment in the Deployments view or the palette:
// a Grafana dashboard and a Prometheus scrape config opened as untitled documents, the dashboard
// pushed to the Grafana of mlops.grafanaUrl, and the Grafana token kept in SecretStorage for that
// Grafana's origin only (never in settings or the log). The generators, the deploy targets and the
// HTTP client load on first use.
import * as vscode from 'vscode';
import type { DeploymentsService, ResolvedDeployment } from '../../deploy/deployments/deploymentsService';
import type { DeployTarget, Endpoint } from '../../deploy/targets/deployTarget';
import { setting, userSetting } from '../../host/settings';
import { MlopsError } from '../../shared/errors';
import { hostSecret, migrateUnkeyedSecret, secretOrigin, setHostSecret } from '../../shared/hostSecrets';
import { redactUserInfo } from '../../shared/redact';
import type { Logger } from '../../shared/logger';
import type { ScrapeConfigOptions, ScrapeMode } from './prometheusConfig';
import { guardedCommand } from '../../host/guardedCommand';

type Log = Logger & { show(): void };

async function openUntitled(language: 'json' | 'yaml', content: string): Promise<void> {
  const document = await vscode.workspace.openTextDocument({ language, content });
  await vscode.window.showTextDocument(document, { preview: false });
}

export function registerExportCommands(
  context: vscode.ExtensionContext,
  log: Log,
  deployments: DeploymentsService,
): void {
  let migrated: Promise<void> | undefined;
  /** A token kept before tokens were per host goes to the Grafana of the user's own settings, once. */
  const migrateToken = () =>
    (migrated ??= migrateUnkeyedSecret(context.secrets, 'grafanaToken', userSetting<string>('grafanaUrl'), log));

  async function grafanaUrl(): Promise<string | undefined> {
    const configured = setting('grafanaUrl', '').trim();
    if (configured) return configured;
    const entered = await vscode.window.showInputBox({
      title: 'Push to Grafana: where is it?',
      prompt: 'The Grafana root URL; it is saved in the mlops.grafanaUrl setting',
      placeHolder: 'http://localhost:3000',
      ignoreFocusOut: true,
      validateInput: (value) =>
        /^https?:\/\/[^/\s]+/.test(value.trim()) ? undefined : 'An http:// or https:// URL, please.',
    });
    if (!entered) return undefined;
    await vscode.workspace
      .getConfiguration('mlops')
      .update('grafanaUrl', entered.trim(), vscode.ConfigurationTarget.Global);
    return entered.trim();
  }

  async function askToken(url: string): Promise<string | undefined> {
    const origin = secretOrigin(url);
    const token = await vscode.window.showInputBox({
      title: `Grafana service account token for ${origin}`,
      prompt: `A token of a service account with the Editor role (Administration › Service accounts). It is kept in VS Code’s secret storage and sent to ${origin} only. Leave empty to forget the stored one.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (token === undefined) return undefined;
    await setHostSecret(context.secrets, 'grafanaToken', origin, token.trim());
    if (!token.trim()) {
      void vscode.window.showInformationMessage(`The Grafana token for ${origin} was removed from secret storage.`);
      return undefined;
    }
    log.info(`monitoring export: a Grafana token for ${origin} was stored in secret storage`);
    return token.trim();
  }

  async function scrapeOptions(
    resolved: ResolvedDeployment,
  ): Promise<{ options: ScrapeConfigOptions; full: boolean } | undefined> {
    const kubernetes = resolved.config.kind === 'kubernetes';
    type ModeItem = vscode.QuickPickItem & { mode: ScrapeMode; full: boolean };
    const items: ModeItem[] = kubernetes
      ? [
          {
            label: '$(symbol-property) Pod annotations: scrape job',
            description: 'kubernetes_sd_configs, role pod',
            detail: 'A scrape_configs entry for a Prometheus with RBAC to list pods in the namespace',
            mode: 'annotations',
            full: false,
          },
          {
            label: '$(file) Pod annotations: whole prometheus.yml',
            description: 'kubernetes_sd_configs, role pod',
            mode: 'annotations',
            full: true,
          },
          {
            label: '$(eye) ServiceMonitor',
            description: 'monitoring.coreos.com/v1',
            detail: 'For the Prometheus Operator (kube-prometheus-stack)',
            mode: 'servicemonitor',
            full: false,
          },
        ]
      : [
          {
            label: "$(plug) Router's published port: scrape job",
            description: 'static_configs, /router/backends/metrics',
            detail: 'A scrape_configs entry for a Prometheus outside the swarm',
            mode: 'static',
            full: false,
          },
          {
            label: "$(file) Router's published port: whole prometheus.yml",
            description: 'static_configs',
            mode: 'static',
            full: true,
          },
          {
            label: '$(globe) DNS discovery of the tasks: scrape job',
            description: 'dns_sd_configs, tasks.NAME',
            detail: "For a Prometheus attached to the deployment's overlay network",
            mode: 'dns',
            full: false,
          },
          {
            label: '$(file) DNS discovery of the tasks: whole prometheus.yml',
            description: 'dns_sd_configs',
            mode: 'dns',
            full: true,
          },
        ];
    const picked = await vscode.window.showQuickPick(items, {
      title: `Prometheus config for ${resolved.name}`,
      placeHolder: 'How will Prometheus find it?',
      ignoreFocusOut: true,
      matchOnDescription: true,
    });
    if (!picked) return undefined;
    const options: ScrapeConfigOptions = {
      name: resolved.name,
      target: kubernetes ? 'kubernetes' : 'swarm',
      mode: picked.mode,
    };
    if (picked.mode === 'static') {
      let endpoints: Endpoint[] = resolved.status?.endpoints ?? [];
      if (!endpoints.length) endpoints = await resolved.target.endpoints(resolved.name);
      if (!endpoints.length)
        throw new MlopsError(
          `${resolved.name} publishes no port, so a Prometheus outside the swarm cannot reach it.`,
          'Deploy it with a published port, or pick DNS discovery for a Prometheus inside the overlay network.',
        );
      const { endpointAddress } = await import('./prometheusConfig');
      options.address = endpointAddress(endpoints[0]!.url);
    }
    if (kubernetes)
      options.namespace =
        resolved.config.kubernetes?.namespace ||
        (resolved.target as DeployTarget & { namespace?: string }).namespace ||
        'default';
    return { options, full: picked.full };
  }

  context.subscriptions.push(
    guardedCommand('mlops.exportGrafanaDashboard', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Export a Grafana dashboard for which deployment?');
      if (!resolved) return;
      const { grafanaDashboard } = await import('./grafanaDashboard');
      await openUntitled('json', `${JSON.stringify(grafanaDashboard({ name: resolved.name }), null, 2)}\n`);
    }),

    guardedCommand('mlops.exportPrometheusConfig', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Export a Prometheus config for which deployment?');
      if (!resolved) return;
      const chosen = await scrapeOptions(resolved);
      if (!chosen) return;
      const { prometheusYaml, scrapeConfigYaml } = await import('./prometheusConfig');
      await openUntitled('yaml', chosen.full ? prometheusYaml(chosen.options) : scrapeConfigYaml(chosen.options));
    }),

    guardedCommand('mlops.pushGrafanaDashboard', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Push a Grafana dashboard for which deployment?');
      if (!resolved) return;
      const url = await grafanaUrl();
      if (!url) return;
      await migrateToken();
      const token = (await hostSecret(context.secrets, 'grafanaToken', url)) ?? (await askToken(url));
      if (!token) return;
      const [{ grafanaDashboard }, { pushDashboard }] = await Promise.all([
        import('./grafanaDashboard'),
        import('./grafanaPush'),
      ]);
      const dashboard = grafanaDashboard({ name: resolved.name });
      log.info(`monitoring export: pushing the dashboard ${dashboard.uid} of ${resolved.name} to ${url}`);
      const result = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Pushing ${dashboard.title} to ${redactUserInfo(url)}`,
          cancellable: true,
        },
        (_progress, cancel) => {
          const abort = new AbortController();
          cancel.onCancellationRequested(() => abort.abort());
          return pushDashboard({
            grafanaUrl: url,
            token,
            dashboard: { ...dashboard },
            signal: abort.signal,
            message: `Pushed from VS Code (MLOps) for ${resolved.name}`,
          });
        },
      );
      log.info(`monitoring export: ${dashboard.uid} is version ${result.version} at ${result.url}`);
      const choice = await vscode.window.showInformationMessage(
        `${dashboard.title} is in Grafana (version ${result.version}).`,
        'Open in Browser',
      );
      if (choice) await vscode.env.openExternal(vscode.Uri.parse(result.url));
    }),

    guardedCommand('mlops.setGrafanaToken', log, async () => {
      await migrateToken();
      const url = await grafanaUrl();
      if (!url) return;
      if (await askToken(url))
        void vscode.window.showInformationMessage(
          `The Grafana token for ${secretOrigin(url)} is kept in VS Code’s secret storage.`,
        );
    }),
  );
}
