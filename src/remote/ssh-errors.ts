// SSH failures, typed by what the user must do about them.
import { LbcheckError } from '../errors.js';

export class HostKeyMismatchError extends LbcheckError {
  override name = 'HostKeyMismatchError';
  constructor(
    readonly target: string,
    readonly seen: string,
    readonly expected: string[],
  ) {
    super(
      'access',
      `host key of ${target} does not match the pinned key: ` +
        `the server presented ${seen}, expected ${expected.join(' or ')}; refusing to connect`,
      'if the LB was rebuilt or its key rotated, verify the new key out of band and update the pin; ' +
        'otherwise treat this as a possible man-in-the-middle',
    );
  }
}

export class HostKeyUnknownError extends LbcheckError {
  override name = 'HostKeyUnknownError';
  constructor(
    readonly target: string,
    readonly seen: string,
  ) {
    super(
      'access',
      `host key of ${target} is not pinned (the server presented ${seen}); refusing to connect`,
      `pin it with --known-hosts FILE or "hostKey: ${seen}" in the inventory ` +
        'after checking it on the LB (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub)',
    );
  }
}

export class SshAuthError extends LbcheckError {
  override name = 'SshAuthError';
  constructor(target: string, detail: string, options?: { cause?: unknown }) {
    super(
      'access',
      `SSH login to ${target} was refused (${detail})`,
      "check the user name and that the key given with --identity (or the inventory) is in the LB's authorized_keys",
      options,
    );
  }
}

export class SshUnreachableError extends LbcheckError {
  override name = 'SshUnreachableError';
  constructor(
    target: string,
    detail: string,
    options?: { cause?: unknown },
    said: { message: string; hint: string } = {
      message: `cannot reach SSH on ${target} (${detail})`,
      hint: "check the LB's management address and port, and that sshd runs and a firewall lets the worker in",
    },
  ) {
    super('unreachable', said.message, said.hint, options);
  }
}

/**
 * The SSH connection worked, then went away during the check: the address and sshd were fine a moment ago, so
 * "cannot reach" would send the reader to the wrong place. What it usually is: the path stopped passing the
 * connection's packets (an MTU black hole drops the full-size ones), or the LB or its sshd restarted.
 */
export class SshConnectionLostError extends SshUnreachableError {
  override name = 'SshConnectionLostError';
  constructor(target: string, detail: string, options?: { cause?: unknown }) {
    super(target, detail, options, {
      message: `the SSH connection to ${target} was lost during the check (${detail})`,
      hint:
        'the path between lbcheck and the LB stopped passing its packets (often full-size ones: an MTU black ' +
        'hole), or the LB or its sshd restarted; check that path, or run lbcheck from a vantage point with a ' +
        'clean path to the LB',
    });
  }
}

export class RemoteCommandError extends LbcheckError {
  override name = 'RemoteCommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    hint?: string,
  ) {
    super(
      'access',
      `remote command failed (exit ${String(exitCode)}): ${command}: ${stderr.trim().slice(0, 300)}`,
      hint,
    );
  }
}
