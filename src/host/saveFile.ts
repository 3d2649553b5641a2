import * as vscode from 'vscode';

export interface SaveRequest {
  title: string;
  /** Suggested name, in the first workspace folder when there is one. */
  fileName: string;
  filters: Record<string, string[]>;
}

/** Asks where to save; undefined when the user cancels. For files that something else writes. */
export function askSaveLocation(request: SaveRequest): Thenable<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return vscode.window.showSaveDialog({
    title: request.title,
    defaultUri: folder ? vscode.Uri.joinPath(folder, request.fileName) : undefined,
    filters: request.filters,
  });
}

/** Asks where to save, then writes what `content` produces; undefined when the user cancels. */
export async function saveWithDialog(
  request: SaveRequest,
  content: () => Promise<Uint8Array> | Uint8Array,
): Promise<vscode.Uri | undefined> {
  const uri = await askSaveLocation(request);
  if (!uri) return undefined;
  await vscode.workspace.fs.writeFile(uri, await content());
  return uri;
}
