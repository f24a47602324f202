import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_PAGE, MAX_PAGE, type ConnectionFilter, type GatewayControl } from './control.js';
import { PAGING_KEYS, type ViewFilter } from './views.js';

/**
 * Errors of a shared connection directory (`store.redis`): Redis out of reach (503), or the node holding the
 * connection did not answer in time (504, naming it).
 */
const STATUS_OF_CODE: Readonly<Record<string, number>> = { WSGATE_STORE_UNAVAILABLE: 503, WSGATE_NODE_UNANSWERED: 504 };

/** Bodies of management requests are tiny (a close code and reason); anything bigger is refused. */
const MAX_BODY = 4096;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The management API over HTTP + JSON, bearer-token protected:
 *
 * | request | does |
 * |---|---|
 * | `GET /status` | pid, uptime, whether WebSockets are enabled, connection count, workers |
 * | `GET /connections?protocol=&client=&idle=&offset=&limit=` | Kamailio's `ws.dump`, filtered and paged (every node's with `store.redis`; `partial` says when only this node's could be read) |
 * | `GET /connections/:id` | one connection |
 * | `POST /connections/:id/close` `{code, reason}` | `ws.close` (default 1000) |
 * | `POST /connections/:id/ping` | `ws.ping` |
 * | `POST /websockets/disable`, `POST /websockets/enable` | `ws.disable` (new WebSockets get 503), `ws.enable` |
 * | `POST /reload` | re-read config, scripts, certificates; 422 with the errors if the new config is invalid |
 * | `GET /views` | the views route modules added (views.ts): name, help, filters |
 * | `GET /views/:name?<filter>=&offset=&limit=` | a page of a view's rows; 400 naming its filters for another key |
 * | `GET /memory`, `POST /memory/collect` | each process's memory (process-memory.ts); `collect`: after a full collection |
 */
export function createManagementHandler(control: GatewayControl, token: string): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = digest(token);
  return (req, res) => {
    void handle(control, expected, req, res).catch((err: unknown) => {
      const status = err instanceof ApiError ? err.status : err instanceof RangeError ? 400 : (STATUS_OF_CODE[(err as { code?: string })?.code ?? ''] ?? 500);
      const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer realm="wsgate"' } : {};
      send(res, status, { error: err instanceof Error ? err.message : String(err) }, headers);
    });
  };
}

async function handle(control: GatewayControl, expected: Buffer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  authorize(req, expected);
  const url = new URL(req.url ?? '/', 'http://management.invalid');
  const parts = url.pathname.split('/').filter(Boolean);
  const method = req.method ?? 'GET';
  const route = `${method} /${parts.map((p, i) => (i === 1 ? (parts[0] === 'connections' ? ':id' : parts[0] === 'views' ? ':name' : p) : p)).join('/')}`;
  switch (route) {
    case 'GET /status':
      return send(res, 200, await control.status());
    case 'GET /connections':
      return send(res, 200, await control.listConnections(filterOf(url.searchParams)));
    case 'GET /connections/:id': {
      const conn = await control.getConnection(idOf(parts[1]!));
      if (!conn) throw new ApiError(404, `no connection ${parts[1]}`);
      return send(res, 200, conn);
    }
    case 'POST /connections/:id/close': {
      const body = await readJson(req);
      const code = body.code ?? 1000;
      const reason = body.reason ?? '';
      if (typeof code !== 'number' || typeof reason !== 'string') throw new ApiError(400, 'body must be {"code": number, "reason": string}');
      if (!(await control.closeConnection(idOf(parts[1]!), code, reason))) throw new ApiError(404, `no connection ${parts[1]}`);
      return send(res, 200, { closed: Number(parts[1]), code, reason });
    }
    case 'POST /connections/:id/ping':
      if (!(await control.pingConnection(idOf(parts[1]!)))) throw new ApiError(404, `no connection ${parts[1]}`);
      return send(res, 200, { pinged: Number(parts[1]) });
    case 'POST /websockets/disable':
    case 'POST /websockets/enable': {
      const enabled = parts[1] === 'enable';
      await control.setWebSocketsEnabled(enabled);
      return send(res, 200, { websockets: enabled ? 'enabled' : 'disabled' });
    }
    case 'POST /reload':
      try {
        await control.reload();
      } catch (err) {
        throw new ApiError(422, `reload refused, the running config stays: ${err instanceof Error ? err.message : String(err)}`);
      }
      return send(res, 200, { reloaded: true });
    case 'GET /views':
      return send(res, 200, { views: await control.listViews() });
    case 'GET /views/:name': {
      const name = parts[1]!;
      const { filter, offset, limit } = viewQueryOf(url.searchParams);
      const page = await control.readView(name, filter, { offset, limit });
      if (!page) {
        const names = (await control.listViews()).map((v) => v.name);
        throw new ApiError(404, `no view ${name}: ${names.length === 0 ? 'the route modules mounted add none' : `the views are ${names.join(', ')}`}`);
      }
      return send(res, 200, page);
    }
    case 'GET /memory':
    case 'POST /memory/collect':
      return send(res, 200, { processes: await control.memory(parts[1] === 'collect') });
    default:
      throw new ApiError(KNOWN_PATHS.has(route.slice(route.indexOf(' ') + 1)) ? 405 : 404, `no such operation: ${method} ${url.pathname}`);
  }
}

const KNOWN_PATHS = new Set(['/status', '/connections', '/connections/:id', '/connections/:id/close', '/connections/:id/ping', '/websockets/disable', '/websockets/enable', '/reload', '/views', '/views/:name', '/memory', '/memory/collect']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares digests, so that neither the token's content nor its length leaks through timing. */
function authorize(req: IncomingMessage, expected: Buffer): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError(401, 'missing bearer token: send "Authorization: Bearer <token>"');
  if (!timingSafeEqual(digest(match[1]!), expected)) throw new ApiError(401, 'wrong bearer token');
}

function idOf(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new ApiError(400, `connection id must be a whole number, got "${text}"`);
  return Number(text);
}

function numberParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new ApiError(400, `${name} must be a number ≥ ${min}, got "${v}"`);
  return n;
}

/** A view's query: every key but offset and limit is a filter, given once (the view checks its keys). */
function viewQueryOf(q: URLSearchParams): { filter: ViewFilter; offset: number | undefined; limit: number | undefined } {
  const filter: Record<string, string> = {};
  for (const [key, value] of q) {
    if (PAGING_KEYS.has(key)) continue;
    if (Object.hasOwn(filter, key)) throw new ApiError(400, `filter ${key} given twice: give each filter once`);
    filter[key] = value;
  }
  const limit = numberParam(q, 'limit', 1);
  const offset = numberParam(q, 'offset', 0);
  return {
    filter,
    offset: offset === undefined ? undefined : Math.floor(offset),
    limit: Math.min(limit === undefined ? DEFAULT_PAGE : Math.floor(limit), MAX_PAGE),
  };
}

function filterOf(q: URLSearchParams): ConnectionFilter {
  const num = (name: string, min: number): number | undefined => numberParam(q, name, min);
  const limit = num('limit', 1);
  const offset = num('offset', 0);
  return {
    protocol: q.get('protocol') ?? undefined,
    client: q.get('client') ?? undefined,
    minIdle: num('idle', 0),
    offset: offset === undefined ? undefined : Math.floor(offset),
    limit: limit === undefined ? undefined : Math.floor(limit),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, `body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString().trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new ApiError(400, 'body must be a JSON object');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
