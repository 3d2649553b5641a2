// The deployments every area acts on (deploy, monitor, release): the targets of the settings,
// opened on first use; the Deployments view and status bar that list them; and the pickers that
// resolve the deployment, target or image a command is about. extension.ts builds it once and
// hands it to each area's registration. The Swarm and Kubernetes implementations load when a
// target is first opened.
import * as vscode from 'vscode';
import { registryCredentials } from '../../containerize/registry/commands';
import { LAST_BUILT_IMAGE } from '../../containerize/lastBuiltImage';
import { setting } from '../../host/settings';
import { badLineWarnings } from '../../shared/badLines';
import { describeError, MlopsError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { DeploymentStatusBar, DeploymentsTree, type DeploymentsSource } from '../deploymentsView';
import type { DeployTarget, DeploymentStatus } from '../targets/deployTarget';
import type { AuditTrail } from './auditTrail';
import { diagnoseTarget, listLocalImages } from './engine';
import { kubernetesNamespaces } from './kubernetes/namespaces';
import { LiveUpdates } from './live';
import { type DeploymentNode, isDeploymentNode, nodeDeployment } from './nodes';
import { deploymentPicks, imagePicks } from './picks';
import { pickOne } from '../../host/pickOne';
import { deployTargets, targetKey, type TargetConfig } from './targetConfig';
import { deploymentKey, openDeployTarget, TargetRegistry, type TargetSnapshot, withTimeout } from './targets';

type Log = vscode.LogOutputChannel & Logger;

const VIEW_ID = 'mlops.deployments';
/** How long listing a target's deployments may take. */
export const LIST_TIMEOUT_MS = 15_000;

/** A deployment a command acts on. */
export interface ResolvedDeployment {
  config: TargetConfig;
  target: DeployTarget;
  name: string;
  status?: DeploymentStatus;
}

export class DeploymentsService {
  private readonly registry: TargetRegistry;
  private configured = false;
  /** What the last listing found: for the status bar, the welcome content and the pickers. */
  private snapshots: TargetSnapshot[] | undefined;
  private focusKey: string | undefined;
  private readonly reportedProblems = new Map<string, string>();
  private readonly statusBar = new DeploymentStatusBar();
  private readonly tree: DeploymentsTree;
  private readonly view: vscode.TreeView<DeploymentNode>;
  private readonly live: LiveUpdates;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    /** The monitor's records of each deployment, shown under it and added to by reverts. */
    readonly audit: AuditTrail,
  ) {
    const credentials = registryCredentials(context.secrets);
    this.registry = new TargetRegistry((config) =>
      openDeployTarget(config, {
        credentials,
        kubeconfig: setting('kubeconfig', ''),
        dockerHost: setting('dockerHost', ''),
        gateway: setting('kubernetes.gateway', ''),
        onBadRecord: badLineWarnings(log),
        proxyImage: setting('proxyImage', ''),
      }),
    );
    this.tree = new DeploymentsTree(this.source());
    const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this.tree, showCollapseAll: true });
    this.view = view;
    this.live = new LiveUpdates({
      onChange: () => this.refreshWhereShown(),
      pollMs: () => Math.max(2, setting('deployments.pollSeconds', 10)) * 1000,
      wanted: () => view.visible || this.allDeployments().length > 0,
      log,
    });
    context.subscriptions.push(
      view,
      this.tree,
      this.statusBar,
      { dispose: () => (this.live.dispose(), clearTimeout(this.refreshTimer)) },
      view.onDidChangeVisibility((event) => {
        if (event.visible) this.tree.refresh();
      }),
      view.onDidChangeSelection((event) => {
        const selected = nodeDeployment(event.selection[0]);
        if (!selected) return;
        this.focus(selected.targetId, selected.name);
        this.updateStatusBar();
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (
          this.configured &&
          ['mlops.dockerHost', 'mlops.deployTargets', 'mlops.kubeconfig', 'mlops.kubernetes.gateway'].some((key) =>
            event.affectsConfiguration(key),
          )
        ) {
          this.configure();
          this.tree.refresh();
        }
      }),
    );
  }

  /** The configured targets: the local swarm, then mlops.deployTargets. */
  configs(): TargetConfig[] {
    if (!this.configured) this.configure();
    return this.registry.list();
  }

  /** The target of a tree node's id (the first one without an id). */
  requireConfig(targetId: string | undefined): TargetConfig {
    this.configs();
    const config = targetId ? this.registry.find(targetId) : this.registry.list()[0];
    if (!config) throw new MlopsError('That deploy target is no longer configured.', 'Refresh the Deployments view.');
    return config;
  }

  /** The opened target, opened once and kept until its settings change. */
  open(config: TargetConfig): Promise<DeployTarget> {
    return this.registry.get(config);
  }

  /** Lists every target again in the Deployments view. */
  refresh(): void {
    this.tree.refresh();
  }

  /** The tree re-lists when it is visible; otherwise only the status bar needs fresh figures. */
  refreshWhereShown(): void {
    if (this.view.visible) this.tree.refresh();
    else if (this.snapshots) void this.loadTargets().catch(() => undefined);
  }

  /** A refresh in a second, for progress that comes in bursts. */
  refreshSoon(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refreshWhereShown(), 1000);
  }

  /** The deployment the status bar shows from the next listing on, and the pickers offer first. */
  focus(targetId: string, name: string): void {
    this.focusKey = deploymentKey(targetId, name);
  }

  /** A deployment that went away leaves the status bar. */
  unfocus(targetId: string, name: string): void {
    if (this.focusKey === deploymentKey(targetId, name)) this.focusKey = undefined;
  }

  /** The next listing of the target logs its problem again (after the user fixed something). */
  forgetProblem(targetId: string): void {
    this.reportedProblems.delete(targetId);
  }

  /** The deployment of a tree node, or one picked when the command came from the palette. */
  async resolveDeployment(arg: unknown, title: string): Promise<ResolvedDeployment | undefined> {
    const fromNode = isDeploymentNode(arg) ? nodeDeployment(arg) : undefined;
    if (!fromNode) return this.pickDeployment(title);
    const config = this.requireConfig(fromNode.targetId);
    const status = isDeploymentNode(arg) && arg.kind === 'service' ? arg.status : undefined;
    return { config, target: await this.registry.get(config), name: fromNode.name, ...(status ? { status } : {}) };
  }

  /** A target; the only one without asking. */
  async pickTarget(title: string): Promise<TargetConfig | undefined> {
    const all = this.configs();
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

  /** A local image (the notebook's and the last built first), or any image name typed in. */
  async pickImage(title: string, notebook?: string): Promise<string | undefined> {
    const lastBuilt = this.context.workspaceState.get<string>(LAST_BUILT_IMAGE);
    const items = listLocalImages(setting('dockerHost', '')).then(
      (images) => imagePicks(images, { ...(notebook ? { notebook } : {}), ...(lastBuilt ? { lastBuilt } : {}) }),
      (error: unknown) => {
        this.log.warn(`deploy: the local images cannot be listed: ${describeError(error)}`);
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

  private configure(): void {
    const { targets, problems } = deployTargets(setting('dockerHost', ''), setting<unknown>('deployTargets', []));
    for (const problem of problems) this.log.warn(`deployments: ${problem}`);
    this.registry.configure(targets);
    this.configured = true;
  }

  /** Where the tree reads from. */
  private source(): DeploymentsSource {
    return {
      loadTargets: () => this.loadTargets(),
      history: async (targetId, name) => (await this.open(this.requireConfig(targetId))).history(name),
      tasks: async (targetId, name) => (await this.open(this.requireConfig(targetId))).tasks(name),
      deploymentsIn: async (targetId, namespace) => {
        const config = this.requireConfig(targetId);
        const target = await this.open(config);
        return {
          targetId: config.id,
          deployments: await withTimeout(target.list(), LIST_TIMEOUT_MS, `${config.name} (${namespace})`),
        };
      },
      audit: async (targetId, name) => this.audit.read(await this.open(this.requireConfig(targetId)), name),
      events: async (targetId, name) => {
        const target = await this.open(this.requireConfig(targetId));
        return target.events ? target.events(name) : [];
      },
    };
  }

  /** Every configured target with its deployments, or the problem that kept it from listing them. */
  private async loadTargets(): Promise<TargetSnapshot[]> {
    const fresh = await Promise.all(this.configs().map((config) => this.snapshotOf(config)));
    this.live.retain(new Set(this.registry.list().map(targetKey)));
    this.loaded(fresh);
    return fresh;
  }

  private async snapshotOf(config: TargetConfig): Promise<TargetSnapshot> {
    let target: DeployTarget | undefined;
    const kubernetes = config.kind === 'kubernetes';
    try {
      target = await this.registry.get(config);
      this.live.watch(targetKey(config), config.name, target);
      const what = kubernetes
        ? `The Kubernetes API server of ${config.name} (${target.location})`
        : `The Docker Engine of ${config.name} (${target.location})`;
      const deployments = await withTimeout(target.list(), LIST_TIMEOUT_MS, what);
      const namespaces = kubernetes ? await kubernetesNamespaces(target) : undefined;
      if (this.reportedProblems.delete(config.id)) this.log.info(`deployments: ${config.name} answers again`);
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
      if (!target || kubernetes) this.live.unreachable(targetKey(config), config.name, problem.message);
      // Polling repeats the same failure: say it once, and again when it changes.
      if (this.reportedProblems.get(config.id) !== problem.message)
        this.log.warn(`deployments: ${config.name}: ${problem.message}`);
      this.reportedProblems.set(config.id, problem.message);
      return { config, location, deployments: [], problem };
    }
  }

  private loaded(fresh: TargetSnapshot[]): void {
    this.snapshots = fresh;
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
    this.updateStatusBar();
  }

  private allDeployments(): { key: string; status: DeploymentStatus; targetName: string }[] {
    return (this.snapshots ?? []).flatMap((s) =>
      s.deployments.map((status) => ({
        key: deploymentKey(s.config.id, status.name),
        status,
        targetName: s.config.name,
      })),
    );
  }

  private updateStatusBar(): void {
    const all = this.allDeployments();
    this.statusBar.update(all.find((d) => d.key === this.focusKey) ?? (all.length === 1 ? all[0] : undefined));
  }

  /** Every deployment of every target, listed afresh. */
  private async pickDeployment(title: string): Promise<ResolvedDeployment | undefined> {
    const fresh = await this.loadTargets();
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
      const focused = items.find((item) => deploymentKey(item.ref.targetId, item.ref.status.name) === this.focusKey);
      ref = (await pickOne(items, { title, placeholder: 'Which deployment?', active: focused }))?.ref;
    }
    if (!ref) return undefined;
    const config = this.requireConfig(ref.targetId);
    return { config, target: await this.registry.get(config), name: ref.status.name, status: ref.status };
  }
}
