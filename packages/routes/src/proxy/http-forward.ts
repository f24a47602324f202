/**
 * Plain HTTP through the proxy (BOSH long-polls, pages, REST): the request body streamed upstream, the
 * response streamed back, both with backpressure and neither buffered whole. The body starts flowing only
 * once the upstream connection is up, so a failed connect can still move to the next node: nothing of the
 * client's has been consumed yet.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { textReply, writeReply, type ForwardResult, type ProxiedRequest } from '@wsgate/core';
import { readyEvent } from '../upstream/connect.js';
import { tryNodes, type Attempt } from './failover.js';
import type { UpstreamNode } from '../upstream/node.js';
import type { ClientOffer } from './client-offer.js';
import type { ForwardContext } from './forward-context.js';
import { upstreamRequestHeaders } from './request-headers.js';
import { MAX_HEAD, parserRefusal } from './response-head.js';
import { relayedResponseHeaders } from './response-headers.js';
import { isReady, NODE_OPTION } from './upstream-agent.js';
import { classifyFailure, IdleTimeoutError } from '../upstream/upstream-error.js';

/** Methods a retry may repeat even after the request went out (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export async function forwardHttp(fc: ForwardContext, req: ProxiedRequest<any>, message: IncomingMessage, res: ServerResponse, offer: ClientOffer): Promise<ForwardResult | void> {
  const limit = fc.settings.maxBodySize;
  const declared = Number(message.headers['content-length'] ?? 0);
  if (limit > 0 && declared > limit) {
    req.log.info({ limit, declared }, 'request body too large');
    writeReply({ res }, textReply(413, 'Payload Too Large', `Request body larger than ${limit} bytes`, true));
    return { status: 413 };
  }
  return tryNodes(fc.pool, req, { res }, (node) => attemptHttp(fc, node, req, message, res, offer));
}

function attemptHttp(fc: ForwardContext, node: UpstreamNode, req: ProxiedRequest<any>, message: IncomingMessage, res: ServerResponse, offer: ClientOffer): Promise<Attempt> {
  const s = fc.settings;
  const hasBody = message.headers['transfer-encoding'] !== undefined || Number(message.headers['content-length'] ?? 0) > 0;
  return new Promise((resolve) => {
    const a = node.address;
    const upReq = http.request({
      agent: fc.pool.agent,
      host: a.host,
      port: a.port,
      socketPath: a.socketPath,
      method: req.method,
      path: fc.url ?? req.target,
      headers: upstreamRequestHeaders(req, { settings: s.headers, node, offer, extra: fc.setHeaders, keepAlive: s.keepAlive > 0 }),
      setHost: false,
      timeout: s.httpIdleMs,
      maxHeaderSize: MAX_HEAD,
      [NODE_OPTION]: node,
    } as http.RequestOptions);
    let connected = false;
    let bodyStarted = false;
    let responded = false;
    let settled = false;
    node.active++;
    const settle = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      node.active--;
      res.removeListener('close', onClientGone);
      resolve(attempt);
    };
    // The client went away (nginx `proxy_ignore_client_abort off`): the upstream request goes too.
    const onClientGone = () => {
      if (!res.writableFinished) upReq.destroy();
      settle({ done: true });
    };
    res.once('close', onClientGone);

    const startBody = () => {
      connected = true;
      if (!hasBody) return;
      bodyStarted = true;
      pumpBody(message, upReq, s.maxBodySize, () => {
        // Too large: 413 if the upstream has not answered yet, else the exchange is cut short.
        req.log.info({ limit: s.maxBodySize }, 'request body too large');
        upReq.destroy();
        if (!responded) writeReply({ res }, textReply(413, 'Payload Too Large', `Request body larger than ${s.maxBodySize} bytes`, true));
        else res.destroy();
        settle({ done: true });
      });
    };
    upReq.once('socket', (socket) => {
      if (isReady(socket)) startBody();
      else socket.once(readyEvent(socket), startBody);
    });
    if (!hasBody) upReq.end();

    upReq.on('timeout', () => upReq.destroy(new IdleTimeoutError(s.httpIdleMs)));
    upReq.on('error', (err) => {
      if (responded) {
        // The answer had started: the client sees a cut connection, as from nginx.
        req.log.warn({ upstream: a.label, err }, 'upstream failed mid-response');
        res.destroy();
        settle({ done: true });
        return;
      }
      const failure = classifyFailure(parserRefusal(err) ?? err, connected);
      const retryable = !bodyStarted && (failure.connectFailure || ((upReq.reusedSocket ?? false) && IDEMPOTENT.has(req.method)));
      settle({ done: false, failure, err, retryable });
    });
    upReq.on('response', (upRes: IncomingMessage) => {
      responded = true;
      node.recordSuccess();
      if (res.destroyed) return upReq.destroy();
      try {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, relayedResponseHeaders(upRes.rawHeaders));
      } catch (err) {
        req.log.warn({ upstream: a.label, err }, 'upstream response head not relayable');
        upReq.destroy();
        writeReply({ res }, textReply(502, 'Bad Gateway', 'upstream sent an invalid answer', true));
        return settle({ done: true });
      }
      if (req.replyClose) res.shouldKeepAlive = false;
      upRes.pipe(res);
      upRes.once('aborted', () => res.destroy());
      upRes.once('error', () => res.destroy());
      res.once('finish', () => settle({ done: true }));
    });
  });
}

/** Streams the client's body upstream with backpressure; calls `tooLarge` once past `limit` bytes (0: none). */
function pumpBody(message: IncomingMessage, upReq: http.ClientRequest, limit: number, tooLarge: () => void): void {
  let received = 0;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (limit > 0 && received > limit) {
      message.removeListener('data', onData);
      message.removeListener('end', onEnd);
      upReq.removeListener('drain', onDrain);
      tooLarge();
      return;
    }
    if (!upReq.write(chunk)) message.pause();
  };
  const onDrain = () => message.resume();
  const onEnd = () => upReq.end();
  message.on('data', onData);
  message.once('end', onEnd);
  upReq.on('drain', onDrain);
}
