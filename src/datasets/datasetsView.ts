// The Datasets view: the data files of the workspace, found without reading them.
import { posix } from 'node:path';
import * as vscode from 'vscode';
import type { TreeSource } from '../host/treeView';
import { DATASET_GLOB, DISCOVERY_EXCLUDE_GLOB, formatBytes, isDatasetFileName } from './discovery';

const MAX_DATASETS = 5000;

interface DatasetFile {
  uri: vscode.Uri;
  size: number;
}

export const datasetsSource: TreeSource<DatasetFile> = {
  async children(parent) {
    if (parent) return [];
    const uris = await vscode.workspace.findFiles(DATASET_GLOB, DISCOVERY_EXCLUDE_GLOB, MAX_DATASETS);
    const files = await Promise.all(
      uris
        .filter((uri) => isDatasetFileName(posix.basename(uri.path)))
        .map(async (uri) => ({ uri, size: (await vscode.workspace.fs.stat(uri)).size })),
    );
    return files.sort((a, b) => vscode.workspace.asRelativePath(a.uri).localeCompare(vscode.workspace.asRelativePath(b.uri)));
  },
  item({ uri, size }) {
    const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.None);
    const folder = posix.dirname(vscode.workspace.asRelativePath(uri, false));
    item.description = folder === '.' ? formatBytes(size) : `${formatBytes(size)} · ${folder}`;
    item.tooltip = `${uri.fsPath}\n${formatBytes(size)}`;
    item.iconPath = new vscode.ThemeIcon('table');
    item.contextValue = 'mlops.datasetFile';
    item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
    return item;
  },
};

/** Refreshes the view when dataset files appear, change size or go away; bursts are coalesced. */
export function watchDatasets(refresh: () => void): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher(DATASET_GLOB);
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  };
  watcher.onDidCreate(schedule);
  watcher.onDidChange(schedule);
  watcher.onDidDelete(schedule);
  return { dispose: () => (clearTimeout(timer), watcher.dispose()) };
}
