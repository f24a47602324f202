/**
 * The benchmark's phone users: generated names and random passwords, written as an htdigest file (MD5 HA1,
 * `user:realm:HA1`, what Apache's `htdigest` writes), the one credentials file both servers read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { User } from './load.js';

export function makeUsers(count: number): User[] {
  const width = String(count - 1).length;
  return Array.from({ length: count }, (_, i) => ({
    user: `phone${String(i).padStart(width, '0')}`,
    password: randomBytes(9).toString('base64url'),
  }));
}

export function writeHtdigest(file: string, realm: string, users: readonly User[]): void {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  writeFileSync(file, users.map((u) => `${u.user}:${realm}:${md5(`${u.user}:${realm}:${u.password}`)}\n`).join(''), { mode: 0o600 });
}
