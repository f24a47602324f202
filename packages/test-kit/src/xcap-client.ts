/**
 * Test support: one HTTP request with node's client, on a fresh connection, with basic credentials if given,
 * and the answer read whole (the XCAP tests and S1's); the RFCs' example documents those tests share.
 */
import { request } from 'node:http';

export interface XcapAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface XcapRequest {
  readonly method?: string;
  /** Basic credentials as `user:password`. */
  readonly as?: string;
  readonly body?: string | Buffer;
  readonly type?: string;
  readonly headers?: Record<string, string>;
}

/** Sends `method path` to 127.0.0.1:`port`; the path is sent as given (already percent-encoded where needed). */
export function xcapRequest(port: number, path: string, r: XcapRequest = {}): Promise<XcapAnswer> {
  const headers: Record<string, string> = { ...r.headers };
  if (r.as !== undefined) headers.Authorization = `Basic ${Buffer.from(r.as).toString('base64')}`;
  if (r.type !== undefined) headers['Content-Type'] = r.type;
  if (r.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(r.body));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: r.method ?? 'GET', headers, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${r.method ?? 'GET'} ${path} within 5 s`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** RFC 4826 §3.3's example document, as written there. */
export const RFC4826_LISTS = `<?xml version="1.0" encoding="UTF-8"?>
   <resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <list name="friends">
     <entry uri="sip:bill@example.com">
      <display-name>Bill Doe</display-name>
     </entry>
     <entry-ref ref="resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list%5b@name=%22list1%22%5d/entry%5b@uri=%22sip:petri@example.com%22%5d"/>
     <list name="close-friends">
      <display-name>Close Friends</display-name>
      <entry uri="sip:joe@example.com">
       <display-name>Joe Smith</display-name>
      </entry>
      <entry uri="sip:nancy@example.com">
       <display-name>Nancy Gross</display-name>
      </entry>
      <external anchor="http://xcap.example.org/resource-lists/users/sip:a@example.org/index/~~/resource-lists/list%5b@name=%22mkting%22%5d">
        <display-name>Marketing</display-name>
       </external>
     </list>
    </list>
   </resource-lists>
`;

/** RFC 4826 §4.3's example document's first <service>: a service made from a resource list on the XCAP server. */
export const RFC4826_MYBUDDIES_SERVICE = `<service uri="sip:mybuddies@example.com">
  <resource-list>http://xcap.example.com/resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list%5b@name=%22l1%22%5d</resource-list>
  <packages>
   <package>presence</package>
  </packages>
 </service>`;

/** RFC 4826 §4.3's example document's second <service>: its list inline, entries in the resource-lists namespace (prefix rl). */
export const RFC4826_MARKETING_SERVICE = `<service uri="sip:marketing@example.com">
   <list name="marketing">
     <rl:entry uri="sip:joe@example.com"/>
     <rl:entry uri="sip:sudhir@example.com"/>
   </list>
   <packages>
     <package>presence</package>
   </packages>
 </service>`;

/** RFC 4826 §4.3's example document, as written there (its line-folded URI unfolded). */
export const RFC4826_RLS_SERVICES = `<?xml version="1.0" encoding="UTF-8"?>
<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"
   xmlns:rl="urn:ietf:params:xml:ns:resource-lists"
   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 ${RFC4826_MYBUDDIES_SERVICE}
 ${RFC4826_MARKETING_SERVICE}
</rls-services>`;

/**
 * RFC 4825 §6.4's example document, its namespaces: a default one, two elements `<baz>` in two namespaces and
 * a prefix (ns1) that the document binds and a node selector does not.
 */
export const RFC4825_NAMESPACES = `<?xml version="1.0"?>
<foo xmlns="urn:test:default-namespace">
  <ns1:bar xmlns:ns1="urn:test:namespace1-uri"
           xmlns="urn:test:namespace1-uri">
    <baz/>
    <ns2:baz xmlns:ns2="urn:test:namespace2-uri"/>
  </ns1:bar>
  <ns3:hi xmlns:ns3="urn:test:namespace3-uri">
    <there/>
  </ns3:hi>
</foo>`;

/** RFC 4825 §8.2.3's document for where a new element goes: an unqualified `<root>`, a comment among its children. */
export const RFC4825_INSERT_EXAMPLE = `<?xml version="1.0"?>
<root>
 <el1 att="first"/>
 <el1 att="second"/>
 <!-- comment -->
 <el2 att="first"/>
</root>`;
