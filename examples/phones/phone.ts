/**
 * A browser phone as the tests hold it: a Chromium page running JsSIP or SIP.js (phone-site.ts), driven through
 * the page's `window.phone` with page.evaluate. Every wait is bounded; a timed-out wait names what the page saw.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PhoneLibrary, PhoneSite } from './phone-site.js';

/** Chromium's flags for phones: headless, no network extras, a fake microphone, loopback ICE candidates. */
export const PHONE_CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // 127.0.0.1 host candidates (off by default) and a fake microphone granted without a prompt
  '--allow-loopback-in-peer-connection',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

/** What the phone pages record (browser/recorder.js). */
export interface PhoneEvent {
  type: string;
  at: number;
  [field: string]: unknown;
}

/** Audio RTP of the current call, from RTCPeerConnection.getStats(). */
export interface AudioStats {
  bytesReceived: number;
  packetsReceived: number;
  bytesSent: number;
  packetsSent: number;
  /** the address of the selected ICE candidate pair's local candidate */
  local: string | undefined;
  /** and of its remote one, or its type (`prflx`) when Chromium does not tell the address */
  remote: string | undefined;
}

interface PagePhone {
  events: PhoneEvent[];
  waitFor(spec: Record<string, unknown>, timeoutMs: number, from?: number): Promise<PhoneEvent>;
  register(user: string, password: string, timeoutMs?: number): Promise<PhoneEvent>;
  sendMessage(to: string, text: string): Promise<{ status?: number; cause?: string }>;
  call(to: string): void;
  answer(): void;
  hangup(): void;
  cancel(): void;
  waitForAudio(timeoutMs: number): Promise<AudioStats>;
}
/** The page's phone: written out in each evaluated function, which runs in the page, not here. */
type PageGlobal = { phone: PagePhone };

export class Phone {
  private constructor(
    readonly name: string,
    readonly library: PhoneLibrary,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  /** Opens a phone page in a context of its own (a separate device) and waits for its script to be ready. */
  static async open(browser: Browser, site: PhoneSite, library: PhoneLibrary, wsUrl: string, name: string): Promise<Phone> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(site.pageUrl(library, wsUrl));
    await page.waitForFunction(() => (globalThis as unknown as { phone?: unknown }).phone !== undefined, undefined, { timeout: 5000 }).catch(() => {
      throw new Error(`${name}: the ${library} phone page did not start: ${errors.join('; ') || 'no page error'}`);
    });
    return new Phone(name, library, context, page);
  }

  /** REGISTERs `user@example.com` (digest with `password` when challenged); rejects with the failure's cause. */
  register(user: string, password: string): Promise<PhoneEvent> {
    return this.page.evaluate(([u, p]) => (globalThis as unknown as PageGlobal).phone.register(u!, p!), [user, password]);
  }

  /** Sends a MESSAGE to `to@example.com`; resolves with the final status. */
  sendMessage(to: string, text: string): Promise<{ status?: number; cause?: string }> {
    return this.page.evaluate(([t, x]) => (globalThis as unknown as PageGlobal).phone.sendMessage(t!, x!), [to, text]);
  }

  call(to: string): Promise<void> {
    return this.page.evaluate((t) => (globalThis as unknown as PageGlobal).phone.call(t), to);
  }

  answer(): Promise<void> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).phone.answer());
  }

  hangup(): Promise<void> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).phone.hangup());
  }

  cancel(): Promise<void> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).phone.cancel());
  }

  /** How many events the page has recorded: pass it to waitFor() to wait only for later ones. */
  mark(): Promise<number> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).phone.events.length);
  }

  events(): Promise<PhoneEvent[]> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).phone.events);
  }

  /**
   * The first event matching every field of `spec` (from event `from` on), within `timeoutMs`; `startsWith`
   * matches the start of a `wire` event's line (`SIP/2.0 180`). Rejects naming what the page saw instead.
   */
  async waitFor(spec: Record<string, unknown>, timeoutMs: number, from = 0): Promise<PhoneEvent> {
    try {
      return await this.page.evaluate(([s, t, f]) => (globalThis as unknown as PageGlobal).phone.waitFor(s as Record<string, unknown>, t as number, f as number), [spec, timeoutMs, from] as const);
    } catch (e) {
      throw new Error(`${this.name} (${this.library}): ${e instanceof Error ? e.message.replace(/^page\.evaluate: (Error: )?/, '') : String(e)}`);
    }
  }

  /** The call's audio once packets have flowed both ways, or whatever had flowed after `timeoutMs`. */
  waitForAudio(timeoutMs: number): Promise<AudioStats> {
    return this.page.evaluate((t) => (globalThis as unknown as PageGlobal).phone.waitForAudio(t), timeoutMs);
  }

  /** Closes the tab, as a user does: the WebSocket goes with it. */
  close(): Promise<void> {
    return this.context.close();
  }
}
