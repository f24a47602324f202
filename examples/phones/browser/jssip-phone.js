/**
 * A browser phone on JsSIP, as a web softphone builds one: one UA over a `sip` WebSocket to the gateway,
 * REGISTER with digest, MESSAGE, and audio calls with the fake microphone. The test drives it through
 * `window.phone` (page.evaluate); every outcome lands in `phone.events`.
 */
import JsSIP from 'jssip';
import { audioStats, events, loopbackOnly, record, traceWebSockets, waitFor, waitForAudio, wire } from './recorder.js';

traceWebSockets();
const wsUrl = new URL(location.href).searchParams.get('ws');
const DOMAIN = 'example.com';
const MEDIA = { audio: true, video: false };
// No STUN or TURN server: loopback host candidates are all a call on this machine needs.
const PC_CONFIG = { iceServers: [] };

let ua;
let session;

function watch(s) {
  session = s;
  s.on('sdp', (e) => {
    // The only hook where JsSIP lets the SDP it is about to send be changed ('icecandidate' can only end
    // gathering early: JsSIP sends pc.localDescription, with every candidate gathered).
    if (e.originator === 'local') e.sdp = loopbackOnly(e.sdp);
  });
  s.on('progress', (e) => record('progress', { originator: e.originator, status: e.response?.status_code }));
  s.on('accepted', (e) => record('accepted', { originator: e.originator, status: e.response?.status_code }));
  s.on('confirmed', (e) => record('confirmed', { originator: e.originator }));
  s.on('ended', (e) => record('ended', { originator: e.originator, cause: e.cause }));
  s.on('failed', (e) => record('failed', { originator: e.originator, cause: e.cause, status: e.message?.status_code }));
}

window.phone = {
  lib: 'jssip',
  events,
  wire,
  waitFor,

  /** Starts the UA and registers `user@example.com`; resolves on 200, rejects with the cause otherwise. */
  register(user, password, timeoutMs = 10_000) {
    if (!wsUrl) throw new Error('the page needs ?ws=<gateway WebSocket URL>');
    ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(wsUrl)],
      uri: `sip:${user}@${DOMAIN}`,
      password,
      register: true,
      session_timers: false,
      user_agent: 'JsSIP phone (wsgate e2e)',
    });
    ua.on('registered', (e) => record('registered', { status: e.response.status_code }));
    ua.on('registrationFailed', (e) => record('registrationFailed', { cause: e.cause, status: e.response?.status_code }));
    ua.on('newMessage', (e) => {
      if (e.originator === 'remote') record('message', { from: e.request.from.uri.toString(), body: e.request.body });
    });
    ua.on('newRTCSession', (e) => {
      if (e.originator === 'remote') record('incoming', { from: e.request.from.uri.toString() });
      watch(e.session);
    });
    ua.start();
    return Promise.race([waitFor({ type: 'registered' }, timeoutMs), waitFor({ type: 'registrationFailed' }, timeoutMs)]).then((e) => {
      if (e.type !== 'registered') throw new Error(`registration failed: ${e.cause} (${e.status})`);
      return e;
    });
  },

  /** Sends a MESSAGE; resolves with the final status (and cause when it failed). */
  sendMessage(to, text) {
    return new Promise((resolve) => {
      ua.sendMessage(`sip:${to}@${DOMAIN}`, text, {
        eventHandlers: {
          succeeded: (e) => resolve({ status: e.response.status_code }),
          failed: (e) => resolve({ status: e.response?.status_code, cause: e.cause }),
        },
      });
    });
  },

  /** Starts an audio call to `to@example.com`; what follows is in the events. */
  call(to) {
    ua.call(`sip:${to}@${DOMAIN}`, { mediaConstraints: MEDIA, pcConfig: PC_CONFIG });
  },

  answer() {
    if (!session || session.direction !== 'incoming') throw new Error('no incoming call to answer');
    session.answer({ mediaConstraints: MEDIA, pcConfig: PC_CONFIG });
  },

  /** Ends an established call (BYE). */
  hangup() {
    if (!session?.isEstablished()) throw new Error('no established call to hang up');
    session.terminate();
  },

  /** Cancels an outgoing call that has not been answered (CANCEL). */
  cancel() {
    if (!session || session.direction !== 'outgoing' || session.isEstablished()) throw new Error('no ringing outgoing call to cancel');
    session.terminate();
  },

  audio: () => audioStats(session?.connection),
  waitForAudio: (timeoutMs) => waitForAudio(session?.connection, timeoutMs),
};
record('ready', { lib: 'jssip' });
