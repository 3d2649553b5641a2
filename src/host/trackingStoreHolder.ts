// The tracking store the Experiments view reads: opened on first use from the mlops.trackingUri
// setting, MLFLOW_TRACKING_URI or the workspace, and reopened when any of those change. A
// tracking server gets the token kept for its own origin, never one set for another server.
import * as vscode from 'vscode';
import { setting, userSetting, workspaceRoot } from './settings';
import type { TrackingStore } from '../experiments/model';
import { locateStore, openStore, type LocatedStore } from '../experiments/storeLocator';
import { trackingCredentials } from '../experiments/trackingAuth';
import { migrateUnkeyedSecret } from '../shared/hostSecrets';
import type { Logger } from '../shared/logger';

export class StoreHolder implements vscode.Disposable {
  private opened: Promise<{ store: TrackingStore; located: LocatedStore } | undefined> | undefined;
  private migrated: Promise<void> | undefined;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Logger,
  ) {}

  async current(): Promise<{ store: TrackingStore; located: LocatedStore } | undefined> {
    this.opened ??= this.open();
    return this.opened;
  }

  /** Moves a token kept before tokens were per host to the server of the user's own settings, once. */
  migrateToken(): Promise<void> {
    this.migrated ??= migrateUnkeyedSecret(
      this.secrets,
      'trackingToken',
      userSetting<string>('trackingUri') || process.env.MLFLOW_TRACKING_URI,
      this.log,
    ).catch((error: unknown) =>
      this.log.warn(`secrets: the tracking token could not be moved: ${(error as Error).message}`),
    );
    return this.migrated;
  }

  private async open(): Promise<{ store: TrackingStore; located: LocatedStore } | undefined> {
    const located = locateStore({
      setting: setting('trackingUri', ''),
      env: process.env,
      workspaceRoot: workspaceRoot(),
    });
    if (!located) return undefined;
    await this.migrateToken();
    const credentials = await trackingCredentials(located.uri, { env: process.env, secrets: this.secrets });
    const store = openStore(located.uri, { base: workspaceRoot(), rest: { ...credentials, timeoutMs: 15_000 } });
    return { store, located };
  }

  /** Closes the store so that the next read reopens it from the current settings. */
  async reset(): Promise<void> {
    const previous = this.opened;
    this.opened = undefined;
    const current = await previous?.catch(() => undefined);
    await current?.store.close();
  }

  dispose(): void {
    void this.reset();
  }
}
