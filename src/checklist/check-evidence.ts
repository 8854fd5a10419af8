// Each step's evidence, built from what was observed and what decided it: the
// LB's packets for the probe's flows (pcap), the readable decode, the exact
// remote commands and the timings.
import type { Packet } from '../capture/packet.js';
import type { Evidence } from './evidence.js';
import { analyzeFlows, clientFlowPackets, type FlowAnalysis } from './flow-analysis.js';
import type { CheckObservation } from './observation.js';
import type { Step } from './report.js';
import { stepEvidence } from './step-evidence.js';

/** The client flow plus every server-side flow the analysis tied to the probe. */
function relatedPackets(packets: readonly Packet[], a: FlowAnalysis): Packet[] {
  if (!a.clientSyn?.tcp || !a.clientAddress) return [];
  const keys = new Set(a.serverSide.map((s) => `${s.src}:${s.syn.tcp?.srcPort}|${s.address}:${s.port}`));
  const vip = a.clientSyn.ip?.dst;
  const sport = a.clientSyn.tcp.srcPort;
  return packets.filter((p) => {
    if (!p.ip || !p.tcp) return false;
    if ((p.tcp.srcPort === sport || p.tcp.dstPort === sport) && (p.ip.src === vip || p.ip.dst === vip)) return true;
    return (
      keys.has(`${p.ip.src}:${p.tcp.srcPort}|${p.ip.dst}:${p.tcp.dstPort}`) ||
      keys.has(`${p.ip.dst}:${p.tcp.dstPort}|${p.ip.src}:${p.tcp.srcPort}`)
    );
  });
}

function pcapOf(
  packets: readonly Packet[],
): { linkType: number; snaplen: number; packets: Packet[]; label: string } | undefined {
  const first = packets[0];
  return first ? { linkType: first.linkType, snaplen: 262, packets: [...packets], label: 'lb' } : undefined;
}

export function stepEvidenceFor(step: Step, obs: CheckObservation, deciding: Packet[], commands: string[]): Evidence[] {
  const t = obs.target;
  const id = { vip: t.vip, port: t.port, sourcePort: obs.reach.connect.localPort };
  const lbName = t.lb ?? 'the LB';
  if (step.step === 1) {
    const r = obs.reach;
    return stepEvidence({
      step: 1,
      title: `Step 1: probe ${t.vip}:${t.port} from source port ${id.sourcePort}; ${r.lb ? `capture on ${lbName}` : 'no LB capture'}`,
      pcap: r.lb ? pcapOf(clientFlowPackets(r.lb.packets, id)) : undefined,
      deciding,
      notes: [step.summary, ...(r.localUnavailable ? [`no capture at the vantage point: ${r.localUnavailable}`] : [])],
      commands,
      timings: { connectMs: r.connect.ms, stepMs: r.ms },
    });
  }
  if (step.step === 2) {
    const m = obs.mode;
    const lb = m?.lb;
    const analysis = lb ? analyzeFlows(lb.packets, { ...id, marker: m.request?.marker ?? '' }) : undefined;
    const x = m?.exchange;
    const end = lb
      ? [
          `capture ended by ${lb.endedBy ?? 'stop'}; ${lb.packets.length} packets${lb.droppedByKernel ? `, ${lb.droppedByKernel} dropped by kernel` : ''}`,
        ]
      : [];
    return stepEvidence({
      step: 2,
      title: `Step 2: how ${lbName} handles ${t.vip}:${t.port} (capture on all LB interfaces)`,
      pcap: lb && analysis ? pcapOf(relatedPackets(lb.packets, analysis)) : undefined,
      deciding,
      notes: [step.summary, ...(x ? [`response head: ${x.statusLine ?? '(none)'}`] : []), ...end],
      commands,
      timings: { ...(step.name === 'mode' ? step.timings : {}), stepMs: m?.ms },
    });
  }
  return stepEvidence({
    step: 3,
    title: 'Step 3: pool members from the LB and directly',
    deciding: [],
    notes: [step.summary],
    commands,
    timings: { stepMs: obs.servers?.ms },
  });
}
