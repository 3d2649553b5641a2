// The Deployments view's commands: deploy, roll back (to the previous revision or any revision
// N), revert to stable, pin stable, scale, logs, remove, open endpoint, copy the data token,
// initialise a swarm. They use only the DeployTarget interface, through the DeploymentsService
// that extension.ts builds; the Kubernetes-only commands are in deployments/kubernetes/commands.ts.
import * as vscode from 'vscode';
import { CancelledError, guardedCommand } from '../host/guardedCommand';
import { setting } from '../host/settings';
import { describeError, MlopsError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { DeployOptions, DeploymentStatus, Revision } from './targets/deployTarget';
import { DATA_TOKEN_HEADER } from './targets/dataToken';
import { type DeploymentsService, LIST_TIMEOUT_MS, type ResolvedDeployment } from './deployments/deploymentsService';
import { hostPortIsFree, initSwarm } from './deployments/engine';
import { registerKubernetesCommands } from './deployments/kubernetes/commands';
import { isDeploymentNode, nodeTargetId } from './deployments/nodes';
import {
  defaultRollbackRevision,
  deployOutcome,
  endpointPort,
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
} from './deployments/picks';
import { replicasText, shortImage } from './deployments/presentation';
import { pickOne } from '../host/pickOne';
import { deploymentKey, withTimeout } from './deployments/targets';

type Log = vscode.LogOutputChannel & Logger;

const LOG_TAIL = 200;

export function registerDeploymentCommands(
  context: vscode.ExtensionContext,
  log: Log,
  deployments: DeploymentsService,
): void {
  const logFollowers = new Map<string, { channel: vscode.OutputChannel; abort?: AbortController }>();
  context.subscriptions.push({
    dispose: () => [...logFollowers.values()].forEach((f) => (f.abort?.abort(), f.channel.dispose())),
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
              deployments.refreshSoon();
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
      deployments.refreshWhereShown();
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

  async function rollbackTo(resolved: ResolvedDeployment, toRevision: number): Promise<void> {
    const { target, name } = resolved;
    const result = await withDeployProgress(`Rolling back ${name} to revision ${toRevision}`, (options) =>
      target.rollback(name, toRevision, options),
    );
    deployments.focus(resolved.config.id, name);
    show(rollbackOutcome(result, toRevision), openEndpointButton(result.status));
  }

  // --- the commands -----------------------------------------------------------------------------

  context.subscriptions.push(
    vscode.commands.registerCommand('mlops.refreshDeployments', () => deployments.refresh()),

    guardedCommand('mlops.deploy', log, async (arg?: unknown) => {
      const node = isDeploymentNode(arg) ? arg : undefined;
      const given = !node ? (arg as { image?: unknown } | undefined)?.image : undefined;
      const image =
        typeof given === 'string' && given.trim()
          ? given.trim()
          : await deployments.pickImage('Deploy: which image?', notebookOf(arg));
      if (!image) return;
      const config = node
        ? deployments.requireConfig(nodeTargetId(node))
        : await deployments.pickTarget(`Deploy ${shortImage(image)} to which swarm or cluster?`);
      if (!config) return;
      const target = await deployments.open(config);
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
      deployments.focus(config.id, name);
      show(deployOutcome(result, config.name), result.rolledBack ? [] : openEndpointButton(result.status));
    }),

    guardedCommand('mlops.rollback', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Roll back which deployment?');
      if (!resolved) return;
      const toRevision = await pickRevision(resolved.name, await resolved.target.history(resolved.name), 'rollback');
      if (toRevision !== undefined) await rollbackTo(resolved, toRevision);
    }),

    guardedCommand('mlops.rollbackToRevision', log, async (arg?: unknown) => {
      if (!isDeploymentNode(arg) || arg.kind !== 'revision')
        return void vscode.commands.executeCommand('mlops.rollback');
      const resolved = await deployments.resolveDeployment(arg, '');
      if (!resolved) return;
      if (arg.revision.current)
        return void vscode.window.showInformationMessage(
          `Revision ${arg.revision.revision} is the one ${arg.name} serves now.`,
        );
      await rollbackTo(resolved, arg.revision.revision);
    }),

    guardedCommand('mlops.revertToStable', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Revert which deployment to its stable revision?');
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
      deployments.audit.recordRevert(resolved.target, resolved.name, from, stable.revision);
    }),

    guardedCommand('mlops.pinStableRevision', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Pin a stable revision of which deployment?');
      if (!resolved) return;
      const revision =
        isDeploymentNode(arg) && arg.kind === 'revision'
          ? arg.revision.revision
          : await pickRevision(resolved.name, await resolved.target.history(resolved.name), 'pin');
      if (revision === undefined) return;
      await resolved.target.pinStable(resolved.name, revision);
      deployments.refreshWhereShown();
      show({
        severity: 'info',
        message: `Revision ${revision} of ${resolved.name} is pinned as stable: "Revert to Stable Revision" returns to it.`,
      });
    }),

    guardedCommand('mlops.scaleDeployment', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Scale which deployment?');
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

    guardedCommand('mlops.showDeploymentLogs', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Show the logs of which deployment?');
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

    guardedCommand('mlops.removeDeployment', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Remove which deployment?');
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
      deployments.unfocus(config.id, name);
      deployments.refreshWhereShown();
      show({ severity: 'info', message: `Removed ${name} from ${config.name}.` });
    }),

    guardedCommand('mlops.openDeploymentEndpoint', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Open the endpoint of which deployment?');
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

    guardedCommand('mlops.copyDataToken', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Copy the data token of which deployment?');
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

    guardedCommand('mlops.initSwarm', log, async (arg?: unknown) => {
      const targetId = nodeTargetId(isDeploymentNode(arg) ? arg : undefined);
      const config = targetId
        ? deployments.requireConfig(targetId)
        : await deployments.pickTarget('Initialise a swarm on which engine?');
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
      deployments.forgetProblem(config.id);
      deployments.refresh();
      show({ severity: 'info', message: `${config.name} is a swarm manager now: deploy an image to it.` }, [
        { label: 'Deploy Image', run: () => vscode.commands.executeCommand('mlops.deploy') },
      ]);
    }),
  );

  registerKubernetesCommands(context, log, deployments);
}

/** The notebook the command came from (toolbar or Explorer), relative to its workspace folder, as images label it. */
function notebookOf(arg: unknown): string | undefined {
  const uri =
    arg instanceof vscode.Uri
      ? arg
      : (arg as { notebookEditor?: { notebookUri?: vscode.Uri } } | undefined)?.notebookEditor?.notebookUri;
  return uri && uri.path.endsWith('.ipynb') ? vscode.workspace.asRelativePath(uri, false) : undefined;
}
