/**
 * How the lab runs a stand-in under supervisor inside a host. The repo is mounted read-only
 * at `/lifeboat` in every lab host; the stand-ins run from their pre-built bundle
 * (bundle.ts), whose npm imports resolve from /lifeboat/node_modules.
 */
import { BUNDLE_DIR, BUNDLE_FILE } from './bundle.ts';
import type { ServiceName } from './config.ts';

export const LAB_REPO_MOUNT = '/lifeboat';

export interface SupervisorProgram {
  name: ServiceName;
  command: string;
  directory: string;
}

export function supervisorProgram(service: ServiceName, repoRoot = LAB_REPO_MOUNT): SupervisorProgram {
  return {
    name: service,
    command: `/usr/bin/node ${repoRoot}/${BUNDLE_DIR}/${BUNDLE_FILE} ${service}`,
    directory: repoRoot,
  };
}
