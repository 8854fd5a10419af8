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
  constructor(target: string, detail: string, options?: { cause?: unknown }) {
    super(
      'unreachable',
      `cannot reach SSH on ${target} (${detail})`,
      "check the LB's management address and port, and that sshd runs and a firewall lets the worker in",
      options,
    );
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
