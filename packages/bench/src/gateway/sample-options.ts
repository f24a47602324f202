import { fileURLToPath } from 'node:url';

/**
 * The sample route's script options as `npm start` gives them. The sample finds its htdigest next to its
 * sources; the benchmarks load the compiled examples, so the file is named here.
 */
export const SAMPLE_OPTIONS = {
  sip: { domain: 'example.com', htdigest: fileURLToPath(new URL('../../../../examples/s1-kamailio/htdigest', import.meta.url)) },
} as const;
