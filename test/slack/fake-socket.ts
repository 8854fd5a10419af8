// The WebSocket side of the fake Slack, for Socket Mode: a minimal RFC 6455
// server (handshake, text/ping/close frames) that says hello, delivers
// envelopes and collects the app's acks.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, len])
      : len < 65536
        ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255])
        : Buffer.concat([
            Buffer.from([0x80 | opcode, 127]),
            (() => {
              const b = Buffer.alloc(8);
              b.writeBigUInt64BE(BigInt(len));
              return b;
            })(),
          ]);
  return Buffer.concat([head, payload]);
}

export class FakeSocket {
  private sockets: Duplex[] = [];
  readonly received: Record<string, unknown>[] = [];

  get connected(): number {
    return this.sockets.length;
  }

  /** Handles an HTTP upgrade request from the Slack app. */
  accept(req: IncomingMessage, socket: Duplex): void {
    const key = req.headers['sec-websocket-key'] ?? '';
    const accept = createHash('sha1').update(`${key}${GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.sockets.push(socket);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = (buf[0] ?? 0) & 0x0f;
        let len = (buf[1] ?? 0) & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        const masked = ((buf[1] ?? 0) & 0x80) !== 0;
        const maskAt = at;
        if (masked) at += 4;
        if (buf.length < at + len) return;
        const payload = Buffer.from(buf.subarray(at, at + len));
        if (masked)
          for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (buf[maskAt + (i % 4)] ?? 0);
        buf = buf.subarray(at + len);
        if (opcode === 1) this.received.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
        else if (opcode === 9) socket.write(frame(10, payload));
        else if (opcode === 8) socket.end(frame(8, Buffer.alloc(0)));
      }
    });
    const drop = (): void => {
      this.sockets = this.sockets.filter((s) => s !== socket);
    };
    socket.on('close', drop);
    socket.on('error', drop);
    this.send({
      type: 'hello',
      num_connections: 1,
      debug_info: { host: 'fake-slack' },
      connection_info: { app_id: 'A0LAB' },
    });
  }

  send(message: Record<string, unknown>): void {
    for (const s of this.sockets) s.write(frame(1, Buffer.from(JSON.stringify(message))));
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets = [];
  }
}
