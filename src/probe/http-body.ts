// How far an HTTP response body has come: where it ends is said by the head (Content-Length, chunked transfer
// coding, or the connection's close), so a probe can tell a complete answer from one that started and stalled.
// Fed the body's bytes as they arrive; keeps no body, only counts and the chunk parser's state.

/** The most body a probe reads before it stops and says so (a health page is far smaller). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export type BodyFraming = 'content-length' | 'chunked' | 'close' | 'none';

export interface BodyProgress {
  framing: BodyFraming;
  /** Body bytes received (for chunked: the data, without the chunk framing). */
  bytes: number;
  /** What the head promised (Content-Length), when it did. */
  expected?: number;
  /** The body's end arrived (or there is no body to wait for). */
  complete: boolean;
  /** The limit was reached before the end: the probe stopped reading. */
  limited: boolean;
}

/**
 * A head arrived and its body did not (cut short or stalled). A read stopped at the limit is not judged: the probe
 * chose to stop. Absent (a report from before bodies were read): not judged either.
 */
export const bodyCutShort = (body: { end: string } | undefined): boolean =>
  body !== undefined && body.end !== 'complete' && body.end !== 'limit';

type ChunkState = 'size' | 'size-lf' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done';

/** Which framing a response uses, from its status, its request method and its (lower-cased) headers. */
export function framingOf(status: number, method: string, headers: Record<string, string>): BodyFraming {
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return 'none';
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return 'chunked';
  if (headers['content-length'] !== undefined && /^\d+$/.test(headers['content-length'].trim()))
    return 'content-length';
  return 'close';
}

export class BodyTracker {
  private readonly progress: BodyProgress;
  private chunk: ChunkState = 'size';
  private sizeText = '';
  private left = 0;
  private trailerLine = 0;

  constructor(
    framing: BodyFraming,
    headers: Record<string, string>,
    private readonly limit = BODY_LIMIT_BYTES,
  ) {
    const expected = framing === 'content-length' ? Number(headers['content-length']?.trim()) : undefined;
    this.progress = {
      framing,
      bytes: 0,
      ...(expected !== undefined ? { expected } : {}),
      complete: framing === 'none' || expected === 0,
      limited: false,
    };
  }

  get state(): BodyProgress {
    return { ...this.progress };
  }

  /** Takes the next body bytes; true once nothing more is to be read (complete, or the limit reached). */
  push(data: Buffer): boolean {
    const p = this.progress;
    if (p.complete || p.limited) return true;
    if (p.framing === 'chunked') this.pushChunked(data);
    else p.bytes += data.length;
    if (p.expected !== undefined && p.bytes >= p.expected) p.complete = true;
    if (!p.complete && p.bytes >= this.limit) p.limited = true;
    return p.complete || p.limited;
  }

  /** The connection closed: that ends a body framed by the close, and no other. */
  closed(): void {
    if (this.progress.framing === 'close' && !this.progress.limited) this.progress.complete = true;
  }

  private pushChunked(data: Buffer): void {
    for (let i = 0; i < data.length && this.chunk !== 'done'; i++) {
      const c = data[i] as number;
      switch (this.chunk) {
        case 'size':
          if (c === 0x0d) this.chunk = 'size-lf';
          else this.sizeText += String.fromCharCode(c);
          break;
        case 'size-lf': {
          // Chunk extensions (";name=value") follow the size; only the hex digits count.
          this.left = parseInt(this.sizeText.split(';')[0]?.trim() || '0', 16) || 0;
          this.sizeText = '';
          this.chunk = this.left === 0 ? 'trailer' : 'data';
          this.trailerLine = 0;
          break;
        }
        case 'data': {
          const take = Math.min(this.left, data.length - i);
          this.progress.bytes += take;
          this.left -= take;
          i += take - 1;
          if (this.left === 0) this.chunk = 'data-cr';
          break;
        }
        case 'data-cr':
          this.chunk = 'data-lf';
          break;
        case 'data-lf':
          this.chunk = 'size';
          break;
        case 'trailer':
          // The body ends at an empty line after the last chunk (trailer fields may come first).
          if (c === 0x0a) {
            if (this.trailerLine === 0) {
              this.chunk = 'done';
              this.progress.complete = true;
            }
            this.trailerLine = 0;
          } else if (c !== 0x0d) this.trailerLine++;
          break;
        default:
          break;
      }
    }
  }
}
