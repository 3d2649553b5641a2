import * as vscode from 'vscode';

/** What a tree view shows: its nodes, and how each one looks. */
export interface TreeSource<T> {
  children(parent?: T): Promise<T[]>;
  item(node: T): vscode.TreeItem;
}

/** A source for a view whose area has nothing to show yet: VS Code then shows its welcome content. */
export const noItems: TreeSource<never> = {
  children: async () => [],
  item: () => new vscode.TreeItem(''),
};

class RefreshableTree<T> implements vscode.TreeDataProvider<T> {
  private readonly changed = new vscode.EventEmitter<T | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly source: TreeSource<T>) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: T): vscode.TreeItem {
    return this.source.item(node);
  }

  getChildren(parent?: T): Promise<T[]> {
    return this.source.children(parent);
  }
}

/** Registers a tree view and its refresh command. */
export function registerTree<T>(
  context: vscode.ExtensionContext,
  viewId: string,
  refreshCommand: string,
  source: TreeSource<T>,
): { view: vscode.TreeView<T>; refresh(): void } {
  const provider = new RefreshableTree(source);
  const view = vscode.window.createTreeView(viewId, { treeDataProvider: provider, showCollapseAll: true });
  context.subscriptions.push(view, vscode.commands.registerCommand(refreshCommand, () => provider.refresh()));
  return { view, refresh: () => provider.refresh() };
}
