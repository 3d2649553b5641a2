import * as vscode from 'vscode';

/** Reads an `mlops.*` setting for the first workspace folder. */
export function setting<T>(key: string, fallback: T): T {
  return vscode.workspace.getConfiguration('mlops', vscode.workspace.workspaceFolders?.[0]).get<T>(key, fallback);
}

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}
