import type { Connection, ConnectionDirectory } from '@wsgate/core';

/**
 * Where a branch goes (RFC 5626's flow): a phone's WebSocket, held by this process or by another gateway that
 * shares the connection directory. The proxy sends over it and matches responses by its connection id, which
 * a shared directory makes unique across nodes.
 */
export interface Flow {
  readonly id: number;
  /** `WSS` in this proxy's Via when the WebSocket is over TLS (known only for this process's own) */
  readonly secure: boolean;
  /** still worth sending on: an open local WebSocket; a remote one until its holder says otherwise */
  readonly open: boolean;
  /** Sends one SIP message; false, at once or later, when the flow is gone. */
  send(bytes: Buffer): boolean | Promise<boolean>;
}

const TEXT = { binary: false } as const;

/** A WebSocket of this process. */
export function localFlow(conn: Connection): Flow {
  return {
    id: conn.id,
    secure: conn.listener.tls,
    get open() {
      return conn.state === 'open';
    },
    send: (bytes) => conn.state === 'open' && (conn.send(bytes, TEXT), true),
  };
}

/** A WebSocket another gateway holds: messages go through the shared directory (Redis) to its holder. */
export function remoteFlow(id: number, directory: ConnectionDirectory): Flow {
  return {
    id,
    secure: false,
    open: true,
    send: (bytes) => directory.send(id, bytes.toString('utf8'), TEXT),
  };
}
