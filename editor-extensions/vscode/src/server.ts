import type { Executable } from 'vscode-languageclient/node';

/**
 * How the language client starts `switchboard lsp`: over stdio, with no `transport` set. With
 * `TransportKind.stdio` vscode-languageclient appends `--stdio` to the arguments, which
 * `switchboard lsp` before 0.1 rejected (it always speaks stdio), so the server exited at once.
 */
export function serverExecutable(binary: string, cwd: string | undefined): Executable {
  return { command: binary, args: ['lsp'], options: { cwd } };
}
