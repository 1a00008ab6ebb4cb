// VS Code wiring: starts `switchboard lsp`, registers views, commands and documents.
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions } from 'vscode-languageclient/node';
import type { SwitchboardApi } from './api';
import { CommandHandlers, Commands, reportingErrors, errorText } from './commands';
import { GIT_SCHEME, GitRevisionDocuments, runGit, THREAD_SCHEME, ThreadDocuments } from './documents';
import { unreadStatusText } from './format';
import { preflight } from './preflight';
import { Claim, Methods, ServerCommands, StateChanged, StateResult, Thread, WorktreeDiff } from './protocol';
import { Refresher } from './refresher';
import { serverExecutable } from './server';
import { ClaimsTree, MessagesTree, SbNode, SessionsTree, WorktreesTree } from './trees';

let client: LanguageClient | undefined;

function lspApi(): SwitchboardApi {
  const c = () => {
    if (!client?.isRunning()) throw new Error('the Switchboard language server is not running; see the Switchboard output');
    return client;
  };
  const run = (command: string) => (arg: object) =>
    c().sendRequest('workspace/executeCommand', { command, arguments: [arg] });
  return {
    state: () => c().sendRequest<StateResult>(Methods.state, {}),
    thread: (thread, repo) => c().sendRequest<Thread>(Methods.thread, { thread, repo }),
    worktreeDiff: (name, repo) => c().sendRequest<WorktreeDiff>(Methods.worktree, { name, repo }),
    send: run(ServerCommands.send),
    reply: run(ServerCommands.reply),
    markRead: run(ServerCommands.markRead),
    ack: run(ServerCommands.ack),
    endSession: run(ServerCommands.endSession),
    createWorktree: run(ServerCommands.createWorktree),
    removeWorktree: run(ServerCommands.removeWorktree),
    mergeWorktree: run(ServerCommands.mergeWorktree),
    claim: (args) => run(ServerCommands.claim)(args) as Promise<Claim[]>,
    release: (args) => run(ServerCommands.release)(args) as Promise<Claim[]>,
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Switchboard', { log: true });
  const api = lspApi();
  const sessions = new SessionsTree();
  const messages = new MessagesTree();
  const worktrees = new WorktreesTree();
  const claims = new ClaimsTree();
  let latest: StateResult | undefined;

  const messagesView = vscode.window.createTreeView('switchboard.messages', { treeDataProvider: messages });
  const status = vscode.window.createStatusBarItem('switchboard.unread', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Switchboard unread messages';
  status.command = Commands.showMessages;
  const threads = new ThreadDocuments(api);

  const refresher = new Refresher(
    () => api.state(),
    (state) => {
      latest = state;
      sessions.update(state);
      messages.update(state);
      worktrees.update(state);
      claims.update(state);
      const unread = messages.unread();
      status.text = unreadStatusText(unread);
      status.tooltip = `${unread} unread Switchboard message(s) — click to open`;
      status.show();
      messagesView.badge = unread > 0 ? { value: unread, tooltip: `${unread} unread` } : undefined;
    },
    (e) => output.error(`loading state failed: ${errorText(e)}`),
  );

  const handlers = new CommandHandlers(
    api,
    () => latest?.repos[0]?.root,
    () => latest,
  );
  const on = <A extends unknown[]>(id: string, run: (...args: A) => Promise<void>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, reportingErrors(run)));
  on(Commands.newMessage, (n?: SbNode) => handlers.newMessage(n));
  on(Commands.messageAgent, (n: SbNode) => handlers.newMessage(n));
  on(Commands.openThread, (n: SbNode) => handlers.openThread(n));
  on(Commands.replyToMessage, (n: SbNode) => handlers.replyToMessage(n));
  on(Commands.markMessagesRead, (n: SbNode) => handlers.markMessagesRead(n));
  on(Commands.ackMessage, (n: SbNode) => handlers.ackMessage(n));
  on(Commands.stopSession, (n: SbNode) => handlers.stopSession(n));
  on(Commands.sessionDiff, (n: SbNode) => handlers.sessionDiff(n));
  on(Commands.newWorktree, (n?: SbNode) => handlers.newWorktree(n));
  on(Commands.openWorktree, (n: SbNode) => handlers.openWorktree(n));
  on(Commands.worktreeDiff, (n: SbNode) => handlers.worktreeDiff(n));
  on(Commands.worktreeMerge, (n: SbNode) => handlers.worktreeMerge(n));
  on(Commands.worktreeRemove, (n: SbNode) => handlers.worktreeRemove(n));
  on(Commands.claimFile, (uri?: vscode.Uri) => handlers.claimFile(uri));
  on(Commands.claimPaths, () => handlers.claimPaths());
  on(Commands.releaseClaim, (n?: SbNode) => handlers.releaseClaim(n));
  on(Commands.showMessages, async () => {
    await vscode.commands.executeCommand('switchboard.messages.focus');
  });
  on(Commands.showOutput, async () => output.show());

  context.subscriptions.push(
    output,
    status,
    messagesView,
    vscode.window.createTreeView('switchboard.sessions', { treeDataProvider: sessions }),
    vscode.window.createTreeView('switchboard.worktrees', { treeDataProvider: worktrees }),
    vscode.window.createTreeView('switchboard.claims', { treeDataProvider: claims }),
    vscode.workspace.registerTextDocumentContentProvider(THREAD_SCHEME, threads),
    vscode.workspace.registerTextDocumentContentProvider(GIT_SCHEME, new GitRevisionDocuments(runGit)),
    vscode.workspace.onDidCloseTextDocument((d) => {
      if (d.uri.scheme === THREAD_SCHEME) threads.forget(d.uri);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('switchboard.path')) {
        await stopClient();
        await startClient();
      }
    }),
  );

  async function startClient(): Promise<void> {
    const binary = vscode.workspace.getConfiguration('switchboard').get<string>('path') || 'switchboard';
    const problem = await preflight(binary);
    if (problem) {
      output.error(problem);
      // Not awaited: activation must not wait for the user to answer (the views would show
      // "activating" until then).
      void vscode.window.showErrorMessage(problem, 'Open Settings', 'Show Output').then(async (action) => {
        if (action === 'Open Settings') {
          await vscode.commands.executeCommand('workbench.action.openSettings', 'switchboard.path');
        } else if (action === 'Show Output') {
          output.show();
        }
      });
      return;
    }
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const server = serverExecutable(binary, cwd);
    output.info(`starting \`${binary} lsp\` in ${cwd ?? 'no folder'}`);
    const options: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      outputChannel: output,
      middleware: {
        // Code lenses carry `switchboard.showDiff {worktree}`: show it in the diff editor.
        executeCommand: async (command, args, next) => {
          if (command === ServerCommands.showDiff && typeof args[0]?.worktree === 'string') {
            return reportingErrors(() => handlers.showDiff(args[0].worktree, args[0].repo ?? undefined))();
          }
          return next(command, args);
        },
      },
    };
    client = new LanguageClient('switchboard', 'Switchboard', server, options);
    client.onNotification(Methods.stateChanged, (note: StateChanged) => {
      output.debug(`stateChanged v${note.version} ${note.repo}: ${note.changed.join(', ')}`);
      void refresher.trigger();
      if (note.changed.includes('messages')) threads.refresh();
    });
    try {
      await client.start();
    } catch (e) {
      const msg = `Switchboard: \`${binary} lsp\` failed to start: ${errorText(e)}`;
      output.error(msg);
      void vscode.window.showErrorMessage(msg, 'Show Output').then((a) => a && output.show());
      return;
    }
    await refresher.trigger();
  }

  await startClient();
}

async function stopClient(): Promise<void> {
  const c = client;
  client = undefined;
  if (c?.isRunning()) await c.stop();
}

export function deactivate(): Promise<void> {
  return stopClient();
}
