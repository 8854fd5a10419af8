// What makes a capture proof, kept beside its packets: where it ran, on which
// interface, with which filter, over which window, and what the kernel counted.
// An LB capture that saw nothing proves the SYN never arrived only with these
// beside it (the filter could have been wrong, the window too short, the kernel
// could have dropped the packet); the evidence files print them.

export interface CaptureFacts {
  /** Where tcpdump ran: the LB's label, or "the probing host". */
  host: string;
  /** tcpdump's -i argument ("any" or an interface name). */
  iface: string;
  /** The BPF filter tcpdump ran with. */
  filter: string;
  /** For a lease on a capture shared by checks: how this check's packets were picked from it. */
  selection?: string;
  /** When tcpdump reported listening (or the lease began), µs since the epoch on this process's clock. */
  startedAtUs: number;
  /** When this view of the capture was taken or the capture stopped, µs since the epoch. */
  endedAtUs?: number;
  /** tcpdump's own counts at its exit (or over the lease); null when it did not report them. */
  receivedByFilter?: number | null;
  droppedByKernel?: number | null;
}

export interface ExitCounts {
  captured: number | null;
  receivedByFilter: number | null;
  droppedByKernel: number | null;
}

const count = (text: string, what: RegExp): number | null => {
  const all = [...text.matchAll(what)];
  const last = all[all.length - 1];
  return last?.[1] !== undefined ? Number(last[1]) : null;
};

/** tcpdump's counts as printed at exit (one per line) or on SIGUSR1 (one line); the last of each wins. */
export function exitCounts(stderr: string): ExitCounts {
  return {
    captured: count(stderr, /(\d+) packets? captured/g),
    receivedByFilter: count(stderr, /(\d+) packets? received by filter/g),
    droppedByKernel: count(stderr, /(\d+) packets? dropped by kernel/g),
  };
}

export const nowUs = (): number => Date.now() * 1000;

const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

const counted = (n: number | null | undefined): string => (n === null || n === undefined ? 'not reported' : String(n));

/** The facts as lines for a pcapng comment and the decode ("capture on lb1: tcpdump -i any '...'"). */
export function factLines(f: CaptureFacts, kept: number, captured: number): string[] {
  const ended = f.endedAtUs;
  const window =
    ended !== undefined
      ? `${iso(f.startedAtUs)} to ${iso(ended)} (${((ended - f.startedAtUs) / 1e6).toFixed(3)} s)`
      : `from ${iso(f.startedAtUs)}`;
  const of = kept === captured ? '' : ` (of ${captured} captured)`;
  return [
    `capture on ${f.host}: tcpdump -i ${f.iface} '${f.filter}'`,
    ...(f.selection ? [`selection: ${f.selection}`] : []),
    `window: ${window}`,
    `packets of this probe: ${kept}${of}; received by filter: ${counted(f.receivedByFilter)}; ` +
      `dropped by kernel: ${counted(f.droppedByKernel)}`,
  ];
}
