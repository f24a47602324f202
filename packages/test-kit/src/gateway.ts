/** Test support: a gateway on an ephemeral loopback port, with the given routes and its logs captured. */
import { createLogger, Gateway, resolveConfig, type LogFields, type Logger, type Routes } from '@wsgate/core';

export interface TestGateway {
  gateway: Gateway;
  port: number;
  url: string;
  logs: LogFields[];
  close(): Promise<void>;
}

/** Starts a gateway on 127.0.0.1:0 with `routes` and config overrides; logs are captured, not printed. */
export async function startTestGateway(routes: Routes<any> | Routes<any>[], config: Record<string, unknown> = {}): Promise<TestGateway> {
  const logs: LogFields[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (line) => void logs.push(JSON.parse(line)) });
  const resolved = resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], ...config }, process.cwd());
  const gateway = new Gateway(resolved, { logger });
  for (const r of Array.isArray(routes) ? routes : [routes]) gateway.use(r);
  await gateway.listen();
  const port = gateway.addresses()[0]!.port;
  return { gateway, port, url: `ws://127.0.0.1:${port}`, logs, close: () => gateway.close({ grace: 0.2 }) };
}
