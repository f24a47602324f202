/** parseXcapUri: RFC 4825 §6's document and node selectors, decoded, and the paths it refuses. */
import { describe, expect, it } from 'vitest';
import { encodeSelector, parseXcapUri } from './uri.js';
import { XcapError } from './xcap-error.js';

const refused = (path: string): [number, string] => {
  try {
    parseXcapUri(path, '/xcap-root');
  } catch (err) {
    if (err instanceof XcapError) return [err.status, err.message];
    throw err;
  }
  throw new Error(`${path} was not refused`);
};

describe('parseXcapUri', () => {
  it('reads a user\'s document and its node selector, percent-decoded (RFC 4825 §6)', () => {
    expect(parseXcapUri('/xcap-root/resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list%5B@name=%22friends%22%5D', '/xcap-root')).toEqual({
      auid: 'resource-lists',
      scope: 'users',
      xui: 'sip:joe@example.com',
      document: 'index',
      documentPath: '/xcap-root/resource-lists/users/sip:joe@example.com/index',
      selector: 'resource-lists/list[@name="friends"]',
    });
  });

  it('reads a global document, a document in folders, and an XUI with an encoded slash', () => {
    expect(parseXcapUri('/xcap-root/xcap-caps/global/index', '/xcap-root')).toMatchObject({ auid: 'xcap-caps', scope: 'global', xui: undefined, document: 'index', selector: undefined });
    expect(parseXcapUri('/xcap-root/resource-lists/users/joe/lists/work%20mates', '/xcap-root')).toMatchObject({ document: 'lists/work mates' });
    expect(parseXcapUri('/xcap-root/resource-lists/users/a%2Fb/index', '/xcap-root')).toMatchObject({ xui: 'a/b', document: 'index' });
    expect(parseXcapUri('/test/users/sip:joe@example.com/index', '')).toMatchObject({ auid: 'test', xui: 'sip:joe@example.com' });
  });

  it('leaves paths outside the root to others', () => {
    expect(parseXcapUri('/other/resource-lists/users/joe/index', '/xcap-root')).toBeUndefined();
    expect(parseXcapUri('/xcap-rootx/resource-lists/users/joe/index', '/xcap-root')).toBeUndefined();
  });

  it('is 404 for a path under the root that names no document, 400 for what cannot be read', () => {
    expect(refused('/xcap-root/resource-lists')).toEqual([404, 'not an XCAP document URI: expected <auid>/users/<xui>/<document> or <auid>/global/<document>']);
    expect(refused('/xcap-root/resource-lists/people/joe/index')).toEqual([404, 'not an XCAP document URI: "people" is neither users nor global']);
    expect(refused('/xcap-root/resource-lists/users/joe')).toEqual([404, 'not an XCAP document URI: no document name']);
    expect(refused('/xcap-root/resource-lists/global/')).toEqual([404, 'not an XCAP document URI: no document name']);
    expect(refused('/xcap-root/resource-lists/users/joe/index/~~/')).toEqual([400, 'empty node selector after /~~/']);
    expect(refused('/xcap-root/resource-lists/users/joe/index/~~')).toEqual([400, 'misplaced ~~ in the document path']);
    expect(refused('/xcap-root/resource-lists/users/joe/a//b')).toEqual([400, 'empty segment in the document path']);
    expect(refused('/xcap-root/resource-lists/users/jo%C3e/index')).toEqual([400, 'bad percent-encoding in the XUI']);
    expect(refused('/xcap-root/resource-lists/users/joe/index/~~/a%ZZ')).toEqual([400, 'bad percent-encoding in the node selector']);
  });

  it('encodes a node selector back for a URI', () => {
    expect(encodeSelector('resource-lists/list[@name="friends"]/entry[1]')).toBe('resource-lists/list%5B@name=%22friends%22%5D/entry%5B1%5D');
    expect(encodeSelector('a b/é')).toBe('a%20b/%C3%A9');
  });
});
