// A minimal stand-in for the `vscode` module: enough API surface for the tree providers, command
// handlers and documents. UI calls are recorded in `calls` and answered from `answers` in order.
import Module from 'node:module';

export const calls: { fn: string; args: unknown[] }[] = [];
export const answers: unknown[] = [];

export function reset(...queued: unknown[]): void {
  calls.length = 0;
  answers.length = 0;
  answers.push(...queued);
}

function recorded(fn: string) {
  return async (...args: unknown[]) => {
    calls.push({ fn, args });
    return answers.shift();
  };
}

export function callsTo(fn: string): unknown[][] {
  return calls.filter((c) => c.fn === fn).map((c) => c.args);
}

class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  event = (l: (e: T) => void) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T) {
    for (const l of this.listeners) l(e);
  }
}

class Uri {
  constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query: string,
  ) {}
  static from(c: { scheme: string; path?: string; query?: string }) {
    return new Uri(c.scheme, c.path ?? '', c.query ?? '');
  }
  static file(p: string) {
    return new Uri('file', p, '');
  }
  get fsPath() {
    return this.path;
  }
  toString() {
    return `${this.scheme}:${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  contextValue?: string;
  command?: { command: string; arguments?: unknown[] };
  constructor(
    readonly label: string,
    readonly collapsibleState: number,
  ) {}
}

class ThemeColor {
  constructor(readonly id: string) {}
}
class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}
class MarkdownString {
  isTrusted?: boolean;
  supportHtml?: boolean;
  constructor(readonly value: string) {}
}

export const vscodeStub = {
  EventEmitter,
  Uri,
  TreeItem,
  ThemeColor,
  ThemeIcon,
  MarkdownString,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  window: {
    /** Set by a test to `{ document: { uri } }` for the handlers that act on the active editor. */
    activeTextEditor: undefined as unknown,
    showInputBox: recorded('showInputBox'),
    showQuickPick: recorded('showQuickPick'),
    showWarningMessage: recorded('showWarningMessage'),
    showErrorMessage: recorded('showErrorMessage'),
    showInformationMessage: recorded('showInformationMessage'),
    showTextDocument: recorded('showTextDocument'),
  },
  workspace: {
    openTextDocument: async (uri: Uri) => {
      calls.push({ fn: 'openTextDocument', args: [uri] });
      return { uri };
    },
  },
  commands: { executeCommand: recorded('executeCommand') },
};

// Serve the stub to every `require('vscode')` from here on.
const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const original = loader._load;
loader._load = function (request: string, ...rest: unknown[]) {
  return request === 'vscode' ? vscodeStub : original.call(this, request, ...rest);
};
