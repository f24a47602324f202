/**
 * What the stories' stand-in commands share (`node examples/dist/<story>/stand-in.js examples/<story>/wsgate.yaml`,
 * as the guides in docs/guides/ give them): the upstreams a story's gateway needs — a media server, cluster
 * nodes, a plain ws service — started where that story's config says they are, on this machine. They log as
 * the gateway does (JSON lines on stdout), a `listening` line once all are up; Ctrl-C or SIGTERM stops them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, readConfigFile, type Logger } from '@wsgate/core';

/** The stand-in's log, as the gateway's: one JSON object per line on stdout. */
export function standInLogger(name: string): Logger {
  return createLogger({ write: (line) => void process.stdout.write(line) }, { standIn: name });
}

/** The `script.options` of the config named on the command line: where the story's upstreams are. */
export async function storyOptions(command: string): Promise<Readonly<Record<string, unknown>>> {
  const file = process.argv[2];
  if (file === undefined) {
    console.error(`usage: node ${command} <the story's wsgate.yaml>   (starts the upstreams its script.options name)`);
    process.exit(2);
  }
  try {
    const config = (await readConfigFile(file)) as { script?: { options?: Record<string, unknown> } };
    return config.script?.options ?? {};
  } catch (err) {
    console.error(`${command}: ${(err as Error).message}`);
    process.exit(2);
  }
}

/** Host and port of `wss://127.0.0.1:8443`, `http://127.0.0.1:8081/connect` or `127.0.0.1:10001`. */
export function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `udp://${address}`);
  if (url.port === '') throw new Error(`${address}: give the port explicitly, e.g. ${url.protocol}//${url.host}:8443`);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) };
}

/** Runs until Ctrl-C or SIGTERM, then closes what it started (at most 3 s: open connections do not hold it). */
export function untilStopped(close: () => Promise<unknown>): void {
  const stop = () => {
    setTimeout(() => process.exit(0), 3000).unref();
    void close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** A certificate signed by its own key, for 127.0.0.1: nobody can verify it, as with an appliance's default one. */
export function selfSigned(name: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-stand-in-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'pipe' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
