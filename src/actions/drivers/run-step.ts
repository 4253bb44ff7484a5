/** Runs one driver command; a non-zero exit becomes a `ServiceDriverError` with the output's tail. */
import type { Remote, RunResult } from '../../remote/remote.ts';
import { ServiceDriverError } from './driver.ts';

export async function runStep(remote: Remote, service: string, command: string, timeoutMs: number): Promise<RunResult> {
  const result = await remote.run(command, { timeoutMs });
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' | ');
    throw new ServiceDriverError('command-failed', service, `${remote.machine}: \`${command}\` exited ${result.code ?? result.signal}${tail ? `: ${tail}` : ''}`);
  }
  return result;
}
