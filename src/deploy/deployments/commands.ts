// The Deployments view and its commands: deploy, roll back (to the previous revision or any
// revision N), revert to stable, pin stable, scale, logs, remove, open endpoint, initialise a
// swarm. They use only the DeployTarget interface; the Swarm and Kubernetes implementations
// behind it load when the view first lists its targets or a command first needs one. The
// Kubernetes-only commands (add a context, export and apply YAML) are in kubernetesCommands.ts.
import * as vscode from 'vscode';
import { setting, workspaceRoot } from '../../host/settings';
import { describeError, MlopsError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { LAST_BUILT_IMAGE } from '../../containerize/commands';
import { DeploymentStatusBar, DeploymentsTree, type DeploymentsSource } from '../deploymentsView';
import type { DeployOptions, DeployTarget, DeploymentStatus, Revision } from '../targets/deployTarget';
import { DATA_TOKEN_HEADER } from '../targets/dataToken';
import { diagnoseTarget, hostPortIsFree, initSwarm, listLocalImages } from './engine';
import { LiveUpdates } from './live';
import { isDeploymentNode, nodeDeployment, nodeTargetId } from './nodes';
import {
  defaultRollbackRevision,
  deployOutcome,
  deploymentPicks,
  endpointPort,
  imagePicks,
  type Outcome,
  parseHostPort,
  publishedPorts,
  revisionPicks,
  rollbackOutcome,
  serviceNameFromImage,
  suggestHostPort,
  validateHostPort,
  validateNodePort,
  validateReplicas,
  validateServiceName,
} from './picks';
import { replicasText, shortImage } from './presentation';
import { deployTargets, targetKey, type TargetConfig } from './targetConfig';
import { registryCredentials } from '../../containerize/registry/commands';
import { registerKubernetesCommands } from './kubernetes/commands';
import { registerExportCommands } from '../../monitor/export/commands';
import { registerReleaseCommands } from '../../release/commands';
import { registerMonitorCommands } from '../../monitor/commands';
import { registerBacktestCommands } from '../../release/backtest/commands';
import { registerReviewCommands } from '../../release/review/commands';
import { registerWorkflowCommands } from '../../release/workflow/commands';
import { monitoringDir } from '../../monitor/countsLog';
import { auditManualRevert } from '../../monitor/respond';
import { readAudit } from '../../monitor/audit';
import { targetKey as monitorTargetKey } from '../../monitor/targetKey';
import { kubernetesNamespaces } from './kubernetes/namespaces';
import { deploymentKey, openDeployTarget, TargetRegistry, type TargetSnapshot, withTimeout } from './targets';

type Log = vscode.LogOutputChannel & Logger;

const VIEW_ID = 'mlops.deployments';
const LIST_TIMEOUT_MS = 15_000;
const LOG_TAIL = 200;

/** A deployment a command acts on. */
interface Resolved {
  config: TargetConfig;
  target: DeployTarget;
  name: string;
  status?: DeploymentStatus;
}

/** Thrown when the user cancelled a progress notification; shown as a warning, not an error. */
class CancelledError extends MlopsError {}

export function registerDeployments(context: vscode.ExtensionContext, log: Log): void {
  const credentials = registryCredentials(context.secrets);
  const registry = new TargetRegistry((config) =>
    openDeployTarget(config, {
      credentials,
      kubeconfig: setting('kubeconfig', ''),
      dockerHost: setting('dockerHost', ''),
    }),
  );
  let configured = false;
  const configure = () => {
    const { targets, problems } = deployTargets(setting('dockerHost', ''), setting<unknown>('deployTargets', []));
    for (const problem of problems) log.warn(`deployments: ${problem}`);
    registry.configure(targets);
    configured = true;
  };
  const configs = () => {
    if (!configured) configure();
    return registry.list();
  };
  const requireConfig = (targetId: string | undefined): TargetConfig => {
    configs();
    const config = targetId ? registry.find(targetId) : registry.list()[0];
    if (!config) throw new MlopsError('That deploy target is no longer configured.', 'Refresh the Deployments view.');
    return config;
  };

  // What the last listing found: for the status bar, the welcome content and the pickers.
  let snapshots: TargetSnapshot[] | undefined;
  let focusKey: string | undefined;
  const reportedProblems = new Map<string, string>();
  const statusBar = new DeploymentStatusBar();

  const snapshotOf = async (config: TargetConfig): Promise<TargetSnapshot> => {
    let target: DeployTarget | undefined;
    const kubernetes = config.kind === 'kubernetes';
    try {
      target = await registry.get(config);
      live.watch(targetKey(config), config.name, target);
      const what = kubernetes
        ? `The Kubernetes API server of ${config.name} (${target.location})`
        : `The Docker Engine of ${config.name} (${target.location})`;
      const deployments = await withTimeout(target.list(), LIST_TIMEOUT_MS, what);
      const namespaces = kubernetes ? await kubernetesNamespaces(target) : undefined;
      if (reportedProblems.delete(config.id)) log.info(`deployments: ${config.name} answers again`);
      return { config, location: target.location, deployments, problem: null, ...(namespaces ? { namespaces } : {}) };
    } catch (error) {
      const location =
        target?.location ?? (kubernetes ? config.kubernetes?.context || 'the current context' : config.dockerHost);
      const problem = kubernetes
        ? {
            kind: /cannot be reached|did not answer/.test(describeError(error))
              ? ('unreachable' as const)
              : ('error' as const),
            message: describeError(error),
          }
        : await diagnoseTarget(config.dockerHost, location || 'DOCKER_HOST or /var/run/docker.sock', error);
      // No engine, no events: poll, so the view recovers when the engine comes back.
      if (!target || kubernetes) live.unreachable(targetKey(config), config.name, problem.message);
      // Polling repeats the same failure: say it once, and again when it changes.
      if (reportedProblems.get(config.id) !== problem.message)
        log.warn(`deployments: ${config.name}: ${problem.message}`);
      reportedProblems.set(config.id, problem.message);
      return { config, location, deployments: [], problem };
    }
  };

  const loaded = (fresh: TargetSnapshot[]) => {
    snapshots = fresh;
    const only = fresh.length === 1 ? fresh[0] : undefined;
    void vscode.commands.executeCommand(
      'setContext',
      'mlops.deployments.engine',
      only ? (only.problem?.kind ?? 'ready') : 'ready',
    );
    void vscode.commands.executeCommand(
      'setContext',
      'mlops.hasKubernetesTarget',
      fresh.some((s) => s.config.kind === 'kubernetes'),
    );
    updateStatusBar();
  };

  const source: DeploymentsSource = {
    loadTargets: async () => {
      const fresh = await Promise.all(configs().map(snapshotOf));
      live.retain(new Set(registry.list().map(targetKey)));
      loaded(fresh);
      return fresh;
    },
    history: async (targetId, name) => (await registry.get(requireConfig(targetId))).history(name),
    tasks: async (targetId, name) => (await registry.get(requireConfig(targetId))).tasks(name),
    deploymentsIn: async (targetId, namespace) => {
      const config = requireConfig(targetId);
      const target = await registry.get(config);
      return {
        targetId: config.id,
        deployments: await withTimeout(target.list(), LIST_TIMEOUT_MS, `${config.name} (${namespace})`),
      };
    },
    audit: async (targetId, name) => {
      const workspace = workspaceRoot();
      if (!workspace) return [];
      const target = await registry.get(requireConfig(targetId));
      return readAudit(monitoringDir(workspace, monitorTargetKey(target), name));
    },
    events: async (targetId, name) => {
      const target = await registry.get(requireConfig(targetId));
      return target.events ? target.events(name) : [];
    },
  };

  const tree = new DeploymentsTree(source);
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });

  function allDeployments(): { key: string; status: DeploymentStatus; targetName: string }[] {
    return (snapshots ?? []).flatMap((s) =>
      s.deployments.map((status) => ({
        key: deploymentKey(s.config.id, status.name),
        status,
        targetName: s.config.name,
      })),
    );
  }
  function updateStatusBar(): void {
    const all = allDeployments();
    statusBar.update(all.find((d) => d.key === focusKey) ?? (all.length === 1 ? all[0] : undefined));
  }

  // The tree re-lists when it is visible; otherwise only the status bar needs fresh figures.
  const refresh = () => {
    if (view.visible) tree.refresh();
    else if (snapshots) void source.loadTargets().catch(() => undefined);
  };
  let refreshTimer: NodeJS.Timeout | undefined;
  const refreshSoon = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 1000);
  };
  const live = new LiveUpdates({
    onChange: refresh,
    pollMs: () => Math.max(2, setting('deployments.pollSeconds', 10)) * 1000,
    wanted: () => view.visible || allDeployments().length > 0,
    log,
  });

  const logFollowers = new Map<string, { channel: vscode.OutputChannel; abort?: AbortController }>();

  context.subscriptions.push(
    view,
    tree,
    statusBar,
    { dispose: () => (live.dispose(), clearTimeout(refreshTimer)) },
    { dispose: () => [...logFollowers.values()].forEach((f) => (f.abort?.abort(), f.channel.dispose())) },
    view.onDidChangeVisibility((event) => {
      if (event.visible) tree.refresh();
    }),
    view.onDidChangeSelection((event) => {
      const selected = nodeDeployment(event.selection[0]);
      if (!selected) return;
      focusKey = deploymentKey(selected.targetId, selected.name);
      updateStatusBar();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (
        configured &&
        ['mlops.dockerHost', 'mlops.deployTargets', 'mlops.kubeconfig'].some((key) => event.affectsConfiguration(key))
      ) {
        configure();
        tree.refresh();
      }
    }),
  );

  // --- helpers shared by the commands ---------------------------------------------------------

  /** Runs a command body; errors become a message with "Show Log", cancellations a warning. */
  const command = (id: string, body: (...args: unknown[]) => Promise<void>) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await body(...args);
      } catch (error) {
        if (error instanceof CancelledError) {
          log.warn(`${id}: ${describeError(error)}`);
          void vscode.window.showWarningMessage(describeError(error));
          return;
        }
        log.error(`${id}: ${describeError(error)}`);
        void vscode.window.showErrorMessage(describeError(error), 'Show Log').then((choice) => choice && log.show());
      }
    });

  /** Long work under a cancellable notification, with the target's progress reported and logged. */
  async function withDeployProgress<T>(title: string, work: (options: DeployOptions) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    log.info(`deployments: ${title}`);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          return work({
            signal: abort.signal,
            onProgress: ({ message, fraction }) => {
              log.info(`deployments: ${title}: ${message}`);
              const increment = fraction === undefined ? undefined : Math.max(0, fraction * 100 - reported);
              if (fraction !== undefined) reported = Math.max(reported, fraction * 100);
              progress.report({ message, ...(increment ? { increment } : {}) });
              refreshSoon();
            },
          });
        },
      );
    } catch (error) {
      if (abort.signal.aborted) {
        throw new CancelledError(
          `${title}: cancelled. ${describeError(error)}`,
          'The service may be between revisions: check it in the Deployments view.',
          { cause: error },
        );
      }
      throw error;
    } finally {
      refresh();
    }
  }

  function show(outcome: Outcome, buttons: { label: string; run: () => unknown }[] = []): void {
    const level = outcome.severity === 'error' ? 'error' : outcome.severity === 'warning' ? 'warn' : 'info';
    log[level](`deployments: ${outcome.message}`);
    const all = outcome.severity === 'info' ? buttons : [...buttons, { label: 'Show Log', run: () => log.show() }];
    const showMessage =
      outcome.severity === 'error'
        ? vscode.window.showErrorMessage
        : outcome.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    void showMessage(outcome.message, ...all.map((b) => b.label)).then((choice) =>
      all.find((b) => b.label === choice)?.run(),
    );
  }

  const openEndpointButton = (status: DeploymentStatus) => {
    const endpoint = status.endpoints.find((e) => e.publishMode !== 'cluster');
    return endpoint
      ? [{ label: 'Open Endpoint', run: () => vscode.env.openExternal(vscode.Uri.parse(endpoint.url)) }]
      : [];
  };

  /** Every deployment of every target, listed afresh. */
  async function pickDeployment(title: string): Promise<Resolved | undefined> {
    const fresh = await source.loadTargets();
    const refs = fresh.flatMap((s) =>
      s.deployments.map((status) => ({ targetId: s.config.id, targetName: s.config.name, status })),
    );
    if (!refs.length) {
      const problems = fresh.filter((s) => s.problem).map((s) => `${s.config.name}: ${s.problem!.message}`);
      void vscode.window.showInformationMessage(
        problems.length
          ? `No deployments found. ${problems.join(' ')}`
          : 'No deployments yet: deploy an image first (MLOps: Deploy Image).',
      );
      return undefined;
    }
    let ref = refs.length === 1 ? refs[0] : undefined;
    if (!ref) {
      const items = deploymentPicks(refs);
      const focused = items.find((item) => deploymentKey(item.ref.targetId, item.ref.status.name) === focusKey);
      ref = (await pickOne(items, { title, placeholder: 'Which deployment?', active: focused }))?.ref;
    }
    if (!ref) return undefined;
    const config = requireConfig(ref.targetId);
    return { config, target: await registry.get(config), name: ref.status.name, status: ref.status };
  }

  /** The deployment of a tree node, or one picked when the command came from the palette. */
  async function resolveDeployment(arg: unknown, title: string): Promise<Resolved | undefined> {
    const fromNode = isDeploymentNode(arg) ? nodeDeployment(arg) : undefined;
    if (!fromNode) return pickDeployment(title);
    const config = requireConfig(fromNode.targetId);
    const status = isDeploymentNode(arg) && arg.kind === 'service' ? arg.status : undefined;
    return { config, target: await registry.get(config), name: fromNode.name, ...(status ? { status } : {}) };
  }

  async function pickTarget(title: string): Promise<TargetConfig | undefined> {
    const all = configs();
    if (all.length === 1) return all[0];
    const items = all.map((config) => ({
      label: `$(${config.kind === 'kubernetes' ? 'cloud' : config.local ? 'vm' : 'remote'}) ${config.name}`,
      description:
        config.kind === 'kubernetes'
          ? `Kubernetes ${config.kubernetes?.context || 'current context'} · ${config.kubernetes?.namespace || 'its namespace'}`
          : config.dockerHost || 'DOCKER_HOST or the local socket',
      config,
    }));
    return (
      await vscode.window.showQuickPick(items, { title, placeHolder: 'Which swarm or cluster?', ignoreFocusOut: true })
    )?.config;
  }

  /** A revision from the history; for a rollback, the newest one that is not current is highlighted. */
  async function pickRevision(
    name: string,
    history: Revision[],
    mode: 'rollback' | 'pin',
  ): Promise<number | undefined> {
    if (!history.length)
      throw new MlopsError(
        `No revision history was found for ${name}.`,
        'Deploy it again with MLOps: Deploy Image to start one.',
      );
    if (mode === 'rollback' && history.every((r) => r.current)) {
      void vscode.window.showInformationMessage(`${name} has only one revision: there is nothing to roll back to.`);
      return undefined;
    }
    const items = revisionPicks(history);
    const activeRevision =
      mode === 'rollback' ? defaultRollbackRevision(history) : history.find((r) => r.current)?.revision;
    const picked = await pickOne(items, {
      title: mode === 'rollback' ? `Roll back ${name} to which revision?` : `Pin which revision of ${name} as stable?`,
      placeholder:
        mode === 'rollback'
          ? 'Newest first; the current one already serves'
          : '"Revert to Stable Revision" returns to it',
      active: items.find((item) => item.revision === activeRevision),
    });
    if (!picked) return undefined;
    if (mode === 'rollback' && picked.current) {
      void vscode.window.showInformationMessage(`Revision ${picked.revision} is the one ${name} serves now.`);
      return undefined;
    }
    return picked.revision;
  }

  async function rollbackTo(resolved: Resolved, toRevision: number): Promise<void> {
    const { target, name } = resolved;
    const result = await withDeployProgress(`Rolling back ${name} to revision ${toRevision}`, (options) =>
      target.rollback(name, toRevision, options),
    );
    focusKey = deploymentKey(resolved.config.id, name);
    show(rollbackOutcome(result, toRevision), openEndpointButton(result.status));
  }

  /** Reverts go to the deployment's audit log, beside the monitor's alerts and automatic reverts. */
  function recordRevert(target: DeployTarget, name: string, from: number, to: number): void {
    const workspace = workspaceRoot();
    if (!workspace) return;
    const targetId = monitorTargetKey(target);
    auditManualRevert(monitoringDir(workspace, targetId, name), {
      targetId,
      name,
      from,
      to,
      by: 'you',
      message: `${name} was reverted from revision ${from} to its stable revision ${to}.`,
    });
  }

  async function pickImage(notebook: string | undefined, title = 'Deploy: which image?'): Promise<string | undefined> {
    const lastBuilt = context.workspaceState.get<string>(LAST_BUILT_IMAGE);
    const items = listLocalImages(setting('dockerHost', '')).then(
      (images) => imagePicks(images, { ...(notebook ? { notebook } : {}), ...(lastBuilt ? { lastBuilt } : {}) }),
      (error: unknown) => {
        log.warn(`deploy: the local images cannot be listed: ${describeError(error)}`);
        // The last build is still worth offering: the target may have it.
        return [
          ...(lastBuilt ? [{ label: `$(package) ${lastBuilt}`, description: 'last built', image: lastBuilt }] : []),
          ...imagePicks([]),
        ];
      },
    );
    const picked = await vscode.window.showQuickPick(items, {
      title,
      placeHolder: 'Model images from Containerise first, newest first; or enter any image name',
      matchOnDescription: true,
      matchOnDetail: true,
      ignoreFocusOut: true,
    });
    if (!picked) return undefined;
    if (picked.image) return picked.image;
    const typed = await vscode.window.showInputBox({
      title: 'Deploy: image name',
      prompt: 'An image the target can run: name:tag or name@sha256:digest',
      placeHolder: 'registry.example.com/team/model:1.2',
      ignoreFocusOut: true,
      validateInput: (text) => (/^[^\s]+$/.test(text.trim()) ? undefined : 'An image reference, without spaces.'),
    });
    return typed?.trim() || undefined;
  }

  // --- the commands -----------------------------------------------------------------------------

  context.subscriptions.push(
    vscode.commands.registerCommand('mlops.refreshDeployments', () => tree.refresh()),

    command('mlops.deploy', async (arg?: unknown) => {
      const node = isDeploymentNode(arg) ? arg : undefined;
      const given = !node ? (arg as { image?: unknown } | undefined)?.image : undefined;
      const image = typeof given === 'string' && given.trim() ? given.trim() : await pickImage(notebookOf(arg));
      if (!image) return;
      const config = node
        ? requireConfig(nodeTargetId(node))
        : await pickTarget(`Deploy ${shortImage(image)} to which swarm or cluster?`);
      if (!config) return;
      const target = await registry.get(config);
      const existing = await withTimeout(target.list(), LIST_TIMEOUT_MS, `The Docker Engine of ${config.name}`).catch(
        (error: unknown) => {
          log.warn(`deploy: the deployments of ${config.name} cannot be listed: ${describeError(error)}`);
          return [] as DeploymentStatus[];
        },
      );
      const byName = new Map(existing.map((d) => [d.name, d]));
      const title = `Deploy ${shortImage(image)} to ${config.name}`;

      const nameInput = await vscode.window.showInputBox({
        title,
        prompt: 'Service name: lower-case letters, digits and dashes',
        value: serviceNameFromImage(image),
        ignoreFocusOut: true,
        validateInput: (text) => {
          const problem = validateServiceName(text.trim());
          if (problem) return problem;
          const current = byName.get(text.trim());
          return current
            ? {
                message: `${current.name} exists (revision ${current.revision}, ${shortImage(current.image)}): this deploys a new revision of it.`,
                severity: vscode.InputBoxValidationSeverity.Info,
              }
            : undefined;
        },
      });
      if (nameInput === undefined) return;
      const name = nameInput.trim();
      const current = byName.get(name);

      const replicasInput = await vscode.window.showInputBox({
        title: `${title} as ${name}`,
        prompt: 'Replicas: how many copies of the model server run',
        value: String(current?.replicas.desired || 1),
        ignoreFocusOut: true,
        validateInput: (text) => validateReplicas(text, 1),
      });
      if (replicasInput === undefined) return;

      const others = publishedPorts(existing.filter((d) => d.name !== name));
      const currentPort =
        current?.endpoints[0] && current.endpoints[0].publishMode !== 'cluster'
          ? endpointPort(current.endpoints[0].url)
          : undefined;
      const kubernetes = config.kind === 'kubernetes';
      const localEngine =
        !kubernetes &&
        config.local &&
        (config.dockerHost || process.env.DOCKER_HOST || 'unix://').startsWith('unix://');
      const suggested = kubernetes
        ? currentPort
        : (currentPort ?? (await suggestHostPort(others, localEngine ? hostPortIsFree : async () => true)));
      const portInput = await vscode.window.showInputBox({
        title: `${title} as ${name}`,
        prompt: kubernetes
          ? 'NodePort (30000–32767) to reach the model from outside the cluster. Empty: a ClusterIP Service on port 80, reached inside the cluster.'
          : 'Host port: the model answers on http://HOST:PORT/ of the swarm. Empty publishes no port.',
        value: suggested === undefined ? '' : String(suggested),
        ignoreFocusOut: true,
        validateInput: (text) => {
          const problem = kubernetes ? validateNodePort(text) : validateHostPort(text);
          if (problem) return problem;
          const port = parseHostPort(text);
          const user =
            port === undefined
              ? undefined
              : existing.find((d) => d.name !== name && d.endpoints.some((e) => endpointPort(e.url) === port));
          return user
            ? {
                message: `${user.name} already publishes port ${port}.`,
                severity: vscode.InputBoxValidationSeverity.Warning,
              }
            : undefined;
        },
      });
      if (portInput === undefined) return;

      const changeCause = await vscode.window.showInputBox({
        title: `${title} as ${name}`,
        prompt: 'Change cause (optional): why this revision exists, shown in the revision history',
        placeHolder: 'retrained on November data',
        ignoreFocusOut: true,
      });
      if (changeCause === undefined) return;

      const registryHost = setting('registry', '').trim();
      const publishedPort = parseHostPort(portInput);
      const spec = {
        name,
        image,
        replicas: Number(replicasInput.trim()),
        ...(publishedPort !== undefined ? { publishedPort } : {}),
        ...(changeCause.trim() ? { changeCause: changeCause.trim() } : {}),
        ...(registryHost ? { registry: registryHost } : {}),
      };
      log.info(`deploy: ${JSON.stringify(spec)} to ${config.name} (${target.location})`);
      const result = await withDeployProgress(`Deploying ${name} to ${config.name}`, (options) =>
        target.deploy(spec, options),
      );
      focusKey = deploymentKey(config.id, name);
      show(deployOutcome(result, config.name), result.rolledBack ? [] : openEndpointButton(result.status));
    }),

    command('mlops.rollback', async (arg?: unknown) => {
      const resolved = await resolveDeployment(arg, 'Roll back which deployment?');
      if (!resolved) return;
      const toRevision = await pickRevision(resolved.name, await resolved.target.history(resolved.name), 'rollback');
      if (toRevision !== undefined) await rollbackTo(resolved, toRevision);
    }),

    command('mlops.rollbackToRevision', async (arg?: unknown) => {
      if (!isDeploymentNode(arg) || arg.kind !== 'revision')
        return void vscode.commands.executeCommand('mlops.rollback');
      const resolved = await resolveDeployment(arg, '');
      if (!resolved) return;
      if (arg.revision.current)
        return void vscode.window.showInformationMessage(
          `Revision ${arg.revision.revision} is the one ${arg.name} serves now.`,
        );
      await rollbackTo(resolved, arg.revision.revision);
    }),

    command('mlops.revertToStable', async (arg?: unknown) => {
      const resolved = await resolveDeployment(arg, 'Revert which deployment to its stable revision?');
      if (!resolved) return;
      const stable = (await resolved.target.history(resolved.name)).find((r) => r.stable);
      if (!stable) {
        throw new MlopsError(
          `${resolved.name} has no stable revision.`,
          'Pin one first: right-click a revision in the Deployments view and choose "Pin as Stable Revision".',
        );
      }
      if (stable.current)
        return void vscode.window.showInformationMessage(
          `${resolved.name} already serves its stable revision ${stable.revision}.`,
        );
      const from = (await resolved.target.history(resolved.name)).find((r) => r.current)?.revision ?? 0;
      await rollbackTo(resolved, stable.revision);
      recordRevert(resolved.target, resolved.name, from, stable.revision);
    }),

    command('mlops.pinStableRevision', async (arg?: unknown) => {
      const resolved = await resolveDeployment(arg, 'Pin a stable revision of which deployment?');
      if (!resolved) return;
      const revision =
        isDeploymentNode(arg) && arg.kind === 'revision'
          ? arg.revision.revision
          : await pickRevision(resolved.name, await resolved.target.history(resolved.name), 'pin');
      if (revision === undefined) return;
      await resolved.target.pinStable(resolved.name, revision);
      refresh();
      show({
        severity: 'info',
        message: `Revision ${revision} of ${resolved.name} is pinned as stable: "Revert to Stable Revision" returns to it.`,
      });
    }),

    command('mlops.scaleDeployment', async (arg?: unknown) => {
      const resolved = await resolveDeployment(arg, 'Scale which deployment?');
      if (!resolved) return;
      const { target, name } = resolved;
      const status = await target.status(name);
      const input = await vscode.window.showInputBox({
        title: `Scale ${name}`,
        prompt: `Replicas (now ${status.replicas.running} running of ${status.replicas.desired}); 0 stops the service without removing it`,
        value: String(status.replicas.desired),
        ignoreFocusOut: true,
        validateInput: (text) => validateReplicas(text, 0),
      });
      if (input === undefined || Number(input.trim()) === status.replicas.desired) return;
      const replicas = Number(input.trim());
      const scaled = await withDeployProgress(
        `Scaling ${name} to ${replicas} replica${replicas === 1 ? '' : 's'}`,
        (options) => target.scale(name, replicas, options),
      );
      const unwell = scaled.health === 'failed' || scaled.health === 'degraded';
      show({
        severity: unwell ? 'warning' : 'info',
        message: `${name}: ${replicasText(scaled)}.${unwell && scaled.message ? ` ${scaled.message}` : ''}`,
      });
    }),

    command('mlops.showDeploymentLogs', async (arg?: unknown) => {
      const resolved = await resolveDeployment(arg, 'Show the logs of which deployment?');
      if (!resolved) return;
      const { config, target, name } = resolved;
      const key = deploymentKey(config.id, name);
      let follower = logFollowers.get(key);
      if (!follower) {
        follower = {
          channel: vscode.window.createOutputChannel(`MLOps Logs: ${name}${config.local ? '' : ` (${config.name})`}`),
        };
        logFollowers.set(key, follower);
      }
      const { channel } = follower;
      channel.show(true);
      if (follower.abort && !follower.abort.signal.aborted) return;
      const abort = new AbortController();
      follower.abort = abort;
      channel.appendLine(`— following ${name} on ${config.name}: the last ${LOG_TAIL} lines, then new ones —`);
      void target
        .logs(name, { follow: true, tail: LOG_TAIL, signal: abort.signal, onLine: (line) => channel.appendLine(line) })
        .then(
          () =>
            !abort.signal.aborted &&
            channel.appendLine(
              '— the log stream ended (the service stopped or was removed); Show Logs follows it again —',
            ),
          (error: unknown) =>
            !abort.signal.aborted && channel.appendLine(`— the log stream failed: ${describeError(error)} —`),
        )
        .finally(() => abort.abort());
    }),

    command('mlops.removeDeployment', async (arg?: unknown) => {
      const resolved = await resolveDeployment(arg, 'Remove which deployment?');
      if (!resolved) return;
      const { config, target, name } = resolved;
      const answer = await vscode.window.showWarningMessage(
        `Remove the deployment "${name}" from ${config.name}?`,
        { modal: true, detail: `Its replicas stop and ${name}'s endpoint goes away. This cannot be undone.` },
        'Remove',
      );
      if (answer !== 'Remove') return;
      log.info(`deployments: removing ${name} from ${config.name}`);
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Removing ${name}` },
        () => target.remove(name),
      );
      const key = deploymentKey(config.id, name);
      logFollowers.get(key)?.abort?.abort();
      if (focusKey === key) focusKey = undefined;
      refresh();
      show({ severity: 'info', message: `Removed ${name} from ${config.name}.` });
    }),

    command('mlops.openDeploymentEndpoint', async (arg?: unknown) => {
      const resolved = await resolveDeployment(arg, 'Open the endpoint of which deployment?');
      if (!resolved) return;
      const endpoints = resolved.status?.endpoints.length
        ? resolved.status.endpoints
        : await resolved.target.endpoints(resolved.name);
      const reachable = endpoints.find((endpoint) => endpoint.publishMode !== 'cluster');
      if (!reachable) {
        const inside = endpoints[0] ? ` It answers at ${endpoints[0].url} inside the cluster only.` : '';
        return void vscode.window.showInformationMessage(
          `${resolved.name} publishes no port.${inside} Deploy it again with a ${resolved.config.kind === 'kubernetes' ? 'NodePort' : 'host port'} to reach it from here.`,
        );
      }
      await vscode.env.openExternal(vscode.Uri.parse(reachable.url));
    }),

    command('mlops.copyDataToken', async (arg?: unknown) => {
      const resolved = await resolveDeployment(arg, 'Copy the data token of which deployment?');
      if (!resolved) return;
      const token = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Reading the data token of ${resolved.name}` },
        () => resolved.target.dataToken(resolved.name),
      );
      await vscode.env.clipboard.writeText(token);
      show({
        severity: 'info',
        message: `Copied the data token of ${resolved.name}: your app sends it as ${DATA_TOKEN_HEADER} (or Authorization: Bearer) to POST /feedback and GET /requests.`,
      });
    }),

    command('mlops.initSwarm', async (arg?: unknown) => {
      const targetId = nodeTargetId(isDeploymentNode(arg) ? arg : undefined);
      const config = targetId ? requireConfig(targetId) : await pickTarget('Initialise a swarm on which engine?');
      if (!config) return;
      const where = config.dockerHost || process.env.DOCKER_HOST || 'the local Docker Engine (/var/run/docker.sock)';
      const answer = await vscode.window.showWarningMessage(
        `Make ${where} a swarm manager?`,
        {
          modal: true,
          detail:
            'Deployments run on Docker Swarm. This does what "docker swarm init --advertise-addr 127.0.0.1" does: the engine becomes a single-node swarm manager, listening for other nodes on port 2377. "docker swarm leave --force" undoes it.',
        },
        'Initialise Swarm',
      );
      if (answer !== 'Initialise Swarm') return;
      log.info(`deployments: initialising a swarm on ${where}`);
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Initialising a swarm on ${config.name}` },
        () => initSwarm(config.dockerHost),
      );
      reportedProblems.delete(config.id);
      tree.refresh();
      show({ severity: 'info', message: `${config.name} is a swarm manager now: deploy an image to it.` }, [
        { label: 'Deploy Image', run: () => vscode.commands.executeCommand('mlops.deploy') },
      ]);
    }),
  );

  const deps = {
    log,
    configs,
    open: (config: TargetConfig) => registry.get(config),
    resolveDeployment,
    refresh: () => tree.refresh(),
  };
  registerKubernetesCommands(context, deps);
  registerMonitorCommands(context, deps);
  registerBacktestCommands(context, deps);
  registerReviewCommands(context, deps);
  registerWorkflowCommands(context, deps);
  registerExportCommands(context, deps);
  registerReleaseCommands(context, { ...deps, pickImage: (title) => pickImage(undefined, title) });
}

/** The notebook the command came from (toolbar or Explorer), relative to its workspace folder, as images label it. */
function notebookOf(arg: unknown): string | undefined {
  const uri =
    arg instanceof vscode.Uri
      ? arg
      : (arg as { notebookEditor?: { notebookUri?: vscode.Uri } } | undefined)?.notebookEditor?.notebookUri;
  return uri && uri.path.endsWith('.ipynb') ? vscode.workspace.asRelativePath(uri, false) : undefined;
}

/** A quick pick with an item highlighted first (showQuickPick always highlights the first). */
function pickOne<T extends vscode.QuickPickItem>(
  items: T[],
  options: { title: string; placeholder: string; active?: T | undefined },
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const quickPick = vscode.window.createQuickPick<T>();
    quickPick.title = options.title;
    quickPick.placeholder = options.placeholder;
    quickPick.items = items;
    quickPick.matchOnDescription = true;
    quickPick.matchOnDetail = true;
    quickPick.ignoreFocusOut = true;
    if (options.active) quickPick.activeItems = [options.active];
    let accepted: T | undefined;
    quickPick.onDidAccept(() => {
      accepted = quickPick.selectedItems[0] ?? quickPick.activeItems[0];
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      resolve(accepted);
      quickPick.dispose();
    });
    quickPick.show();
  });
}
