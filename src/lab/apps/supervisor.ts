/**
 * How the lab runs a stand-in under supervisor inside a host. The repo is mounted read-only
 * at `/lifeboat` in every lab host; the stand-ins run from their pre-built bundle
 * (bundle.ts), whose npm imports resolve from /lifeboat/node_modules.
 */
import { BUNDLE_DIR, BUNDLE_FILE } from './bundle.ts';
import type { ServiceName } from './config.ts';

export const LAB_REPO_MOUNT = '/lifeboat';

export interface SupervisorProgram {
  /** The fleet's service name: lifeboat's supervisor driver addresses the program by it. */
  name: string;
  command: string;
  directory: string;
}

const node = (repoRoot: string) => `/usr/bin/node ${repoRoot}/${BUNDLE_DIR}/${BUNDLE_FILE}`;

/** One of the seed's richer variants, named as the seed's service. */
export function supervisorProgram(service: ServiceName, repoRoot = LAB_REPO_MOUNT): SupervisorProgram {
  return { name: service, command: `${node(repoRoot)} ${service}`, directory: repoRoot };
}

/** The generic stand-in for `service`, configured by the spec the lab wrote beside it. */
export function genericProgram(service: string, specFile: string, repoRoot = LAB_REPO_MOUNT): SupervisorProgram {
  return { name: service, command: `${node(repoRoot)} --spec ${specFile}`, directory: repoRoot };
}
