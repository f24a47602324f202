/** Test support: credentials files written by Apache's own tools, as they are found in the wild. */

/** `htpasswd -B -C 5`, `-m`, `-s` and `-p`: the passwords are `b0b-bcrypt`, `amy-apr1`, `sam-sha`, `pat-plain`. */
export const APACHE_HTPASSWD = [
  '# users of the media server',
  'bob:$2y$05$JoHAqFrYPkZlWWYZ.H.LzOpCTrSSawRy9IGQX9ePhgWy7Xv3FRGl6',
  'amy:$apr1$NzYF/mcl$S/FTLP/JsCBVn.1PVPVP90',
  '',
  'sam:{SHA}gMxwR5QqjSnLKt6VB4+v6B2CbNk=\r',
  'pat:pat-plain',
].join('\n');

/** The same without the plain-text line, which needs `plain: true`. */
export const HASHED_HTPASSWD = APACHE_HTPASSWD.replace('\npat:pat-plain', '');

/** `htdigest` for user `dee`, realm `media`, password `dee-digest`: MD5, and the SHA-256 HA1 of the same string. */
export const HTDIGEST = [
  'dee:media:645f4e671ac6ce0c3edbe83409443e89',
  'dee:media:b79b4ac11d51cb75fc5b62e5742ff863578bbea60d3e14bc8a0c337ae25302f4',
  'md5only:media:' + '0'.repeat(32),
  'dee:other-realm:' + 'f'.repeat(32),
].join('\n');
