// The machine-readable report (in the model: imports nothing): a stable, versioned contract (README "Report
// format"). Add fields freely; renaming or removing one needs a new
// schemaVersion.

export const SCHEMA_VERSION = 1;

export type Verdict = 'pass' | 'fail' | 'warn' | 'skipped' | 'inconclusive';
export type Culprit =
  'none' | 'path-to-lb' | 'impostor' | 'lb' | 'lb-to-servers' | 'servers' | 'return-path' | 'inconclusive';

export interface EvidenceRef {
  name: string;
  sha256: string;
  bytes: number;
  mediaType: string;
}

interface StepBase {
  verdict: Verdict;
  summary: string;
  evidence: EvidenceRef[];
  ms: number;
}

export interface ReachStep extends StepBase {
  step: 1;
  name: 'reach';
  outcome: 'connected' | 'refused' | 'timeout' | 'unreachable' | null;
  errno?: string;
  /** How a refusal arrived, when a capture shows it. */
  refusedBy?: 'tcp-reset' | 'icmp' | null;
  lbSawSyn: boolean | null;
  answeredBy: 'lb' | 'other' | 'none' | null;
  /** Source of the answer when it was not the LB (e.g. the ICMP sender). */
  answerFrom?: string;
  /** Why the LB capture may be missing packets, when it may (a cap hit, kernel drops): step 1 is then inconclusive. */
  captureGap?: string;
  probe: { from: string; sourcePort: number };
  /** An HA group's nodes: which saw the probe's SYN (null: no capture) and which hold the VIP (null: unknown). */
  nodes?: { name: string; sawSyn: boolean | null; ownsVip: boolean | null; error?: string }[];
  /** The node of an HA group that handled the probe; steps 2 and 3 ran there. */
  handledBy?: string;
  /** What step 1 found about an HA group (machine-readable; the summary says it in words). */
  finding?: ReachFinding;
  /**
   * The client had to send its SYN again and the LB's complete capture shows fewer than it sent: packets lost on
   * the way to the LB (the connection still got through, late).
   */
  lostBeforeLb?: { sent: number; seen: number };
  /**
   * The LB answered the SYN (its SYN-ACK left it toward the client) and the client never completed the connection:
   * how many answers the LB sent, and how many reached this machine (null: no capture here).
   */
  answerLost?: {
    sentByLb: number;
    seenHere: number | null;
    /** lost: never arrived here; dropped-here: arrived in time, went no further; late: after the client gave up. */
    fate: 'lost' | 'dropped-here' | 'late';
  };
  /**
   * The probe's SYN never left this machine (its own firewall, routing or policy stopped it): the LB was never
   * asked. proof: this machine's complete capture shows no SYN leaving, or an errno only its own kernel gives.
   */
  blockedHere?: { proof: 'capture' | 'errno'; errno?: string };
}

export type ReachFinding = 'split-brain' | 'vip-on-no-node' | 'vip-on-wrong-node' | 'failed-over';

export type Behaviour = 'http-response' | 'reset' | 'closed' | 'silent' | 'non-http' | 'refused' | 'not-connected';

export interface ModeStep extends StepBase {
  step: 2;
  name: 'mode';
  mode: 'L4' | 'L7' | 'unknown';
  proxyKind: 'tcp' | 'http' | null;
  behaviour: Behaviour;
  httpStatus?: number;
  fingerprint?: string;
  timings: { connectMs?: number; firstByteMs?: number; endMs?: number };
  /** Pool members seen in the capture (server-side connections for this probe). */
  serverSide: {
    address: string;
    port: number;
    sameIsn: boolean;
    answered: boolean;
    sourceIsClient: boolean;
    /** How the connection is tied to the probe (isn: the client's SYN passed on; marker; timing: a failed attempt). */
    tiedBy?: 'isn' | 'marker' | 'timing';
    /** Payload bytes the server sent the LB on this connection, as the LB's capture saw them. */
    responseBytes?: number;
    /** The largest payload of one packet from the server that the LB's capture saw. */
    largestSegment?: number;
  }[];
  /** How the VIP's response body went (read to its end, bounded; see MemberProbe.body). */
  body?: ProbeBody;
  tls?: TlsFacts;
  /** The mechanism step 2 found, when it found one (machine-readable; the summary says it in words). */
  finding?: ModeFinding;
  /** An MTU black hole's trace: full-size segments the LB sent again and again, never acknowledged. */
  stalledSegments?: { segments: number; sends: number; largest: number; spanMs: number; smallReplyOk: boolean };
}

