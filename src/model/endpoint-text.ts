// How every endpoint is written ("[2001:db8::10]:80" for IPv6): the probes, the texts and the evidence
// all print them, so the one spelling lives in the model.

/** "host:port", with an IPv6 address in brackets ("[2001:db8::10]:80"): every endpoint lbcheck prints. */
export const hostPort = (host: string, port: number): string => formatEndpoint({ host, port });

export function formatEndpoint(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
