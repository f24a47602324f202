/** Test support: the files the script loader and the CLI are tested with, in packages/test-kit/fixtures/scripts. */
import { fileURLToPath } from 'node:url';

/** The absolute path of fixtures/scripts/`name` (`''`: the folder itself, with a trailing slash). */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/scripts/${name}`, import.meta.url));
}
