// A quick pick with an item highlighted first (showQuickPick always highlights the first).
import * as vscode from 'vscode';

export function pickOne<T extends vscode.QuickPickItem>(
  items: T[],
  options: { title: string; placeholder: string; active?: T | undefined },
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const quickPick = vscode.window.createQuickPick<T>();
    quickPick.title = options.title;
    quickPick.placeholder = options.placeholder;
    quickPick.items = items;
    quickPick.matchOnDescription = true;
    quickPick.matchOnDetail = true;
    quickPick.ignoreFocusOut = true;
    if (options.active) quickPick.activeItems = [options.active];
    let accepted: T | undefined;
    quickPick.onDidAccept(() => {
      accepted = quickPick.selectedItems[0] ?? quickPick.activeItems[0];
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      resolve(accepted);
      quickPick.dispose();
    });
    quickPick.show();
  });
}
