/** Errors of the lab, each with a code callers can branch on (never on the message). */

export type LabErrorCode =
  | 'not-root' // the lab needs root: namespaces, mounts, nftables
  | 'bad-id' // a lab id that cannot prefix namespace and interface names
  | 'bad-fleet' // the fleet cannot be turned into a lab (name clash, no machines)
  | 'not-found' // no lab with that id on this machine
  | 'unknown-host' // a host name the lab does not have
  | 'command-failed' // a command on the machine (ip, nft, mount...) failed
  | 'timeout' // a server did not become ready in time
  | 'default-route' // a lab namespace has a default route: traffic could leave the machine
  | 'bad-fault' // a fault kind or target that does not make sense
  | 'leftover'; // teardown found something still alive

export class LabError extends Error {
  override name = 'LabError';
  constructor(
    readonly code: LabErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The CLI's exit code: 2 when the operator asked for something wrong, else 3. */
  get exitCode(): number {
    return INPUT_ERRORS.has(this.code) ? 2 : 3;
  }
}

const INPUT_ERRORS: ReadonlySet<LabErrorCode> = new Set(['not-root', 'bad-id', 'bad-fleet', 'not-found', 'unknown-host', 'bad-fault']);