/** Whether the certificate's chain verifies against the CAs clients are taken to trust (the name is judged apart). */
export interface TlsTrust {
  authorized: boolean;
  /** OpenSSL's reason when it does not (e.g. DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  error?: string;
  /** Which CAs: the CA bundle the inventory (caFile) or --ca-file named, else the system's. */
  store: string;
}

export interface TlsFacts {
  subject: string;
  issuer: string;
  validFrom?: string;
  validTo: string;
  /** DNS names the certificate is valid for (subjectAltName, else the CN). */
  names?: string[];
  protocol: string;
  sni: string;
  /** Absent in reports from before it was recorded. */
  trust?: TlsTrust;
}

export type ModeFinding =
  | 'not-reached'
  | 'vip-refused'
  | 'syn-dropped-on-lb'
  | 'not-forwarding'
  | 'forwarded-unanswered'
  | 'dsr-unanswered'
  | 'tls-handshake-failed'
  | 'tls-expired'
  | 'tls-not-yet-valid'
  | 'tls-name-mismatch'
  | 'tls-expires-soon'
  | 'tls-untrusted'
  | 'mtu-black-hole'
  | 'capture-stalled'
  | 'proxy-protocol-expected'
  | 'server-error'
  | 'server-hang'
  | 'response-incomplete'
  | 'slow-response'
  | 'unexpected-status'
  | 'silent'
  | 'closed'
  | 'reset';

export type ProbeOutcome = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'not-checked';

export interface MemberProbe {
  outcome: ProbeOutcome;
  ms?: number;
  httpStatus?: number;
  code?: string;
  detail?: string;
  via?: 'direct-tcpip' | 'remote-command';
  /**
   * How the response's body went after its head (HTTP probes that got a status): `end` complete | closed-early |
   * reset | stalled | limit (the probe stopped reading at 1 MiB); `bytes` body bytes received, `expected` what
   * Content-Length promised, `lastByteMs` from the request to the last byte. Absent in reports made before bodies
   * were read.
   */
  body?: ProbeBody;
}

export interface ProbeBody {
  framing: 'content-length' | 'chunked' | 'close' | 'none';
  end: 'complete' | 'closed-early' | 'reset' | 'stalled' | 'limit';
  bytes: number;
  expected?: number;
  lastByteMs: number;
}

export interface MemberResult {
  address: string;
  direct: MemberProbe;
  fromLb: MemberProbe;
  httpStatus?: number;
  code?: string;
  /**
   * Where the member came from: the inventory / command line, seen in the capture, or the LB's own pool
   * configuration.
   */
  source: 'configured' | 'discovered' | 'lb-config';
  /**
   * For a member the LB's own connection timed out on while it answers direct probes: during a second such
   * connection, how many of its SYN-ACKs a capture on the LB saw arrive that the LB then ignored (it sent the
   * same SYN again). More than 0: its answers reach the LB, which drops them itself (host firewall, conntrack,
   * rp_filter). Absent when not looked at.
   */
  answersReachLb?: number;
  /**
   * For a member whose full response arrives directly while from the LB its body is cut short or never comes:
   * the same path asked once more from the LB with HEAD, whose reply fits in one small segment. Its completing
   * while the GET stalls is how an MTU black hole between the LB and the member shows. Absent when not asked.
   */
  smallReplyFromLb?: MemberProbe;
}

export interface ServersStep extends StepBase {
  step: 3;
  name: 'servers';
  members: MemberResult[];
  /** slow-response: every member answers whole, some slowly (the member lines give the figures). */
  finding?: 'slow-response';
  /** The LB's source address towards each member it could not reach (what a firewall must allow). */
  lbSourceAddresses?: Record<string, string>;
  /** The LB's own view of the pool, set beside the probes; `agreement` says where they agree or not. */
  lbView?: {
    source: 'haproxy' | 'iptables' | 'nginx';
    pool: { address: string; name?: string; state?: string; check?: string }[];
    snat?: boolean;
    error?: string;
    agreement: string[];
  };
}

export type Step = ReachStep | ModeStep | ServersStep;

export interface Diagnosis {
  culprit: Culprit;
  summary: string;
  team: string;
  /** Names of the evidence items that prove it. */
  evidence: string[];
  /** The mechanism, machine-readable (e.g. mtu-black-hole, server-hang, pool-drift); absent when none was named. */
  finding?: string;
  stoppedAfter?: 1 | 2 | 3;
}

export interface Report {
  schemaVersion: typeof SCHEMA_VERSION;
  id: string;
  /** lb: the LB checked (for an HA group, the node that handled the probe); lbGroup: every node of the group. */
  target: { vip: string; port: number; lb?: string; lbGroup?: string[]; name?: string; tls?: boolean };
  startedAt: string;
  finishedAt: string;
  steps: Step[];
  diagnosis: Diagnosis;
}
