// HTTP/1.1 for the Engine API client, over one UNIX socket or TCP (TLS) endpoint: a request with
// a JSON or streamed (chunked) body, a response framed by Content-Length, chunked coding or the
// connection's end, keep-alive reuse, and the 101 upgrade that attach and exec use.
//
// Written here rather than taken from node:http's client: every berth command is a new process,
// and a process's first requests through node:http cost ~8 ms on the 2-core VM (its client,
// agent, outgoing/incoming message and parser modules are compiled on first use; V8 caches no
// compiled code of Node's own modules across processes), a tenth of `berth run`'s budget. This
// code is in the CLI bundle, whose V8 code cache (cmd/code-cache.ts) holds it compiled. Servers,
// berthd included, stay on node:http.
import { Readable, type Duplex } from 'node:stream';

/** A response whose body is read as a stream. */
export class HttpResponse extends Readable {
  statusCode = 0;
  statusMessage = '';
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string> = {};
  /** Called when the reader wants more (the connection resumes) or gives up (it is closed). */
  onRead: () => void = () => undefined;
  onDestroy: (err: Error | null) => void = () => undefined;

  override _read(): void {
    this.onRead();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.onDestroy(err);
    callback(err);
  }
}

export interface OutgoingRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** Sent as given (Host among them); Content-Length / Transfer-Encoding are set from the body. */
  headers: Record<string, string>;
  body?: string | Readable;
  signal?: AbortSignal;
}

export interface Upgraded {
  /**
   * The connection, paused (nothing the daemon sends can be lost before the caller reads): read
   * it with for-await, pipe() or resume(); a plain 'data' listener alone does not start it.
   */
  socket: Duplex;
  /** The 101's headers (lower-case names). */
  headers: Record<string, string>;
}

/** A failure of the connection, with Node's codes (ECONNRESET for a hang-up). */
function connectionError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

const MAX_HEAD = 64 * 1024;
const CRLF = Buffer.from('\r\n');

interface ReaderCallbacks {
  onHead: (status: number, message: string, headers: Record<string, string>) => void;
  onBody: (chunk: Buffer) => void;
  onDone: (reusable: boolean, rest: Buffer) => void;
}

type Framing = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

/**
 * Reads one response from a connection. Bytes arrive through `push`; the head is handed to
 * `onHead`, body bytes to `onBody`, and `onDone` is told whether the connection may carry another
 * request (and gets what came after this response, which for an upgrade is the start of the
 * stream). A malformed response throws from `push`.
 */
class ResponseReader {
  private buf: Buffer = Buffer.alloc(0);
  private state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'done' = 'head';
  private framing: Framing = { kind: 'none' };
  private chunkLeft = 0;
  private keepAlive = true;
  private readonly method: string;
  private readonly upgrade: boolean;
  private readonly cb: ReaderCallbacks;

