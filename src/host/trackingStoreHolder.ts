// The tracking store the Experiments view reads: opened on first use from the mlops.trackingUri
// setting, MLFLOW_TRACKING_URI or the workspace, and reopened when any of those change.
import * as vscode from 'vscode';
import { setting, workspaceRoot } from './settings';
import type { TrackingStore } from '../experiments/model';
import { locateStore, openStore, type LocatedStore } from '../experiments/storeLocator';

export const TOKEN_SECRET = 'mlops.trackingToken';

export class StoreHolder implements vscode.Disposable {
  private opened: Promise<{ store: TrackingStore; located: LocatedStore } | undefined> | undefined;

  constructor(private readonly secrets: vscode.SecretStorage) {}

  async current(): Promise<{ store: TrackingStore; located: LocatedStore } | undefined> {
    this.opened ??= this.open();
    return this.opened;
  }

  private async open(): Promise<{ store: TrackingStore; located: LocatedStore } | undefined> {
    const located = locateStore({ setting: setting('trackingUri', ''), env: process.env, workspaceRoot: workspaceRoot() });
    if (!located) return undefined;
    const token = process.env.MLFLOW_TRACKING_TOKEN || (await this.secrets.get(TOKEN_SECRET));
    const store = openStore(located.uri, {
      base: workspaceRoot(),
      rest: { token, username: process.env.MLFLOW_TRACKING_USERNAME, password: process.env.MLFLOW_TRACKING_PASSWORD, timeoutMs: 15_000 },
    });
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
