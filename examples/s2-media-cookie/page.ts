/**
 * The page the S2 cookie example serves at `/`: it sets the `AUTH` cookie with the source documents' own
 * `setCookie()` and opens the WebSocket, as the media server's web client does.
 */

/** The source documents' function, verbatim. */
const SET_COOKIE = `function setCookie(name, value, days) { var expires = ""; if (days) { var date = new Date(); date.setTime(date.getTime() + (days*24*60*60*1000)); expires = "; expires=" + date.toUTCString(); } document.cookie = name + "=" + (value || "") + expires + "; path=/"; }`;

/**
 * `connect(url)` opens a WebSocket (by default to this page's own host, path `/ws`) and resolves with what
 * happened: `open: <first message>`, or `failed: <close code>` when the handshake was refused.
 */
const CONNECT = `function connect(url) {
  return new Promise(function (resolve) {
    var ws = new WebSocket(url || (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = function () { ws.send('hello'); };
    ws.onmessage = function (e) { resolve('open: ' + e.data); ws.close(); };
    ws.onclose = function (e) { resolve('failed: ' + e.code); };
  });
}`;

export const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>wsgate — S2 cookie token</title>
<script>
${SET_COOKIE}
${CONNECT}
</script>
<p>Call <code>setCookie('AUTH', token, 1)</code>, then <code>connect()</code>.</p>
</html>
`;