  constructor(method: string, upgrade: boolean, cb: ReaderCallbacks) {
    this.method = method;
    this.upgrade = upgrade;
    this.cb = cb;
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  /** The connection ended: a body framed by the end is complete; anything else is cut short. */
  end(): void {
    if (this.state === 'body' && this.framing.kind === 'close') {
      this.state = 'done';
      this.cb.onDone(false, Buffer.alloc(0));
      return;
    }
    if (this.state !== 'done') throw connectionError('socket hang up', 'ECONNRESET');
  }

  push(data: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    for (;;) {
      if (this.state === 'done') return;
      if (this.state === 'head') {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.buf.length > MAX_HEAD) throw new Error('the daemon sent a response head over 64 KiB');
          return;
        }
        const head = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(end + 4);
        if (this.readHead(head)) return;
        continue;
      }
      if (this.state === 'body') {
        if (!this.buf.length) return;
        if (this.framing.kind === 'length') {
          const take = Math.min(this.framing.left, this.buf.length);
          this.emitBody(take);
          this.framing.left -= take;
          if (this.framing.left === 0) this.finish();
          continue;
        }
        this.emitBody(this.buf.length); // until the connection's end
        return;
      }
      if (this.state === 'chunk-size' || this.state === 'chunk-end' || this.state === 'trailers') {
        const eol = this.buf.indexOf(CRLF);
        if (eol < 0) {
          if (this.buf.length > MAX_HEAD) throw new Error('malformed chunked response');
          return;
        }
        const line = this.buf.subarray(0, eol).toString('latin1');
        this.buf = this.buf.subarray(eol + 2);
        if (this.state === 'chunk-end') {
          if (line !== '') throw new Error('malformed chunked response');
          this.state = 'chunk-size';
        } else if (this.state === 'trailers') {
          if (line === '') this.finish();
        } else {
          const m = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
          if (!m) throw new Error('malformed chunked response');
          this.chunkLeft = parseInt(m[1], 16);
          this.state = this.chunkLeft === 0 ? 'trailers' : 'chunk-data';
        }
        continue;
      }
      // chunk-data
      if (!this.buf.length) return;
      const take = Math.min(this.chunkLeft, this.buf.length);
      this.emitBody(take);
      this.chunkLeft -= take;
      if (this.chunkLeft === 0) this.state = 'chunk-end';
    }
  }

  private emitBody(n: number): void {
    const chunk = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.cb.onBody(chunk);
  }

  private finish(): void {
    this.state = 'done';
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    this.cb.onDone(this.keepAlive, rest);
  }

  /** Parses the status line and headers; true when the reader is done (an upgrade's 101). */
  private readHead(head: string): boolean {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!status) throw new Error(`malformed response from the daemon: ${JSON.stringify(lines[0].slice(0, 80))}`);
    const code = Number(status[2]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed response header: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    // 1xx other than an upgrade's 101 are interim: the real response follows
    if (code >= 100 && code < 200 && !(code === 101 && this.upgrade)) return false;
    const connection = (headers.connection ?? '').toLowerCase();
    this.keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    if (code === 101) {
      this.cb.onHead(code, status[3] ?? '', headers);
      this.keepAlive = false;
      this.finish();
      return true;
    }
    // the framing is settled (or refused) before anyone sees the response
    const te = (headers['transfer-encoding'] ?? '').toLowerCase();
    if (this.method === 'HEAD' || code === 204 || code === 304) this.framing = { kind: 'none' };
    else if (te) {
      if (!/(?:^|,)\s*chunked\s*$/.test(te)) throw new Error(`unsupported transfer encoding from the daemon: ${te}`);
      this.framing = { kind: 'chunked' };
    } else if (headers['content-length'] !== undefined) {
      if (!/^\d{1,15}$/.test(headers['content-length'])) throw new Error(`malformed content-length from the daemon: ${headers['content-length']}`);
      this.framing = { kind: 'length', left: Number(headers['content-length']) };
    } else this.framing = { kind: 'close' };
    if (this.framing.kind === 'close') this.keepAlive = false;
    this.cb.onHead(code, status[3] ?? '', headers);
    if (this.framing.kind === 'none' || (this.framing.kind === 'length' && this.framing.left === 0)) {
      this.finish();
      return true;
    }
    this.state = this.framing.kind === 'chunked' ? 'chunk-size' : 'body';
    return false;
  }
}

function requestHead(req: OutgoingRequest, bodyHeaders: Record<string, string>): string {
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  // HTTP/1.1 requires one (servers answer 400 without it)
  if (!Object.keys(req.headers).some((h) => h.toLowerCase() === 'host')) head += 'Host: localhost\r\n';
  for (const [name, value] of Object.entries({ ...req.headers, ...bodyHeaders })) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`invalid header ${JSON.stringify(name)}`);
    head += `${name}: ${value}\r\n`;
  }
  return head + '\r\n';
}

/** Copies a streamed body in chunked coding, with backpressure; rejects on the body's error. */
function sendChunked(socket: Duplex, body: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (!buf.length) return;
      socket.cork();
      socket.write(`${buf.length.toString(16)}\r\n`);
      socket.write(buf);
      const more = socket.write('\r\n');
      socket.uncork();
      if (!more) {
        body.pause();
        socket.once('drain', () => body.resume());
      }
    };
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      socket.off('close', onClose);
    };
    const onEnd = (): void => {
      cleanup();
      socket.write('0\r\n\r\n');
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      body.pause();
      resolve(); // the response side reports the connection's failure
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    socket.once('close', onClose);
  });
}

/**
 * Requests over connections from `open`, kept alive and reused one request at a time (a
 * connection serves the next request once the previous response's body has been read to its end).
 */
export class Http1Client {
  private idle: Duplex[] = [];
  private readonly busy = new Set<Duplex>();
  private readonly idleWatchers = new Map<Duplex, () => void>();

  private readonly open: (opts: { allowHalfOpen: boolean }) => Duplex;

  /** `open` makes a new connection (writes before it is established are queued by the socket). */
  constructor(open: (opts: { allowHalfOpen: boolean }) => Duplex) {
    this.open = open;
  }

  /** Sends the request; resolves with the response once its head has arrived. */
  async request(req: OutgoingRequest): Promise<HttpResponse> {
    if (req.signal?.aborted) throw abortError(req.signal);
    const socket = this.takeIdle() ?? this.open({ allowHalfOpen: false });
    this.busy.add(socket);
    const answer = await this.exchange(socket, req, false, (reusable) => {
      this.busy.delete(socket);
      if (reusable) this.keepIdle(socket);
      else socket.destroy();
    });
    return answer as HttpResponse;
  }

  /**
   * An upgrade request (Connection: Upgrade) on a connection of its own, half-open capable:
   * resolves with the socket after a 101 (bytes that came with the 101 are put back into it), or
   * with the response when the daemon answered otherwise.
   */
  upgrade(req: OutgoingRequest): Promise<Upgraded | HttpResponse> {
    const socket = this.open({ allowHalfOpen: true });
    return this.exchange(socket, req, true, () => socket.destroy());
  }

