// Registry credentials in VS Code's SecretStorage: set with a command, read by deploys before the
// Docker config. They never go into settings or logs.
import * as vscode from 'vscode';
import { guardedCommand } from '../../host/guardedCommand';
import { setting } from '../../host/settings';
import type { Logger } from '../../shared/logger';
import { normalizeRegistry, registryHost } from './imageReference';
import { credentialsFor, storedCredentials, type RegistryCredentials } from './registryAuth';

const secretKey = (registry: string) => `mlops.registry:${registryHost(registry)}`;

/** Credentials for a registry: SecretStorage first, then the user's Docker config and its helpers. */
export function registryCredentials(
  secrets: vscode.SecretStorage,
): (registry: string) => Promise<RegistryCredentials | undefined> {
  return (registry) =>
    credentialsFor(registry, {
      fromSecrets: async (host) => {
        const stored = await secrets.get(secretKey(host));
        if (!stored) return undefined;
        return storedCredentials(stored, host);
      },
    });
}

export function registerRegistryCommands(context: vscode.ExtensionContext, log: Logger & { show(): void }): void {
  context.subscriptions.push(
    guardedCommand('mlops.setRegistryCredentials', log, async () => {
      const registry = await vscode.window.showInputBox({
        title: 'Registry credentials (1/3): registry',
        prompt: 'The registry host, as in image names',
        value: setting('registry', ''),
        placeHolder: 'registry.example.com:5000',
        ignoreFocusOut: true,
        validateInput: (value) => {
          try {
            normalizeRegistry(value);
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
      if (!registry) return;
      const username = await vscode.window.showInputBox({
        title: 'Registry credentials (2/3): user name',
        ignoreFocusOut: true,
      });
      if (!username) return;
      const password = await vscode.window.showInputBox({
        title: `Registry credentials (3/3): password or token for ${username}`,
        password: true,
        ignoreFocusOut: true,
      });
      if (!password) return;
      await context.secrets.store(secretKey(registry), JSON.stringify({ username, password }));
      void vscode.window.showInformationMessage(
        `Credentials for ${registryHost(registry)} are kept in VS Code's secret storage.`,
      );
    }),
  );
}
