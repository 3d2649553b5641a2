// The Kubernetes commands of the Deployments view: add a context and namespace as a target,
// export a deployment's manifests as YAML for GitOps, and apply a YAML file from the editor after
// a server-side dry run shown as a diff and a confirmation.
import * as vscode from 'vscode';
import type { DeploymentsService } from '../deploymentsService';
import type { KubernetesObject } from '@kubernetes/client-node';
import { setting } from '../../../host/settings';
import { describeError, MlopsError } from '../../../shared/errors';
import type { Logger } from '../../../shared/logger';
import { redactUserInfo } from '../../../shared/redact';
import { asKubernetes, kubernetesNamespaces } from './namespaces';
import { changeSummary } from './changeSummary';
import type { TargetConfig } from '../targetConfig';
import { guardedCommand } from '../../../host/guardedCommand';

export function registerKubernetesCommands(
  context: vscode.ExtensionContext,
  log: Logger & { show(): void },
  deployments: DeploymentsService,
): void {
  const previews = new Map<string, string>();
  const previewEvents = new vscode.EventEmitter<vscode.Uri>();
  context.subscriptions.push(
    previewEvents,
    vscode.workspace.registerTextDocumentContentProvider('mlops-kubernetes', {
      onDidChange: previewEvents.event,
      provideTextDocumentContent: (uri) => previews.get(uri.toString()) ?? '',
    }),

    guardedCommand('mlops.addKubernetesTarget', log, async () => {
      const kubeconfig = setting('kubeconfig', '');
      const { listContexts } = await import('../../targets/kubernetes/kubeconfig');
      const contexts = await listContexts(kubeconfig || undefined);
      if (!contexts.length)
        throw new MlopsError(
          'The kubeconfig defines no context.',
          'Add one with kubectl config set-context, or set mlops.kubeconfig to another file.',
        );
      const picked = await vscode.window.showQuickPick(
        contexts.map((c) => ({
          label: `$(cloud) ${c.name}`,
          description: redactUserInfo(c.server),
          detail: `namespace ${c.namespace}${c.current ? ' · current context' : ''}`,
          context: c,
        })),
        {
          title: 'Add a Kubernetes target: which context?',
          placeHolder: 'From mlops.kubeconfig, KUBECONFIG (every file) or ~/.kube/config',
          ignoreFocusOut: true,
          matchOnDescription: true,
        },
      );
      if (!picked) return;
      const { openKubernetesTarget } = await import('../../targets/kubernetes/kubernetesTarget');
      const namespaces = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Listing the namespaces of ${picked.context.name}` },
        async () => {
          const target = await openKubernetesTarget({
            ...(kubeconfig ? { kubeconfig } : {}),
            context: picked.context.name,
          });
          return kubernetesNamespaces(target);
        },
      );
      const namespace = await vscode.window.showQuickPick(
        namespaces.map((name) => ({
          label: `$(symbol-namespace) ${name}`,
          description: name === picked.context.namespace ? "the context's namespace" : '',
          name,
        })),
        {
          title: `Add ${picked.context.name}: deploy to which namespace?`,
          placeHolder: 'Other namespaces can still be browsed in the view',
          ignoreFocusOut: true,
        },
      );
      if (!namespace) return;
      // The entry goes where the list is already set (workspace or user), so that it shows.
      const inspected = vscode.workspace.getConfiguration('mlops').inspect<unknown[]>('deployTargets');
      const scope =
        inspected?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
      const existing =
        (scope === vscode.ConfigurationTarget.Workspace ? inspected?.workspaceValue : inspected?.globalValue) ?? [];
      const taken = new Set([...deployments.configs().map((c) => c.name.toLowerCase())]);
      const name = await vscode.window.showInputBox({
        title: `Add ${picked.context.name} · ${namespace.name}`,
        prompt: 'What the Deployments view calls this target',
        value: taken.has(picked.context.name.toLowerCase())
          ? `${picked.context.name}-${namespace.name}`
          : picked.context.name,
        ignoreFocusOut: true,
        validateInput: (text) =>
          !text.trim()
            ? 'A name, please.'
            : taken.has(text.trim().toLowerCase())
              ? `A target is already called ${text.trim()}.`
              : undefined,
      });
      if (!name) return;
      const entry = { name: name.trim(), kubernetes: { context: picked.context.name, namespace: namespace.name } };
      await vscode.workspace
        .getConfiguration('mlops')
        .update('deployTargets', [...(Array.isArray(existing) ? existing : []), entry], scope);
      log.info(`deployments: added the Kubernetes target ${JSON.stringify(entry)}`);
      deployments.refresh();
      void vscode.window.showInformationMessage(
        `${entry.name} (${picked.context.name} · ${namespace.name}) is in the Deployments view.`,
      );
    }),

    guardedCommand('mlops.exportKubernetesManifests', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Export the manifests of which deployment?');
      if (!resolved) return;
      const kubernetes = asKubernetes(resolved.target);
      if (!kubernetes)
        throw new MlopsError(`${resolved.name} runs on Docker Swarm: only Kubernetes deployments export manifests.`);
      const [objects, { dumpYaml }] = await Promise.all([
        kubernetes.exportManifests(resolved.name),
        import('@kubernetes/client-node'),
      ]);
      const header = `# ${resolved.name} on ${kubernetes.location}, exported by MLOps on ${new Date().toISOString()}\n# Apply it with kubectl apply --server-side -f, or with MLOps: Apply Kubernetes YAML.\n`;
      const document = await vscode.workspace.openTextDocument({
        language: 'yaml',
        content: header + objects.map((object) => dumpYaml(object)).join('---\n'),
      });
      await vscode.window.showTextDocument(document);
    }),

    guardedCommand('mlops.applyKubernetesYaml', log, async (arg?: unknown) => {
      const document =
        arg instanceof vscode.Uri
          ? await vscode.workspace.openTextDocument(arg)
          : vscode.window.activeTextEditor?.document;
      if (!document)
        throw new MlopsError(
          'No YAML file is open.',
          'Open the manifests to apply, then run MLOps: Apply Kubernetes YAML.',
        );
      const file = vscode.workspace.asRelativePath(document.uri, false);
      const objects = await parseManifests(document.getText(), file);
      const config = await pickKubernetesTarget(deployments.configs());
      if (!config) return;
      const target = asKubernetes(await deployments.open(config));
      if (!target) return;
      const planned = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Dry run of ${file} on ${target.location}` },
        () => target.applyObjects(objects, true),
      );
      const { dumpYaml } = await import('@kubernetes/client-node');
      const stamp = Date.now();
      const before = vscode.Uri.parse(`mlops-kubernetes:/${stamp}/live/${file}`);
      const after = vscode.Uri.parse(`mlops-kubernetes:/${stamp}/applied/${file}`);
      previews.set(
        before.toString(),
        planned
          .map((p) => (p.before ? dumpYaml(p.before) : `# ${p.kind} ${p.namespace}/${p.name} does not exist yet\n`))
          .join('---\n'),
      );
      previews.set(after.toString(), planned.map((p) => dumpYaml(p.after)).join('---\n'));
      await vscode.commands.executeCommand(
        'vscode.diff',
        before,
        after,
        `${file}: live ↔ after apply (${target.location}, dry run)`,
        { preview: true },
      );
      const summary = changeSummary(planned);
      const answer = await vscode.window.showWarningMessage(
        `Apply ${file} to ${target.location}?`,
        {
          modal: true,
          detail: `${summary}. The diff shows each object as it is and as the server says it will be (server-side apply, field manager mlops).`,
        },
        'Apply',
      );
      previews.delete(before.toString());
      if (answer !== 'Apply') return;
      log.info(`deployments: applying ${file} to ${target.location}: ${summary}`);
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Applying ${file} to ${target.location}` },
        () => target.applyObjects(objects, false),
      );
      previews.delete(after.toString());
      deployments.refresh();
      void vscode.window.showInformationMessage(`Applied ${file} to ${target.location}: ${summary}.`);
    }),
  );
}

/** The documents of a YAML file; a parse error names the file and the line. */
async function parseManifests(text: string, file: string): Promise<KubernetesObject[]> {
  const { loadAllYaml } = await import('@kubernetes/client-node');
  let documents: unknown[];
  try {
    documents = loadAllYaml(text);
  } catch (error) {
    const mark = (error as { mark?: { line?: number } }).mark;
    throw new MlopsError(
      `${file} is not valid YAML${mark?.line !== undefined ? ` (line ${mark.line + 1})` : ''}: ${(error as { reason?: string }).reason ?? describeError(error)}.`,
    );
  }
  const objects = documents.filter((doc): doc is KubernetesObject => typeof doc === 'object' && doc !== null);
  if (!objects.length) throw new MlopsError(`${file} holds no Kubernetes object.`);
  return objects;
}

async function pickKubernetesTarget(configs: TargetConfig[]): Promise<TargetConfig | undefined> {
  const clusters = configs.filter((config) => config.kind === 'kubernetes');
  if (!clusters.length) {
    const choice = await vscode.window.showInformationMessage(
      'No Kubernetes target is set up yet.',
      'Add Kubernetes Target…',
    );
    if (choice) await vscode.commands.executeCommand('mlops.addKubernetesTarget');
    return undefined;
  }
  if (clusters.length === 1) return clusters[0];
  const picked = await vscode.window.showQuickPick(
    clusters.map((config) => ({
      label: `$(cloud) ${config.name}`,
      description: `${config.kubernetes?.context || 'current context'} · ${config.kubernetes?.namespace || 'its namespace'}`,
      config,
    })),
    { title: 'Apply to which cluster?', ignoreFocusOut: true },
  );
  return picked?.config;
}