  /**
   * One request and its answer on `socket`. Resolves with the response at its head, or, for an
   * upgrade, with the socket after a 101. `release` is told once the connection is no longer this
   * exchange's (the response read to its end, or a failure) and whether it may carry another
   * request: only when the answer allows it and our request went out whole (an early answer to a
   * streamed body would leave the rest of the body in front of the next request).
   */
  private exchange(socket: Duplex, req: OutgoingRequest, upgrade: boolean, release: (reusable: boolean) => void): Promise<HttpResponse | Upgraded> {
    return new Promise((resolve, reject) => {
      let res: HttpResponse | undefined;
      let upgradedHeaders: Record<string, string> = {};
      let settled = false;
      let failed = false;
      let sent = false;
      const fail = (err: Error): void => {
        if (failed) return;
        failed = true;
        detach();
        release(false);
        if (!settled) {
          settled = true;
          reject(err);
        } else if (res && !res.readableEnded) res.destroy(err);
      };
      const reader = new ResponseReader(req.method, upgrade, {
        onHead: (status, message, headers) => {
          if (status === 101) {
            upgradedHeaders = headers;
            return;
          }
          res = new HttpResponse();
          res.statusCode = status;
          res.statusMessage = message;
          res.headers = headers;
          res.onRead = () => socket.resume();
          res.onDestroy = (err) => {
            // a reader that gives up before the end: this connection cannot be reused
            if (!reader.finished) fail(err ?? connectionError('response closed before its end', 'ECONNRESET'));
          };
          settled = true;
          resolve(res);
        },
        onBody: (chunk) => {
          if (res && !res.push(chunk)) socket.pause();
        },
        onDone: (reusable, rest) => {
          detach();
          if (!res) {
            // the 101: the connection is the caller's now, paused with what came after the head
            socket.pause();
            if (rest.length) socket.unshift(rest);
            settled = true;
            resolve({ socket, headers: upgradedHeaders });
            return;
          }
          res.onRead = () => undefined; // the connection is no longer this response's
          release(reusable && sent && rest.length === 0 && !socket.destroyed);
          res.push(null);
        },
      });
      const onData = (data: Buffer): void => {
        try {
          reader.push(data);
        } catch (err) {
          fail(err as Error);
        }
      };
      const onEnd = (): void => {
        try {
          reader.end();
        } catch (err) {
          fail(err as Error);
        }
      };
      const onError = (err: Error): void => fail(err);
      const onClose = (): void => {
        if (!reader.finished) onEnd();
      };
      const onAbort = (): void => fail(abortError(req.signal!));
      const detach = (): void => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('error', onError);
        socket.off('close', onClose);
        req.signal?.removeEventListener('abort', onAbort);
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('error', onError);
      socket.once('close', onClose);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      socket.resume();
      try {
        this.send(socket, req, () => (sent = true));
      } catch (err) {
        fail(err as Error);
      }
    });
  }

  /** Closes every connection, idle or in use, so that the process can exit. */
  close(): void {
    for (const s of [...this.idle, ...this.busy]) s.destroy();
    this.idle = [];
    this.busy.clear();
  }

  /** Writes the request; `whole` is called once all of it is handed to the socket. */
  private send(socket: Duplex, req: OutgoingRequest, whole: () => void): void {
    const body = req.body;
    if (body === undefined || typeof body === 'string') {
      // a POST without a body says so (as docker does); GET and HEAD carry no length
      const length = body === undefined ? (req.method === 'GET' || req.method === 'HEAD' ? undefined : 0) : Buffer.byteLength(body);
      socket.write(requestHead(req, length === undefined ? {} : { 'Content-Length': String(length) }) + (body ?? ''));
      whole();
      return;
    }
    socket.write(requestHead(req, { 'Transfer-Encoding': 'chunked' }));
    sendChunked(socket, body).then(whole, (err: Error) => socket.destroy(err));
  }

  private takeIdle(): Duplex | undefined {
    for (let s = this.idle.pop(); s; s = this.idle.pop()) {
      this.unwatchIdle(s);
      if (!s.destroyed && s.writable && s.readable) return s;
      s.destroy();
    }
    return undefined;
  }

  /** A finished connection waits for the next request; one the daemon closes meanwhile is dropped. */
  private keepIdle(socket: Duplex): void {
    const drop = (): void => {
      this.unwatchIdle(socket);
      this.idle = this.idle.filter((s) => s !== socket);
      socket.destroy();
    };
    this.idleWatchers.set(socket, drop);
    socket.on('data', drop); // nothing is due on an idle connection
    socket.on('end', drop);
    socket.on('error', drop);
    socket.on('close', drop);
    socket.resume();
    this.idle.push(socket);
  }

  private unwatchIdle(socket: Duplex): void {
    const drop = this.idleWatchers.get(socket);
    if (!drop) return;
    this.idleWatchers.delete(socket);
    for (const ev of ['data', 'end', 'error', 'close']) socket.off(ev, drop);
  }
}
