// The lab's address plan. Every run gets its own /22 inside 198.18.0.0/15
// (RFC 2544 benchmarking space), chosen by slot, so two concurrent runs never
// share an address even where the test process itself is the client.

const BASE = (198 << 24) | (18 << 16); // 198.18.0.0
export const SLOT_COUNT = 128; // 128 x /22 = the whole /15

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface LabAddresses {
  /** The /22 this run owns, e.g. 198.18.4.0/22. */
  block: string;
  clientSubnet: string;
  client: string; // the test process (root namespace), the probe's vantage point
  routerClientSide: string;
  transitSubnet: string;
  routerTransit: string;
  lbTransit: string; // where the LB's sshd listens
  vipSubnet: string;
  vips: {
    haproxyHttp: string;
    haproxyTcp: string;
    nginx: string;
    dnat: string;
    idle: string;
    tls: string;
  };
  /** In the VIP subnet but not on the LB: a fault routes it to a server that holds it (faults.directServerReturn). */
  dsrVip: string;
  serverSubnet: string;
  lbServerSide: string; // the LB's source address towards the servers
  routerServerSide: string; // the servers' default gateway
  servers: string[];
}

export function addressesForSlot(slot: number): LabAddresses {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) throw new Error(`bad lab slot ${slot}`);
  const net = (third: number, host: number): string => intToIp(BASE + (slot * 4 + third) * 256 + host);
  return {
    block: `${net(0, 0)}/22`,
    clientSubnet: `${net(0, 0)}/24`,
    client: net(0, 10),
    routerClientSide: net(0, 1),
    transitSubnet: `${net(1, 0)}/24`,
    routerTransit: net(1, 1),
    lbTransit: net(1, 2),
    vipSubnet: `${net(2, 0)}/24`,
    vips: {
      haproxyHttp: net(2, 1),
      haproxyTcp: net(2, 2),
      nginx: net(2, 3),
      dnat: net(2, 4),
      idle: net(2, 5),
      tls: net(2, 6),
    },
    dsrVip: net(2, 7),
    serverSubnet: `${net(3, 0)}/24`,
    lbServerSide: net(3, 1),
    routerServerSide: net(3, 254),
    servers: [net(3, 11), net(3, 12), net(3, 13)],
  };
}
