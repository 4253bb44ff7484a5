/** The real CLI as an operator runs it: a child process, its exit code, stdout and stderr. */
import { execFile } from 'node:child_process';

const cli = new URL('../../bin/lifeboat.mjs', import.meta.url).pathname;

export function lifeboat(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The `ssh:` block of a fleet file that reaches a test sshd on 127.0.0.1. */
export function sshBlock(o: { port: number; identityFile: string; knownHosts: string; connectTimeoutMs?: number }): string {
  return `ssh:
  user: root
  port: ${o.port}
  identity: file:${o.identityFile}
  knownHosts: ${o.knownHosts}
${o.connectTimeoutMs ? `  connectTimeoutMs: ${o.connectTimeoutMs}\n` : ''}`;
}
