import * as vscode from 'vscode';

/** Reads an `mlops.*` setting for the first workspace folder. */
export function setting<T>(key: string, fallback: T): T {
  return vscode.workspace.getConfiguration('mlops', vscode.workspace.workspaceFolders?.[0]).get<T>(key, fallback);
}

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** The user's own value of an `mlops.*` setting (user settings), never one a workspace sets. */
export function userSetting<T>(key: string): T | undefined {
  return vscode.workspace.getConfiguration('mlops').inspect<T>(key)?.globalValue;
}
