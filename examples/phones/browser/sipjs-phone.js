/**
 * A browser phone on SIP.js (0.21 API: UserAgent, Registerer, Inviter, Invitation, Messager) with the same
 * `window.phone` as jssip-phone.js, so the tests drive either the same way.
 */
import { Inviter, Messager, Registerer, SessionState, UserAgent, Web } from 'sip.js';
import { audioStats, events, loopbackOnly, record, traceWebSockets, waitFor, waitForAudio, wire } from './recorder.js';

traceWebSockets();
const wsUrl = new URL(location.href).searchParams.get('ws');
const DOMAIN = 'example.com';
const MEDIA = { constraints: { audio: true, video: false } };

/**
 * SIP.js's sessionDescriptionHandlerModifiers run before ICE gathering (the SDP they see has no candidate
 * yet) and SIP.js then sends pc.localDescription; so the loopback filter sits where the SDP to send is read.
 */
class LoopbackSessionDescriptionHandler extends Web.SessionDescriptionHandler {
  getLocalSessionDescription() {
    return super.getLocalSessionDescription().then((d) => ({ type: d.type, sdp: loopbackOnly(d.sdp) }));
  }
}

let ua;
let session;

/** Records a session's life in the events jssip-phone.js records (SIP.js reports states, not causes). */
function watch(s) {
  session = s;
  let established = false;
  let byeReceived = false;
  let canceled = false;
  s.delegate = {
    // A delegate's onBye takes over the answer from SIP.js: accept the BYE as SIP.js does without one.
    onBye: (bye) => {
      byeReceived = true;
      void bye.accept();
    },
    onCancel: () => void (canceled = true),
  };
  s.stateChange.addListener((state) => {
    if (state === SessionState.Established) {
      established = true;
      record('confirmed', {});
    } else if (state === SessionState.Terminated) {
      if (established) record('ended', { originator: byeReceived ? 'remote' : 'local', cause: 'Terminated' });
      else if (canceled || s.localCanceled) record('failed', { originator: canceled ? 'remote' : 'local', cause: 'Canceled' });
      else if (!events.some((e) => e.type === 'failed')) record('failed', { originator: 'remote', cause: 'Terminated' });
    }
  });
}

window.phone = {
  lib: 'sipjs',
  events,
  wire,
  waitFor,

  async register(user, password, timeoutMs = 10_000) {
    if (!wsUrl) throw new Error('the page needs ?ws=<gateway WebSocket URL>');
    ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${user}@${DOMAIN}`),
      transportOptions: { server: wsUrl },
      authorizationUsername: user,
      authorizationPassword: password,
      userAgentString: 'SIP.js phone (wsgate e2e)',
      logLevel: new URL(location.href).searchParams.get('log') ?? 'warn',
      sessionDescriptionHandlerFactory: (s) =>
        new LoopbackSessionDescriptionHandler(s.userAgent.getLogger('sip.SessionDescriptionHandler'), Web.defaultMediaStreamFactory(), {
          // No STUN server (SIP.js's default is a public one): loopback host candidates suffice here.
          peerConnectionConfiguration: { iceServers: [] },
          iceGatheringTimeout: 5000,
        }),
      delegate: {
        onInvite(invitation) {
          record('incoming', { from: invitation.remoteIdentity.uri.toString() });
          watch(invitation);
        },
        onMessage(message) {
          record('message', { from: message.request.from.uri.toString(), body: message.request.body });
          void message.accept();
        },
      },
    });
    await ua.start();
    const registerer = new Registerer(ua, { regId: 1 });
    await registerer.register({
      requestDelegate: {
        onAccept: (r) => record('registered', { status: r.message.statusCode }),
        onReject: (r) => record('registrationFailed', { status: r.message.statusCode, cause: r.message.reasonPhrase }),
      },
    });
    const e = await Promise.race([waitFor({ type: 'registered' }, timeoutMs), waitFor({ type: 'registrationFailed' }, timeoutMs)]);
    if (e.type !== 'registered') throw new Error(`registration failed: ${e.cause} (${e.status})`);
    return e;
  },

  sendMessage(to, text) {
    return new Promise((resolve) => {
      void new Messager(ua, UserAgent.makeURI(`sip:${to}@${DOMAIN}`), text).message({
        requestDelegate: {
          onAccept: (r) => resolve({ status: r.message.statusCode }),
          onReject: (r) => resolve({ status: r.message.statusCode, cause: r.message.reasonPhrase }),
        },
      });
    });
  },

  call(to) {
    const inviter = new Inviter(ua, UserAgent.makeURI(`sip:${to}@${DOMAIN}`), { sessionDescriptionHandlerOptions: MEDIA });
    watch(inviter);
    void inviter.invite({
      requestDelegate: {
        onProgress: (r) => record('progress', { originator: 'remote', status: r.message.statusCode }),
        onAccept: (r) => record('accepted', { originator: 'remote', status: r.message.statusCode }),
        onReject: (r) => record('failed', { originator: 'remote', cause: r.message.reasonPhrase, status: r.message.statusCode }),
      },
    });
  },

  answer() {
    if (!session || session instanceof Inviter) throw new Error('no incoming call to answer');
    void session.accept({ sessionDescriptionHandlerOptions: MEDIA });
  },

  hangup() {
    if (session?.state !== SessionState.Established) throw new Error('no established call to hang up');
    void session.bye();
  },

  cancel() {
    if (!(session instanceof Inviter) || session.state === SessionState.Established) throw new Error('no ringing outgoing call to cancel');
    session.localCanceled = true;
    void session.cancel();
  },

  audio: () => audioStats(session?.sessionDescriptionHandler?.peerConnection),
  waitForAudio: (timeoutMs) => waitForAudio(session?.sessionDescriptionHandler?.peerConnection, timeoutMs),
};
record('ready', { lib: 'sipjs' });
