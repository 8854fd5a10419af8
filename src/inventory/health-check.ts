// A VIP's health path and the statuses that count as healthy for it. The
// path is sent in a request line, so it is held to a strict grammar: no
// spaces, no control characters (no header injection), visible ASCII only.
import type { LbViewSpec } from '../checklist/lb-view.js';
import type { StatusRange } from '../checklist/observation.js';

export class HealthCheckSyntaxError extends Error {
  override name = 'HealthCheckSyntaxError';
}

export function parseHttpPath(text: string): string {
  if (!/^\/[\x21-\x7e]{0,255}$/.test(text)) {
    throw new HealthCheckSyntaxError(
      'httpPath must start with "/" and hold only visible ASCII without spaces (at most 256 characters), ' +
        `not ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/** "200", "200-399" or "200–399". */
export function parseStatusRange(text: string): StatusRange {
  const m = /^\s*([1-5]\d\d)\s*(?:[-–]\s*([1-5]\d\d))?\s*$/.exec(text);
  const min = Number(m?.[1]);
  const max = m?.[2] === undefined ? min : Number(m[2]);
  if (!m || max < min) {
    throw new HealthCheckSyntaxError(
      `expectStatus must be a status or a range like 200-399, not ${JSON.stringify(text)}`,
    );
  }
  return { min, max };
}

const ABSOLUTE_PATH = /^\/[A-Za-z0-9._/-]{1,255}$/;
const BACKEND = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * `lbView: {kind: haproxy, socket: /run/haproxy/admin.sock, backend: web}` | `{kind: iptables}` |
 * `{kind: nginx, config?: /etc/nginx/nginx.conf}`.
 */
export function parseLbView(fields: Record<string, string | undefined>): LbViewSpec {
  const { kind, socket, backend, config } = fields;
  if (kind === 'iptables') return { kind };
  if (kind === 'nginx') {
    if (config !== undefined && !ABSOLUTE_PATH.test(config))
      throw new HealthCheckSyntaxError(`lbView config must be an absolute path, not ${JSON.stringify(config)}`);
    return config ? { kind, config } : { kind };
  }
  if (kind === 'haproxy') {
    if (!socket || !ABSOLUTE_PATH.test(socket))
      throw new HealthCheckSyntaxError('lbView kind haproxy needs socket: the absolute path of its stats socket');
    if (!backend || !BACKEND.test(backend))
      throw new HealthCheckSyntaxError("lbView kind haproxy needs backend: the name of the VIP's backend");
    return { kind, socket, backend };
  }
  throw new HealthCheckSyntaxError(`lbView kind must be haproxy, iptables or nginx, not ${JSON.stringify(kind)}`);
}
