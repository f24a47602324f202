/**
 * The SIP benchmark's peer: Debian's Kamailio (`/usr/sbin/kamailio`) as a WebSocket registrar and stateful
 * proxy, the way its websocket module's documentation sets one up — xhttp answers the upgrade, `ws_handle_handshake()`
 * takes it, nathelper's `fix_nated_register()`/`add_contact_alias()` tie each phone's contact to its WebSocket,
 * registrar + usrloc keep the bindings in memory, tm relays statefully, and auth answers digest challenges
 * (401 on REGISTER, 407 on other requests from a served domain) against the HA1s of an htdigest file, the file
 * wsgate's `sipDigest` reads. Kamailio has no htdigest reader: the MD5 lines are written into the config as an
 * htable filled at start. Foreground (`-DD -E`), config and runtime files in a temp folder, always stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onAllCores, stopChild, waitForPort } from '@wsgate/test-kit';
import { processTree } from './server-memory.js';

export const KAMAILIO = process.env.WSGATE_KAMAILIO ?? '/usr/sbin/kamailio';

const live = new Set<ChildProcess>();

/** Kills every Kamailio started here, at once (a failing or interrupted run). */
export function killKamailios(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

export interface KamailioOptions {
  /** The WebSocket port on 127.0.0.1. */
  readonly port: number;
  /** The SIP domain served (its registrar and proxy), also the digest realm: `example.com`. */
  readonly domain: string;
  /** An htdigest file (`user:realm:HA1`); its MD5 lines for `domain` are the users. */
  readonly htdigest: string;
  /** Other host names it takes as its own (`uri == myself`), e.g. the Request-URI host of a benchmark's OPTIONS. */
  readonly aliases?: readonly string[];
  /** The cores it runs on, a `taskset -c` list (`1`); default every core. */
  readonly cpus?: string;
  /** TCP/WebSocket worker processes; default 2, one per core of the machines this runs on. */
  readonly workers?: number;
  /** Shared memory, MiB: Kamailio keeps each connection's 64 KiB read buffer there. Default 512. */
  readonly sharedMiB?: number;
  /** Most connections at once; default 16384. */
  readonly maxConnections?: number;
  /** `debug=`: -1 errors only … 3 debug. Default -1 (a log line per request would be what is measured). */
  readonly logLevel?: number;
  /** Milliseconds to wait for the port; default 10 s. */
  readonly startTimeoutMs?: number;
}

export class Kamailio {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly stderr: () => string,
  ) {}

  static async start(options: KamailioOptions): Promise<Kamailio> {
    if (!existsSync(KAMAILIO)) {
      throw new Error(`kamailio not found at ${KAMAILIO}: install it (apt-get install -y kamailio kamailio-websocket-modules) or set WSGATE_KAMAILIO`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-kamailio-'));
    const cfg = join(dir, 'kamailio.cfg');
    writeFileSync(cfg, kamailioConfig(options, readHa1s(options.htdigest, options.domain)));
    const args = ['-f', cfg, '-DD', '-E', '-Y', dir, '-m', String(options.sharedMiB ?? 512), '-M', '16'];
    // On every core, as it would be run, unless told: the load generator may have pinned this process to one.
    const [command, ...rest] = options.cpus !== undefined ? ['taskset', '-c', options.cpus, KAMAILIO, ...args] : onAllCores([KAMAILIO, ...args]);
    const child = spawn(command!, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      // Only the last part: a long run must not grow this without bound.
      stderr = (stderr + c).slice(-20_000);
    });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`kamailio exited (${signal ?? code}) at start: ${stderr}`))),
    );
    try {
      await Promise.race([waitForPort(options.port, options.startTimeoutMs ?? 10_000, 'kamailio'), exited]);
    } catch (err) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    child.removeAllListeners('exit');
    child.once('exit', () => live.delete(child));
    return new Kamailio(dir, options.port, child, () => stderr);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The main process and every process below it (the TCP main, its workers, the timers). */
  pids(): number[] {
    return processTree(this.pid);
  }

  /** What it wrote to stderr lately (errors and warnings). */
  log(): string {
    return this.stderr();
  }

  /** SIGTERM (Kamailio ends its children), then SIGKILL if it lingers; its temp folder goes too. */
  async stop(): Promise<void> {
    await stopChild(this.child, () => this.child.kill('SIGTERM'), 5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The MD5 HA1 of each user of `realm` in an htdigest file (SHA-256 lines, 64 hex digits, are left out). */
export function readHa1s(file: string, realm: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([^:#\s][^:]*):([^:]*):([0-9a-fA-F]{32})\s*$/.exec(line);
    if (m && m[2] === realm && !users.has(m[1]!)) users.set(m[1]!, m[3]!.toLowerCase());
  }
  if (users.size === 0) throw new Error(`${file}: no MD5 htdigest line for realm ${realm} (user:${realm}:<32 hex digits>)`);
  return users;
}

/** Kamailio's config: one WebSocket listener, in-memory registrar, digest auth, tm relay. */
export function kamailioConfig(o: KamailioOptions, ha1s: ReadonlyMap<string, string>): string {
  const workers = o.workers ?? 2;
  const users = [...ha1s].map(([user, ha1]) => {
    if (!/^[A-Za-z0-9._~-]+$/.test(user)) throw new Error(`htdigest user ${JSON.stringify(user)}: only letters, digits and ._~- fit this config`);
    return `\t$sht(ha1=>${user}) = "${ha1}";`;
  });
  return `#!KAMAILIO
# Written by packages/bench/src/sip/kamailio.ts for the SIP benchmark.
debug=${o.logLevel ?? -1}
log_stderror=yes
auto_aliases=no
${[o.domain, ...(o.aliases ?? [])].map((a) => `alias="${a}"`).join('\n')}
listen=tcp:127.0.0.1:${o.port}
children=1
tcp_children=${workers}
tcp_accept_no_cl=yes
tcp_connection_lifetime=3605
tcp_max_connections=${o.maxConnections ?? 16384}
open_files_limit=${(o.maxConnections ?? 16384) + 1024}
dns=no
rev_dns=no
use_dns_cache=no

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "nathelper.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"

modparam("usrloc", "db_mode", 0)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("auth", "secret", "wsgate-bench-${process.pid}")
modparam("htable", "htable", "ha1=>size=${Math.max(4, Math.ceil(Math.log2(ha1s.size + 1)))};")
modparam("websocket", "keepalive_mechanism", 0)

event_route[htable:mod-init] {
${users.join('\n')}
}

event_route[xhttp:request] {
	set_reply_close();
	set_reply_no_connect();
	if ($Rp != ${o.port}) {
		xhttp_reply("403", "Forbidden", "", "");
		exit;
	}
	if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
		if (ws_handle_handshake()) exit;
	}
	xhttp_reply("404", "Not Found", "", "");
}

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	# Every phone is on a WebSocket: tie its contact to the connection (websocket module's docs).
	if (nat_uac_test("64")) {
		force_rport();
		if (is_method("REGISTER")) {
			fix_nated_register();
		} else if (is_present_hf("Contact") && !add_contact_alias()) {
			sl_send_reply("400", "Bad Contact");
			exit;
		}
	}
	if (has_totag()) {
		if (loose_route()) {
			handle_ruri_alias();
			t_relay();
		} else if (is_method("ACK")) {
			if (t_check_trans()) t_relay();
		} else {
			sl_send_reply("404", "Not Here");
		}
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) t_relay();
		exit;
	}
	if (is_method("OPTIONS") && uri == myself && $rU == $null) {
		sl_send_reply("200", "Keepalive");
		exit;
	}
	t_check_trans();
	if (is_method("REGISTER")) {
		if (!(uri == myself)) {
			sl_send_reply("403", "Not A Served Domain");
			exit;
		}
		# No credentials or an unknown user: a challenge (checked first, so that no error is logged).
		if ($au == $null || $sht(ha1=>$au) == $null || !pv_www_authenticate("$td", "$sht(ha1=>$au)", "1")) {
			www_challenge("$td", "1");
			exit;
		}
		if ($au != $tU) {
			sl_send_reply("403", "Forbidden Auth ID");
			exit;
		}
		consume_credentials();
		if (!save("location")) sl_reply_error();
		exit;
	}
	if (from_uri == myself) {
		if ($au == $null || $sht(ha1=>$au) == $null || !pv_proxy_authenticate("$fd", "$sht(ha1=>$au)", "1")) {
			proxy_challenge("$fd", "1");
			exit;
		}
		if ($au != $fU) {
			sl_send_reply("403", "Forbidden Auth ID");
			exit;
		}
		consume_credentials();
	}
	if (!(uri == myself)) {
		sl_send_reply("403", "Relaying Forbidden");
		exit;
	}
	if (is_method("INVITE|SUBSCRIBE")) record_route();
	if (!lookup("location")) {
		switch ($rc) {
			case -1:
			case -3:
				t_newtran();
				t_reply("404", "Not Found");
				exit;
			case -2:
				sl_send_reply("405", "Method Not Allowed");
				exit;
		}
	}
	if (!t_relay()) sl_reply_error();
	exit;
}
`;
}
