// An observation as files: JSON for everything but packets, and one classic
// pcap per capture view. Used to record lab observations as fixtures (and
// readable by tcpdump/Wireshark like any evidence pcap).
import type { Packet } from '../capture/packet.js';
import { decodePcap, encodePcap } from '../capture/pcap-stream.js';
import { OBSERVATION_VERSION, type CaptureView, type CheckObservation, type NodeReach } from './observation.js';

const SNAPLEN = 262;

interface StoredView extends Omit<CaptureView, 'packets'> {
  /** File holding the view's packets; absent when it had none. */
  pcap?: string;
}

export interface EncodedObservation {
  json: string;
  files: Record<string, Buffer>;
}

function storeView(view: CaptureView | null, file: string, files: Record<string, Buffer>): StoredView | null {
  if (view === null) return null;
  const { packets, ...rest } = view;
  const first = packets[0];
  if (!first) return rest;
  files[file] = encodePcap(first.linkType, SNAPLEN, packets);
  return { ...rest, pcap: file };
}

function loadView(stored: StoredView | null, read: (name: string) => Buffer): CaptureView | null {
  if (stored === null) return null;
  const { pcap, ...rest } = stored;
  const packets: Packet[] = pcap ? decodePcap(read(pcap)).packets : [];
  return { ...rest, packets };
}

export function encodeObservation(obs: CheckObservation): EncodedObservation {
  const files: Record<string, Buffer> = {};
  const stored = {
    ...obs,
    reach: {
      ...obs.reach,
      lb: storeView(obs.reach.lb, 'reach-lb.pcap', files),
      local: storeView(obs.reach.local, 'reach-local.pcap', files),
      ...(obs.reach.nodes
        ? { nodes: obs.reach.nodes.map((n, i) => ({ ...n, lb: storeView(n.lb, `reach-node${i}-lb.pcap`, files) })) }
        : {}),
    },
    ...(obs.mode ? { mode: { ...obs.mode, lb: storeView(obs.mode.lb, 'mode-lb.pcap', files) } } : {}),
  };
  return { json: `${JSON.stringify(stored, null, 2)}\n`, files };
}

export class ObservationFormatError extends Error {
  override name = 'ObservationFormatError';
}

export function decodeObservation(json: string, read: (name: string) => Buffer): CheckObservation {
  const raw = JSON.parse(json) as Record<string, unknown>;
  if (raw.version !== OBSERVATION_VERSION) {
    throw new ObservationFormatError(
      `observation version ${String(raw.version)} is not ${OBSERVATION_VERSION}: re-record the fixture`,
    );
  }
  const stored = raw as unknown as CheckObservation & {
    reach: { lb: StoredView | null; local: StoredView | null; nodes?: (NodeReach & { lb: StoredView | null })[] };
    mode?: { lb: StoredView | null };
  };
  return {
    ...stored,
    reach: {
      ...stored.reach,
      lb: loadView(stored.reach.lb, read),
      local: loadView(stored.reach.local, read),
      ...(stored.reach.nodes ? { nodes: stored.reach.nodes.map((n) => ({ ...n, lb: loadView(n.lb, read) })) } : {}),
    },
    ...(stored.mode ? { mode: { ...stored.mode, lb: loadView(stored.mode.lb, read) } } : {}),
  };
}
