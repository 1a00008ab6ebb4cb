import { execFile } from 'node:child_process';

/**
 * Checks that the configured binary runs, before the language client starts it. Resolves to
 * null when it does, else to a message saying what is wrong and how to fix it.
 */
export function preflight(binary: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve(null);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        return resolve(
          `Switchboard: the "${binary}" binary was not found. Install it (\`cargo install --path .\` in the ` +
            'Switchboard repository) or set "switchboard.path" to its full path.',
        );
      }
      if (code === 'EACCES') {
        return resolve(`Switchboard: "${binary}" is not executable; fix its permissions or "switchboard.path".`);
      }
      resolve(
        `Switchboard: "${binary} --version" failed (${stderr.trim() || err.message}); ` +
          'check "switchboard.path" and the Switchboard output.',
      );
    });
  });
}
