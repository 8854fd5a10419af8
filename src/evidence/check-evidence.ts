// Each step's evidence, built from what was observed and what decided it: the
// LB's packets for the probe's flows (pcap), the readable decode, the exact
// remote commands and the timings.
import type { Packet } from '../capture/packet.js';
import type { LadderExtras } from './ladder-evidence.js';
import { formatEndpoint, hostPort } from '../model/endpoint-text.js';
import {
  analyzeFlows,
  clientFlowPackets,
  findClientSyn,
  type FlowAnalysis,
} from '../checklist/decide/flow-analysis.js';
import type { CaptureView, CheckObservation } from '../checklist/observation.js';
import type { Step } from '../model/report.js';
import { stepEvidenceDraft, type StepEvidenceDraft, type StepEvidenceInput } from './step-evidence.js';
import { alignVantages, lbVantage, probeVantage } from './vantage-evidence.js';

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

const probeId = (obs: CheckObservation): { vip: string; port: number; sourcePort: number } => ({
  vip: obs.target.vip,
  port: obs.target.port,
  sourcePort: obs.reach.connect.localPort,
});

/** What the ladder and decode need beyond the packets: who is who, and where packets were seen. */
function ladderContext(obs: CheckObservation): LadderExtras {
  const t = obs.target;
  const names = obs.lbInterfaces ? Object.entries(obs.lbInterfaces) : [];
  return {
    sides: {
      vip: t.vip,
      port: t.port,
      ...(obs.reach.connect.localAddress ? { clientAddress: obs.reach.connect.localAddress } : {}),
      members: t.members.map((m) => formatEndpoint(m)),
    },
    lbCaptured: obs.reach.lb !== null,
    // The probe's own capture tells the story only where the LB saw nothing of the probe (a
    // drop, an ICMP reject, an impostor's answer); elsewhere it would draw every packet twice.
    ...(obs.reach.local && obs.reach.lb && !findClientSyn(obs.reach.lb.packets, probeId(obs))
      ? { probePackets: obs.reach.local.packets }
      : {}),
    ...(names.length > 0 ? { interfaces: new Map(names.map(([i, n]) => [Number(i), n])) } : {}),
  };
}

/** Step 1's captures: the LB's (its probe flow) and the probing host's, each kept also when empty. */
function reachVantages(
  obs: CheckObservation,
  id: { vip: string; port: number; sourcePort: number },
): Pick<StepEvidenceInput, 'vantages' | 'alignment'> {
  const r = obs.reach;
  const lb = r.lb ? lbVantage(obs, r.lb, clientFlowPackets(r.lb.packets, id)) : undefined;
  const probe = r.local ? probeVantage(obs, r.local) : undefined;
  if (lb && probe) {
    const aligned = alignVantages(obs, lb, probe);
    return { vantages: [probe, aligned.lb], alignment: aligned.alignment };
  }
  return { vantages: [...(probe ? [probe] : []), ...(lb ? [lb] : [])] };
}

/** The end of step 1's title: whether the LB was captured on. */
const lbCaptureNote = (captured: boolean, lbName: string): string =>
  captured ? `capture on ${lbName}` : 'no LB capture';

/** "capture ended by stop; 42 packets[, 3 dropped by kernel]". */
function captureEnd(lb: CaptureView): string {
  const dropped = lb.droppedByKernel ? `, ${lb.droppedByKernel} dropped by kernel` : '';
  return `capture ended by ${lb.endedBy ?? 'stop'}; ${lb.packets.length} packets${dropped}`;
}

/**
 * Built the moment the step is decided (from this step's commands and observation), with only the
 * ladder PNG left to render: run-check renders it off the main thread while the next step runs.
 */
export function stepEvidenceDraftFor(
  step: Step,
  obs: CheckObservation,
  deciding: Packet[],
  commands: string[],
  ladderPng = true,
): StepEvidenceDraft {
  return stepEvidenceDraft(stepEvidenceInput(step, obs, deciding, commands, ladderPng));
}

function stepEvidenceInput(
  step: Step,
  obs: CheckObservation,
  deciding: Packet[],
  commands: string[],
  ladderPng: boolean,
): StepEvidenceInput {
  const t = obs.target;
  const id = { vip: t.vip, port: t.port, sourcePort: obs.reach.connect.localPort };
  const lbName = t.lb ?? 'the LB';
  const context = { ...ladderContext(obs), ladderPng };
  if (step.step === 1) {
    const r = obs.reach;
    const captures = reachVantages(obs, id);
    return {
      ...context,
      step: 1,
      title:
        `Step 1: probe ${hostPort(t.vip, t.port)} from source port ${id.sourcePort}; ` + lbCaptureNote(!!r.lb, lbName),
      pcap: r.lb ? pcapOf(clientFlowPackets(r.lb.packets, id)) : undefined,
      ...captures,
      deciding,
      notes: [step.summary, ...(r.localUnavailable ? [`no capture at the vantage point: ${r.localUnavailable}`] : [])],
      captureNotes: [
        ...(captures.vantages ?? []).flatMap((v) => v.facts),
        ...(captures.alignment ? [captures.alignment] : []),
      ],
      commands,
      timings: { connectMs: r.connect.ms, stepMs: r.ms },
    };
  }
  if (step.step === 2) {
    const m = obs.mode;
    const lb = m?.lb;
    const analysis = lb ? analyzeFlows(lb.packets, { ...id, marker: m.request?.marker ?? '' }) : undefined;
    const x = m?.exchange;
    const end = lb ? [captureEnd(lb)] : [];
    const related = lb && analysis ? relatedPackets(lb.packets, analysis) : [];
    const vantages = lb ? [lbVantage(obs, lb, related)] : [];
    return {
      ...context,
      step: 2,
      title: `Step 2: how ${lbName} handles ${hostPort(t.vip, t.port)} (capture on all LB interfaces)`,
      pcap: pcapOf(related),
      vantages,
      deciding,
      notes: [step.summary, ...(x ? [`response head: ${x.statusLine ?? '(none)'}`] : []), ...end],
      captureNotes: vantages.flatMap((v) => v.facts),
      commands,
      timings: { ...(step.name === 'mode' ? step.timings : {}), stepMs: m?.ms },
    };
  }
  return {
    ...context,
    step: 3,
    title: 'Step 3: pool members from the LB and directly',
    deciding: [],
    notes: [step.summary],
    commands,
    timings: { stepMs: obs.servers?.ms },
  };
}
