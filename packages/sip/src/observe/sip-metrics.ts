import type { CounterSeries, Gateway, GaugeHandle } from '@wsgate/core';

/** Methods counted under their own name; any other (a client may send any token) is counted as `other`. */
export const COUNTED_METHODS = ['REGISTER', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'UPDATE', 'PRACK', 'REFER'] as const;

/**
 * The SIP layer's counters, as Kamailio's `sl`, `tm` and `usrloc` statistics: plain calls for the
 * registrar's and the proxy's hot paths, each a Map lookup or an array index and a number addition.
 *
 * Who counts what, so that nothing is counted twice: `request()` and `dropped()` where a WebSocket message is
 * read (the registrar's own routes, the service's message route); `response()` where a response is written
 * to a WebSocket, answered here or relayed.
 */
export interface SipMetrics {
  /** A request received (`wsgate_sip_requests_total{method}`). */
  request(method: string): void;
  /** A response sent or relayed (`wsgate_sip_responses_total{class}`, `1xx`…`6xx`). */
  response(status: number): void;
  /** A message dropped without an answer (`wsgate_sip_dropped_total{reason}`); `reason` is the caller's word, never the client's. */
  dropped(reason: string): void;
  /** What `wsgate_sip_registrations` reads at scrape: this node's bindings (the registrar gives it). */
  readRegistrations(read: () => number): GaugeHandle;
  /** What `wsgate_sip_transactions` reads at scrape: open transactions (the proxy gives it). */
  readTransactions(read: () => number): GaugeHandle;
}

/**
 * The SIP metrics on a gateway's metrics listener (summed over cluster workers). Called again after a
 * reload, it counts on in the same counters, and the newer gauge readers replace the older.
 */
export function sipMetrics(gateway: Pick<Gateway, 'metrics'>): SipMetrics {
  const m = gateway.metrics;
  const requests = m.counter({ name: 'wsgate_sip_requests_total', help: 'SIP requests received, by method', labelNames: ['method'] });
  const responses = m.counter({ name: 'wsgate_sip_responses_total', help: 'SIP responses sent or relayed, by class', labelNames: ['class'] });
  const drops = m.counter({ name: 'wsgate_sip_dropped_total', help: 'SIP messages dropped without an answer, by reason', labelNames: ['reason'] });
  const byMethod = new Map<string, CounterSeries>(COUNTED_METHODS.map((method) => [method, requests.labels(method)]));
  const otherMethod = requests.labels('other');
  // Index = status ÷ 100; 0 and 7–9 are not SIP classes, and not sent: counted as `other`.
  const otherClass = responses.labels('other');
  const byClass = Array.from({ length: 10 }, (_, c) => (c >= 1 && c <= 6 ? responses.labels(`${c}xx`) : otherClass));
  const byReason = new Map<string, CounterSeries>();
  const gauge = (name: string, help: string) => (read: () => number) => m.gauge({ name, help, read });
  return {
    request(method) {
      (byMethod.get(method) ?? otherMethod).inc();
    },
    response(status) {
      (byClass[(status / 100) | 0] ?? otherClass).inc();
    },
    dropped(reason) {
      let series = byReason.get(reason);
      if (series === undefined) byReason.set(reason, (series = drops.labels(reason)));
      series.inc();
    },
    readRegistrations: gauge('wsgate_sip_registrations', 'SIP bindings held for flows on this node'),
    readTransactions: gauge('wsgate_sip_transactions', 'SIP transactions open'),
  };
}
